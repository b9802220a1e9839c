import { sign } from "hono/jwt";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2E_PUSH_SECRET, E2E_TOKEN_SECRET, startWranglerDev, type DevServer } from "./wrangler-dev";

let server: DevServer;
beforeAll(async () => {
  server = await startWranglerDev();
});
afterAll(async () => {
  await server?.stop();
});

function open(url: string): Promise<{ ws: WebSocket; messages: string[]; next: (n: number) => Promise<string[]> }> {
  const ws = new WebSocket(url);
  const messages: string[] = [];
  ws.addEventListener("message", (e) => messages.push(String(e.data)));
  const next = async (n: number) => {
    const deadline = Date.now() + 10_000;
    while (messages.length < n) {
      if (Date.now() > deadline) throw new Error(`have ${messages.length} of ${n} messages`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return messages.slice(0, n);
  };
  return new Promise((resolve, reject) => {
    ws.addEventListener("open", () => resolve({ ws, messages, next }));
    ws.addEventListener("error", () => reject(new Error(`could not connect to ${url}`)));
  });
}

const push = (body: unknown) =>
  fetch(`${server.url}/push`, {
    method: "POST",
    headers: { Authorization: `Bearer ${E2E_PUSH_SECRET}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });

describe("wrangler dev end to end", () => {
  it("Should push to real WebSocket clients by uid and by group", async () => {
    const exp = Math.floor(Date.now() / 1000) + 300;
    const t1 = await sign({ sub: "e2e-1", exp, groups: ["lobby"] }, E2E_TOKEN_SECRET, "HS256");
    const t2 = await sign({ sub: "e2e-2", exp, groups: ["lobby"] }, E2E_TOKEN_SECRET, "HS256");
    const a = await open(`${server.wsUrl}/ws?token=${t1}`);
    const b = await open(`${server.wsUrl}/ws?token=${t2}&group=lobby`);
    const [initA] = await a.next(1);
    expect(JSON.parse(initA)).toMatchObject({ type: "init", uid: "e2e-1", room: "uid:e2e-1" });

    const res = await push({ uid: "e2e-1", data: { n: 1 } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, delivered: 1 });
    expect(JSON.parse((await a.next(2))[1])).toMatchObject({ type: "push", data: { n: 1 } });

    expect(await (await push({ group: "lobby", data: "all of you" })).json()).toMatchObject({ delivered: 1 });
    expect(JSON.parse((await b.next(2))[1]).data).toBe("all of you");
    a.ws.close();
    b.ws.close();
  });

  it("Should keep a socket open past 100 malformed frames in 10 s, answering the first 100 and then none", async () => {
    const exp = Math.floor(Date.now() / 1000) + 300;
    const token = await sign({ sub: "e2e-malformed", exp }, E2E_TOKEN_SECRET, "HS256");
    const client = await open(`${server.wsUrl}/ws?token=${token}`);
    await client.next(1); // init
    let closed = false;
    client.ws.addEventListener("close", () => (closed = true));
    // Under the frame budget (2000 per 10 s by default), over the 100 answers per window.
    for (let i = 0; i < 300; i++) client.ws.send(i % 2 ? "{}" : "not json");
    await client.next(101);
    const sentinel = `after-${Date.now()}`;
    expect(await (await push({ uid: "e2e-malformed", data: sentinel, ttl: 0 })).json()).toMatchObject({ delivered: 1 });
    await client.next(102);
    await new Promise((r) => setTimeout(r, 100));
    const frames = client.messages.slice(1).map((m) => JSON.parse(m));
    expect(frames.slice(0, 100).every((f) => f.type === "error" && ["bad_frame", "unknown_type"].includes(f.code))).toBe(true);
    expect(frames.slice(100)).toEqual([expect.objectContaining({ type: "push", data: sentinel })]);
    expect({ closed, state: client.ws.readyState }).toEqual({ closed: false, state: WebSocket.OPEN });
    client.ws.close();
  });

  it("Should refuse a connection without a valid token with 401", async () => {
    const res = await rawUpgrade(`${server.url}/ws?token=bad`);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).error.code).toBe("unauthorized");
  });

  it("Should deliver the seed's raw line to a legacy uid handshake", async () => {
    const c = await open(`${server.wsUrl}/ws`);
    c.ws.send("seed-uid");
    const line = '{"uid":"seed-uid","percent":"88%"}';
    let answer: any = { delivered: 0 };
    for (let i = 0; i < 50 && answer.delivered === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      answer = await (await fetch(`${server.url}/push`, { method: "POST", headers: { Authorization: `Bearer ${E2E_PUSH_SECRET}`, "Content-Type": "application/json" }, body: line })).json();
    }
    expect(answer.delivered).toBe(1);
    expect(await c.next(1)).toEqual([line]);
    c.ws.close();
  });
});

/** An upgrade request whose refusal we can read (fetch may not send Upgrade in Node). */
function rawUpgrade(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" },
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, body: "" });
    });
    req.on("error", reject);
    req.end();
  });
}
