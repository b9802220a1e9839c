import { env, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/worker";
import { Client, api, connect, push, receivedBefore, sleep, token, upgrade } from "./helpers";
import { eventually, getJson } from "./presence-helpers";

async function refused(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.webSocket).toBeNull();
  expect(((await res.json()) as any).error.code).toBe(code);
}

describe("GET /ws authentication", () => {
  it("Should refuse a missing token with 401 when the legacy handshake is off", async () => {
    const res = await worker.fetch(
      new Request("https://x/ws", { headers: { Upgrade: "websocket" } }),
      { ...env, LEGACY_UID_HANDSHAKE: undefined },
    );
    await refused(res, 401, "unauthorized");
  });

  it("Should refuse a token signed with another secret", async () => {
    await refused(await upgrade(`token=${await token("u", {}, "other-secret")}`), 401, "unauthorized");
  });

  it("Should refuse an expired token", async () => {
    const res = await upgrade(`token=${await token("u", { exp: Math.floor(Date.now() / 1000) - 10 })}`);
    await refused(res, 401, "unauthorized");
  });

  it("Should refuse a token without exp", async () => {
    await refused(await upgrade(`token=${await token("u", { exp: undefined })}`), 401, "unauthorized");
  });

  it("Should say a string or null exp must be a number rather than that the token expired", async () => {
    for (const exp of [String(Math.floor(Date.now() / 1000) + 600), null]) {
      const res = await upgrade(`token=${await token("u", { exp })}`);
      expect(res.status).toBe(401);
      expect(((await res.json()) as any).error.message).toMatch(/^token exp must be a number/);
    }
  });

  it("Should refuse a token whose sub is not a valid uid", async () => {
    await refused(await upgrade(`token=${await token("bad uid")}`), 401, "unauthorized");
  });

  it("Should refuse garbage as a token", async () => {
    await refused(await upgrade("token=not.a.jwt"), 401, "unauthorized");
  });

  it("Should refuse a group the token does not allow with 403", async () => {
    await refused(await upgrade(`token=${await token("u", { groups: ["a"] })}&group=b`), 403, "forbidden");
  });

  it("Should refuse an invalid group name with 400", async () => {
    await refused(await upgrade(`token=${await token("u", { groups: ["a"] })}&group=a%20b`), 400, "invalid_name");
  });

  it("Should refuse a bad since or format with 400", async () => {
    const t = await token("u");
    await refused(await upgrade(`token=${t}&since=-1`), 400, "bad_request");
    await refused(await upgrade(`token=${t}&format=xml`), 400, "bad_request");
  });

  it("Should judge the token before the Upgrade header, so a plain GET learns why", async () => {
    const plain = (query: string) => exports.default.fetch(`https://x/ws?${query}`);
    await refused(await plain("token=bad"), 401, "unauthorized");
    await refused(await plain(`token=${await token("u", { groups: ["a"] })}&group=b`), 403, "forbidden");
    await refused(await plain(`token=${await token("u")}`), 426, "upgrade_required");
  });

  it("Should answer 426 to a plain GET /ws", async () => {
    const res = await exports.default.fetch("https://x/ws");
    expect(res.status).toBe(426);
  });

  it("Should refuse an Origin outside ALLOWED_ORIGINS with 403 and accept a listed one", async () => {
    const withOrigins = { ...env, ALLOWED_ORIGINS: "https://app.example, https://admin.example" };
    const t = await token("origin-user");
    const call = (origin: string) =>
      worker.fetch(new Request(`https://x/ws?token=${t}`, { headers: { Upgrade: "websocket", Origin: origin } }), withOrigins);
    await refused(await call("https://evil.example"), 403, "forbidden");
    const ok = await call("https://admin.example");
    expect(ok.status).toBe(101);
    ok.webSocket!.accept();
    ok.webSocket!.close();
  });

  it("Should answer 500 misconfigured naming TOKEN_SECRET when it is missing", async () => {
    const res = await worker.fetch(
      new Request(`https://x/ws?token=${await token("u")}`, { headers: { Upgrade: "websocket" } }),
      { ...env, TOKEN_SECRET: undefined },
    );
    expect(res.status).toBe(500);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("misconfigured");
    expect(body.error.message).toContain("TOKEN_SECRET");
  });

  it("Should answer every backend call 500 misconfigured naming TOKEN_SECRET when only it is missing", async () => {
    const res = await worker.fetch(
      new Request("https://x/online/u1", { headers: { Authorization: "Bearer test-push-secret" } }),
      { ...env, TOKEN_SECRET: undefined },
    );
    expect(res.status).toBe(500);
    expect(((await res.json()) as any).error).toMatchObject({ code: "misconfigured", message: expect.stringContaining("TOKEN_SECRET") });
  });

  it("Should answer every backend call 500 misconfigured naming PUSH_SECRET when it is missing", async () => {
    for (const path of ["/push", "/online/u1", "/token"]) {
      const res = await worker.fetch(new Request(`https://x${path}`, { method: "POST", headers: { Authorization: "Bearer " } }), { ...env, PUSH_SECRET: undefined });
      expect(res.status).toBe(500);
      expect(((await res.json()) as any).error.message).toContain("PUSH_SECRET");
    }
  });
});

