/**
 * One bad client must not hurt anyone else, on `npm run serve` over real TCP: a flooding socket,
 * a socket that stops reading. Latencies are compared within the test (medians of the same
 * client with and without the abuse), never against absolute times.
 */
import { connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { EdgePushClient } from "../../client";
import { CLOSE_TOO_SLOW } from "../../src/contract/protocol";
import { FRAMES_AFTER_CLOSE } from "../../src/room/frame-budget";
import { buildOnce, median, servePush, serveToken, startServing, type Serving } from "./serve-helpers";

/** CLIENT_FRAMES_PER_10S unset, as under `npm run serve` (src/env.ts). */
const DEFAULT_FRAMES_PER_10S = 2000;

let serving: Serving;

beforeAll(async () => {
  // A 1 MiB outbound bound, so a few hundred KB pushes reach it quickly.
  serving = await startServing(buildOnce(), { vars: ["OUTBOUND_MAX_BYTES:1048576"] });
}, 120_000);
afterAll(() => serving?.stop());

function open(query: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${serving.wsUrl}/ws?${query}`, { perMessageDeflate: false });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

const socketOf = (ws: WebSocket) => (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pushes `n` messages one at a time to `uid`'s socket `ws`; each one's latency to arrival. */
async function latencies(ws: WebSocket, uid: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const tag = `${uid}-${i}-${Math.random()}`;
    const arrived = new Promise<number>((resolve) => {
      const onMessage = (raw: WebSocket.RawData) => {
        if (!String(raw).includes(tag)) return;
        ws.off("message", onMessage);
        resolve(performance.now());
      };
      ws.on("message", onMessage);
    });
    const sent = performance.now();
    expect((await servePush(serving, { uid, data: tag, ttl: 0 })).status).toBe(200);
    out.push((await arrived) - sent);
    await sleep(10);
  }
  return out;
}

describe("A flood of frames from one socket", () => {
  it("Should leave another client's push latency within 3x of its median without the flood", async () => {
    const bystander = await open(`token=${serveToken("bystander")}`);
    const quiet = median(await latencies(bystander, "bystander", 40));
    const flooder = await open(`token=${serveToken("flooder")}`);
    socketOf(flooder).pause(); // never reads its answers, nor the server's close
    let flooding = true;
    let sent = 0;
    let cutOff = false;
    flooder.on("error", () => {});
    flooder.on("close", () => (cutOff = true));
    const burst = () => {
      if (!flooding || flooder.readyState !== WebSocket.OPEN) return;
      for (let i = 0; i < 2000 && flooder.bufferedAmount < 1 << 20; i++, sent++) flooder.send("{}");
      setImmediate(burst);
    };
    burst();
    const during = median(await latencies(bystander, "bystander", 40));
    flooding = false;
    // More frames than the budget (then closed) and the grace after its close went out, and the
    // server cut the flooder off (it never read the close, so only a reset stops it).
    expect(sent).toBeGreaterThan(DEFAULT_FRAMES_PER_10S + FRAMES_AFTER_CLOSE);
    expect(cutOff).toBe(true);
    expect(serving.output()).toContain('"event":"room_reset","room":"uid:flooder"');
    // A flood that got through would hold the one workerd thread for hundreds of ms; 20 ms of
    // slack absorbs another test's process spawning during one of the two phases.
    expect(during).toBeLessThanOrEqual(3 * Math.max(quiet, 1) + 20);
    // Coming straight back, it is refused for a while (CUT_OFF_MS) instead of flooding again.
    const again = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${serving.wsUrl}/ws?token=${serveToken("flooder")}`);
      ws.once("open", () => (ws.terminate(), resolve(101)));
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("error", () => {});
    });
    expect(again).toBe(429);
    expect((await fetch(`${serving.url}/health`)).status).toBe(200);
    bystander.close();
    flooder.terminate();
  }, 60_000);
});

