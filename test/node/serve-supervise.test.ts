/**
 * `npm run serve` as an unlucky operator runs it: under a low open-file limit it keeps serving and
 * refuses the excess with 503; a workerd killed under it comes back and clients resume.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { EdgePushClient, type PushMessage } from "../../client";
import { buildOnce, servePush, serveToken, startServing, type Serving } from "./serve-helpers";

let dist: string;
beforeAll(() => {
  dist = buildOnce();
}, 120_000);

/** Opens a socket; resolves with it, or with the HTTP status of a refused upgrade. */
function connect(serving: Serving, query: string): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${serving.wsUrl}/ws?${query}`, { perMessageDeflate: false });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.once("error", () => resolve(0));
  });
}

/** The JSON body of a refused upgrade. */
function refusalBody(serving: Serving, query: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${serving.wsUrl}/ws?${query}`);
    ws.once("open", () => (ws.terminate(), reject(new Error("the upgrade was accepted"))));
    ws.once("unexpected-response", (_req, res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve(JSON.parse(text)));
    });
    ws.once("error", () => {});
  });
}

describe("npm run serve under a low open-file limit", () => {
  let serving: Serving;
  beforeAll(async () => {
    serving = await startServing(dist, { ulimit: 512 });
  }, 120_000);
  afterAll(() => serving?.stop());

  it("Should print the capacity it computed from the limit", () => {
    expect(serving.output()).toMatch(/open-file limit 512 \(soft = hard\): room for about 131 WebSockets in group rooms or 52 each alone in a uid room \(FD_BUDGET 262\)/);
  });

  it("Should refuse the excess with 503 server_full, keep serving, and accept again once sockets leave", async () => {
    const pid = serving.workerdPid();
    const open: WebSocket[] = [];
    const refused: number[] = [];
    // One uid each: MAX_SOCKETS_PER_UID (100) is not what this is about.
    const token = (i: number) => serveToken(`crowd-${i}`, ["crowd"]);
    for (let i = 0; i < 160; i++) {
      const result = await connect(serving, `token=${token(i)}&group=crowd`);
      if (typeof result === "number") refused.push(result);
      else open.push(result);
    }
    // 2 files per socket and 3 for the room within FD_BUDGET 262, the Worker keeping room for a new room (3 more).
    expect(open.length).toBe(128);
    expect(new Set(refused)).toEqual(new Set([503]));
    expect(await refusalBody(serving, `token=${token(0)}&group=crowd`)).toMatchObject({ error: { code: "server_full" } });
    // Still the same workerd, still answering, still pushing to everyone it holds.
    expect((await fetch(`${serving.url}/health`)).status).toBe(200);
    expect(serving.workerdPid()).toBe(pid);
    expect(serving.output()).not.toContain("exited unexpectedly");
    expect((await servePush(serving, { group: "crowd", data: "still here", ttl: 0 })).json).toMatchObject({ delivered: 128 });
    // Ten leave; ten more get in.
    await Promise.all(open.splice(0, 10).map((ws) => new Promise((r) => (ws.once("close", r), ws.close()))));
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 10; i++) {
      const result = await connect(serving, `token=${token(200 + i)}&group=crowd`);
      expect(typeof result).toBe("object");
      open.push(result as WebSocket);
    }
    expect(await connect(serving, `token=${token(300)}&group=crowd`)).toBe(503);
    for (const ws of open) ws.terminate();
  }, 90_000);
});

describe("npm run serve when workerd dies", () => {
  let serving: Serving;
  beforeAll(async () => {
    serving = await startServing(dist);
  }, 120_000);
  afterAll(() => serving?.stop());

  it("Should restart workerd, say so, and let a client resume with nothing lost", async () => {
    const client = new EdgePushClient({ url: serving.url, getToken: () => serveToken("survivor"), backoff: { minDelay: 100, maxDelay: 500 } });
    const messages: PushMessage[] = [];
    const opens: boolean[] = [];
    client.on("message", (m) => messages.push(m));
    client.on("open", (e) => opens.push(e.resumed));
    await client.connect();
    expect((await servePush(serving, { uid: "survivor", data: "before" })).status).toBe(200);
    const pid = serving.workerdPid();
    const mark = serving.output().length;
    process.kill(pid, "SIGKILL");
    await serving.waitFor("[edgepush] workerd exited unexpectedly (SIGKILL); restarting it", 10_000, mark);
    await serving.waitFor("[edgepush] workerd is serving again", 30_000, mark);
    expect(serving.workerdPid()).not.toBe(pid);
    // Pushed while the client is still reconnecting: kept in the uid room's log, replayed by since.
    let answer = await servePush(serving, { uid: "survivor", data: "after" });
    for (let i = 0; i < 50 && answer.status !== 200; i++) answer = await servePush(serving, { uid: "survivor", data: "after" });
    expect(answer.status).toBe(200);
    const deadline = Date.now() + 20_000;
    while (messages.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(messages.map((m) => m.data)).toEqual(["before", "after"]);
    expect(opens).toEqual([false, true]);
    expect(serving.child.exitCode).toBeNull();
    client.close();
  }, 90_000);
});