describe("Client frames", () => {
  it("Should answer ping with pong", async () => {
    const { client } = await connect("pinger");
    client.send("ping");
    expect(await client.waitFor(1)).toEqual(["pong"]);
  });

  it("Should answer a malformed frame with an error frame and keep the socket open", async () => {
    const { client } = await connect("bad-framer");
    client.send("{not json");
    client.send('{"type":"dance"}');
    client.send(new Uint8Array([1, 2, 3]).buffer);
    client.send('{"type":"publish","data":1}');
    const frames = (await client.waitFor(4)).map((f) => JSON.parse(f));
    expect(frames.map((f) => f.code)).toEqual(["bad_frame", "unknown_type", "binary_not_supported", "not_allowed"]);
    expect(frames.every((f) => f.type === "error" && typeof f.message === "string")).toBe(true);
    expect(client.closeCode).toBeNull();
    expect((await push({ uid: "bad-framer", data: "still here" })).delivered).toBe(1);
  });

  it("Should close a socket that sends a frame over the size limit with 1009", async () => {
    const { client } = await connect("big-framer");
    client.send("x".repeat(70_000));
    expect(await client.closed()).toBe(1009);
  });
});

describe("Frame budget", () => {
  it("Should count every frame, answer the first over the budget with budget_exceeded and close 1008", async () => {
    const { client } = await connect("flooder");
    for (let i = 0; i < 150; i++) client.send("{}");
    expect(await client.closed()).toBe(1008);
    const codes = client.messages.map((m) => JSON.parse(m).code);
    // 100 frames within the budget get their unknown_type answers; then one budget_exceeded and nothing more.
    expect(codes.filter((c) => c === "unknown_type")).toHaveLength(100);
    expect(codes.slice(100)).toEqual(["budget_exceeded"]);
    expect(JSON.parse(client.messages[100]).message).toContain("CLIENT_FRAMES_PER_10S");
  });

  it("Should count bytes too: a few large frames past CLIENT_BYTES_PER_10S close the socket", async () => {
    const { client } = await connect("big-sender", { groups: ["bytes"], group: "bytes" });
    const frame = JSON.stringify({ type: "publish", data: "x".repeat(60_000), echo: false });
    for (let i = 0; i < 6; i++) client.send(frame);
    expect(await client.closed()).toBe(1008);
    expect(client.messages.map((m) => JSON.parse(m).code)).toEqual(["budget_exceeded"]);
  });

  it("Should leave the other sockets of the room alone", async () => {
    const bystander = await connect("flood-room", { groups: ["flood"], group: "flood" });
    const flooder = await connect("flood-room", { groups: ["flood"], group: "flood" });
    for (let i = 0; i < 120; i++) flooder.client.send("x");
    expect(await flooder.client.closed()).toBe(1008);
    expect((await push({ group: "flood", data: "still here" })).delivered).toBe(1);
    expect((await bystander.client.json(0)).data).toBe("still here");
  });
});