describe("A socket that stops reading", () => {
  const group = "firehose";
  const payload = "y".repeat(16 * 1024);
  const count = 150; // 2.4 MB: more than twice the 1 MiB bound

  it("Should be closed 4003 while the readers receive everything, and resume with nothing lost", async () => {
    const token = serveToken("reader", [group]);
    // A raw reader that acknowledges as the client library does, and the library itself.
    const raw = await open(`token=${token}&group=${group}`);
    const rawSeen = new Set<number>();
    let unacked = 0;
    raw.on("message", (m) => {
      const text = String(m);
      unacked += text.length;
      const frame = JSON.parse(text);
      if (frame.type === "push") rawSeen.add(frame.data.i);
      if (unacked >= 64 * 1024) (raw.send(JSON.stringify({ type: "ack", bytes: unacked })), (unacked = 0));
    });
    const library = new EdgePushClient({ url: serving.url, getToken: () => token, backoff: { minDelay: 50, maxDelay: 200 } });
    const librarySeen: number[] = [];
    library.on("message", (m) => librarySeen.push((m.data as { i: number }).i));
    await library.join(group);

    // The slow one is the client library on a socket whose reading is paused, then resumed.
    let slowSocket: WebSocket | null = null;
    class PausableWebSocket extends WebSocket {
      constructor(url: string) {
        super(url, { perMessageDeflate: false });
        slowSocket ??= this;
      }
    }
    const slow = new EdgePushClient({
      url: serving.url, getToken: () => token, WebSocket: PausableWebSocket as unknown as typeof globalThis.WebSocket,
      backoff: { minDelay: 50, maxDelay: 200 },
    });
    const slowSeen: number[] = [];
    const slowCloses: number[] = [];
    slow.on("message", (m) => slowSeen.push((m.data as { i: number }).i));
    slow.on("close", (e) => slowCloses.push(e.code));
    await slow.join(group);
    // And a raw socket that never reads at all.
    const stalled = await open(`token=${token}&group=${group}`);
    socketOf(stalled).pause();
    socketOf(slowSocket!).pause();
    const connections = async () => ((await (await fetch(`${serving.url}/groups/${group}`, {
      headers: { Authorization: "Bearer serve-push-secret" } })).json()) as { connections: number }).connections;
    expect(await connections()).toBe(4);

    for (let i = 0; i < count; i++) expect((await servePush(serving, { group, data: { i, payload } })).status).toBe(200);
    // The two readers are still there; the two that stopped reading were dropped.
    expect(await connections()).toBe(2);
    expect(serving.output()).toContain('"event":"socket_too_slow"');
    const deadline = Date.now() + 20_000;
    while ((rawSeen.size < count || librarySeen.length < count) && Date.now() < deadline) await sleep(50);
    expect(rawSeen.size).toBe(count);
    expect(librarySeen).toEqual(Array.from({ length: count }, (_, i) => i));

    // Reading again, the library gets what was queued, then 4003, then resumes with since.
    socketOf(slowSocket!).resume();
    while (slowSeen.length < count && Date.now() < deadline + 20_000) await sleep(50);
    expect(slowCloses).toContain(CLOSE_TOO_SLOW);
    expect(slowSeen).toEqual(Array.from({ length: count }, (_, i) => i));
    const stalledClose = new Promise<number>((resolve) => stalled.once("close", resolve));
    socketOf(stalled).resume();
    expect(await stalledClose).toBe(CLOSE_TOO_SLOW);
    raw.close();
    library.close();
    slow.close();
  }, 90_000);
});

/** Writes a whole `POST /push` of `size` bytes, as a client that reads only afterwards; then reads the answer. */
async function uploadThenRead(size: number, chunked: boolean): Promise<{ written: boolean; answer: string }> {
  const socket = tcpConnect(Number(new URL(serving.url).port), "127.0.0.1");
  let answer = "";
  socket.on("data", (d) => (answer += d));
  const closed = new Promise((resolve) => socket.on("close", resolve));
  socket.on("error", () => {});
  const write = (text: string) => new Promise<void>((resolve, reject) => socket.write(text, (err) => (err ? reject(err) : resolve())));
  const piece = "x".repeat(64 * 1024);
  const pieces = Math.ceil(size / piece.length);
  const head = `POST /push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer serve-push-secret\r\nContent-Type: application/json\r\nConnection: close\r\n`;
  let written = true;
  try {
    if (chunked) {
      await write(`${head}Transfer-Encoding: chunked\r\n\r\n14\r\n{"uid":"u","data":"x\r\n`);
      for (let i = 0; i < pieces; i++) await write(`10000\r\n${piece}\r\n`);
      await write('2\r\n"}\r\n0\r\n\r\n');
    } else {
      await write(`${head}Content-Length: ${20 + pieces * piece.length + 2}\r\n\r\n{"uid":"u","data":"x`);
      for (let i = 0; i < pieces; i++) await write(piece);
      await write('"}');
    }
  } catch {
    written = false;
  }
  await closed;
  return { written, answer };
}

describe("An upload over MAX_BODY_BYTES", () => {
  for (const chunked of [true, false]) {
    it(`Should be answered 413 too_large, not reset, when the client writes all of it first (${chunked ? "chunked" : "Content-Length"})`, async () => {
      // 12 MB: well past the 1 MiB limit, within what the Worker reads and drops before answering.
      const { written, answer } = await uploadThenRead(12_000_000, chunked);
      expect(written).toBe(true);
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer).toContain('"code":"too_large"');
    }, 60_000);
  }
});