describe("Outbound bound", () => {
  const big = "x".repeat(60_000);

  it("Should close 4003 a socket that never acknowledges once it was sent OUTBOUND_MAX_BYTES in a window", async () => {
    const { client } = await connect("silent-reader");
    let delivered = 0;
    for (let i = 0; i < 20 && client.closeCode === null; i++) delivered += (await push({ uid: "silent-reader", data: big, ttl: 0 })).delivered;
    expect(await client.closed()).toBe(4003);
    expect(client.closeReason).toContain("since");
    // 1 000 000 characters at about 60 000 each: the 17th message is the first past the bound.
    expect(delivered).toBe(17);
    expect((await api("/online/silent-reader").then((r) => r.json())) as object).toMatchObject({ connections: 0 });
  });

  it("Should keep open a socket that acknowledges what it reads, far past the bound", async () => {
    const { client } = await connect("acking-reader");
    for (let i = 0; i < 40; i++) {
      await push({ uid: "acking-reader", data: big, ttl: 0 });
      const frame = (await client.waitFor(i + 1))[i];
      client.send(JSON.stringify({ type: "ack", bytes: frame.length }));
    }
    await sleep(50);
    expect(client.closeCode).toBeNull();
    expect(client.messages).toHaveLength(40);
  });

  it("Should close an acknowledging socket that falls more than the bound behind", async () => {
    const { client } = await connect("lagging-reader");
    client.send(JSON.stringify({ type: "ack", bytes: 0 }));
    await sleep(20);
    for (let i = 0; i < 50 && client.closeCode === null; i++) {
      await push({ uid: "lagging-reader", data: big, ttl: 0 });
      // Acknowledges only half of each message.
      if (client.messages[i] && client.ws.readyState === WebSocket.OPEN) {
        client.send(JSON.stringify({ type: "ack", bytes: client.messages[i].length / 2 }));
      }
      await sleep(5);
    }
    expect(await client.closed()).toBe(4003);
  });
});

describe("Token expiry", () => {
  it("Should close a socket with 4002 at its first use after its token expired, and not before, with no alarm", async () => {
    const exp = Math.ceil(Date.now() / 1000) + 2; // at least 2 s of life: connect and the first push fit
    const res = await upgrade(`token=${await token("expiring", { exp })}`);
    const client = new Client(res.webSocket!);
    await client.json(0);
    expect(await push({ uid: "expiring", data: "before", ttl: 0 })).toMatchObject({ delivered: 1 });
    // No alarm per token: an idle socket costs nothing (issue 14); it is closed when next used.
    expect(await runInDurableObject(env.ROOMS.getByName("uid:expiring"), (_i, state) => state.storage.getAlarm())).toBeNull();
    while (Date.now() <= exp * 1000) await sleep(100);
    expect(client.closeCode).toBeNull();
    // The push after expiry reaches nobody: the socket is closed first, the message queued for the uid.
    expect(await push({ uid: "expiring", data: "after" })).toMatchObject({ delivered: 0, queued: 1 });
    expect(await client.closed(5000)).toBe(4002);
    expect(client.closeReason).toContain("new token");
    expect(client.messages.slice(1).map((m) => JSON.parse(m).data)).toEqual(["before"]);
  });
});

describe("Process capacity (FD_BUDGET)", () => {
  it("Should refuse an upgrade with 503 server_full when the process is at its budget", async () => {
    const req = new Request(`https://x/ws?token=${await token("capped")}`, { headers: { Upgrade: "websocket" } });
    const res = await worker.fetch(req, { ...env, FD_BUDGET: "4" });
    await refused(res, 503, "server_full");
    expect((await worker.fetch(req.clone(), { ...env, FD_BUDGET: "1000000" })).status).toBe(101);
  });
});

describe("Group rooms", () => {
  it("Should relay a publish to every socket with the sender's uid from its token", async () => {
    const groups = ["chat1"];
    const a = await connect("amy", { groups, group: "chat1" });
    const b = await connect("bob", { groups, group: "chat1" });
    a.client.send(JSON.stringify({ type: "publish", data: { text: "hi" }, from: "mallory" }));
    for (const { client } of [a, b]) {
      expect(await client.json(0)).toMatchObject({ type: "push", data: { from: "amy", data: { text: "hi" } } });
    }
  });

  it("Should not echo a publish to its sender when echo is false", async () => {
    const groups = ["chat2"];
    const a = await connect("amy", { groups, group: "chat2" });
    const b = await connect("bob", { groups, group: "chat2" });
    a.client.send(JSON.stringify({ type: "publish", data: "quiet", echo: false }));
    expect((await b.client.json(0)).data).toEqual({ from: "amy", data: "quiet" });
    expect(await receivedBefore(a.client, a.init)).toEqual([]);
  });

  it("Should answer publishes over the rate limit with rate_limited and close at twice the limit", async () => {
    const { client } = await connect("spammer", { groups: ["spam"], group: "spam" });
    for (let i = 0; i < 45; i++) client.send(JSON.stringify({ type: "publish", data: i, echo: false }));
    expect(await client.closed()).toBe(1008);
    const codes = client.messages.map((m) => JSON.parse(m).code);
    expect(codes).toContain("rate_limited");
  });
});

describe("Legacy uid handshake", () => {
  it("Should take the first frame as the uid and send raw payloads only", async () => {
    const res = await upgrade("");
    expect(res.status).toBe(101);
    const client = new Client(res.webSocket!);
    client.send("legacy-1");
    let answer = { delivered: 0 } as Record<string, any>;
    for (let i = 0; i < 40 && answer.delivered === 0; i++) {
      await sleep(25);
      answer = await (await api("/push", { method: "POST", body: '{"uid":"legacy-1","percent":"88%"}' })).json();
    }
    expect(answer.delivered).toBe(1);
    await push({ uid: "legacy-1", data: { a: 1 } });
    expect(await client.waitFor(2)).toEqual(['{"uid":"legacy-1","percent":"88%"}', '{"a":1}']);
    const online = (await (await api("/online/legacy-1")).json()) as any;
    expect(online).toEqual({ uid: "legacy-1", online: true, connections: 1 });
  });

  it("Should close a legacy socket whose first frame is not a valid uid", async () => {
    const client = new Client((await upgrade("")).webSocket!);
    client.send("not a uid!");
    expect(await client.closed()).toBe(1008);
  });
});

describe("Connection limits", () => {
  it("Should refuse the connection over MAX_SOCKETS_PER_UID with 429 and accept again after one leaves", async () => {
    const t = await token("greedy");
    const sockets: WebSocket[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await upgrade(`token=${t}`);
      expect(res.status).toBe(101);
      res.webSocket!.accept();
      sockets.push(res.webSocket!);
    }
    await refused(await upgrade(`token=${t}`), 429, "too_many_connections");
    sockets[0].close(1000, "bye");
    await eventually(() => getJson("/online/greedy"), (o) => o.connections === 19);
    expect((await upgrade(`token=${t}`)).status).toBe(101);
  });

  it("Should refuse the connection over MAX_SOCKETS_PER_ROOM with 503 room_full", async () => {
    const groups = ["crowded"];
    for (let i = 0; i < 60; i++) {
      const res = await upgrade(`token=${await token(`crowd-${i}`, { groups })}&group=crowded`);
      expect(res.status).toBe(101);
      res.webSocket!.accept();
    }
    await refused(await upgrade(`token=${await token("crowd-late", { groups })}&group=crowded`), 503, "room_full");
  });
});
