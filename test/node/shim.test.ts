import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startShim, type Shim, type ShimOptions } from "../../shim/server";
import {
  FAKE_SECRET, SENTINEL_UID, connectBackend, sentinel, sleep, startFakeEdgepush, waitFor, type FakeEdgepush,
} from "./shim-helpers";

let edge: FakeEdgepush;
let shim: Shim;
let logged: string[];

async function start(options: Partial<ShimOptions> = {}): Promise<Shim> {
  await shim?.close(0);
  shim = await startShim({
    host: "127.0.0.1",
    port: 0,
    url: edge.url,
    secret: FAKE_SECRET,
    maxLineBytes: 64 * 1024,
    log: (line) => logged.push(line),
    ...options,
  });
  return shim;
}

beforeEach(async () => {
  logged = [];
  edge = await startFakeEdgepush();
  await start();
});
afterEach(async () => {
  await shim.close(0);
  await edge.close();
});

const seedLine = (uid: string, extra = "") => `{"uid":"${uid}","percent":"88%"${extra}}`;
/** What the fake edgepush received, without the sentinels' lines. */
const pushed = () => edge.received.filter((r) => !r.body.includes(SENTINEL_UID));

describe("shim answers", () => {
  it("Should answer ok for a live uid and fail for an offline one, one line each", async () => {
    const backend = await connectBackend(shim.port);
    backend.socket.write(`${seedLine("on-1")}\n${seedLine("off-1")}\n`);
    expect(await backend.lines(2)).toEqual(["ok", "fail"]);
    expect(logged).toEqual([expect.stringMatching(/line 2: uid "off-1": reached no live connection/)]);
  });

  it("Should answer with exactly ok\\n, what the seed's fread($client, 8192) reads", async () => {
    const backend = await connectBackend(shim.port);
    backend.socket.write(`${seedLine("on-1")}\n`);
    await backend.lines(1);
    expect(backend.text()).toBe("ok\n");
  });

  it("Should forward the line byte for byte with the Bearer secret and a JSON content type", async () => {
    const line = '{"uid":"on-php","url":"http:\\/\\/example.com","name":"\\u00e9t\\u00e9"}';
    const backend = await connectBackend(shim.port);
    backend.socket.write(`${line}\r\n`);
    expect(await backend.lines(1)).toEqual(["ok"]);
    expect(edge.received).toEqual([{ body: line, authorization: `Bearer ${FAKE_SECRET}`, contentType: "application/json" }]);
  });
});

describe("shim framing", () => {
  it("Should reassemble lines written one byte at a time", async () => {
    const backend = await connectBackend(shim.port);
    const text = `${seedLine("on-a", ',"t":"☃"')}\r\n${seedLine("off-b")}\n`;
    for (const byte of Buffer.from(text)) {
      backend.socket.write(Buffer.from([byte]));
      await sleep(1);
    }
    expect(await backend.lines(2)).toEqual(["ok", "fail"]);
    expect(edge.received.map((r) => r.body)).toEqual([seedLine("on-a", ',"t":"☃"'), seedLine("off-b")]);
  });

  it("Should pipeline 10,000 lines on one connection and answer each in order", async () => {
    const backend = await connectBackend(shim.port);
    const uids = Array.from({ length: 10_000 }, (_, i) => (i % 3 === 0 ? `off-${i}` : `on-${i}`));
    backend.socket.write(uids.map((uid) => `{"uid":"${uid}","n":1}\n`).join(""));
    const answers = await backend.lines(10_000);
    expect(answers).toEqual(uids.map((uid) => (uid.startsWith("on") ? "ok" : "fail")));
    // Lines that queue up behind the call in flight go together: a few batch calls, in order.
    const sent = edge.received.flatMap((r) => [JSON.parse(r.body)].flat().map((m: { uid: string }) => m.uid));
    expect(sent).toEqual(uids);
    expect(edge.received.length).toBeLessThan(100);
    expect(edge.connections).toBe(1);
  });

  it("Should keep one keep-alive connection to edgepush for a backend pushing one line at a time", async () => {
    const backend = await connectBackend(shim.port);
    for (let i = 1; i <= 20; i++) {
      backend.socket.write(`${seedLine(`on-${i}`)}\n`);
      await backend.lines(i);
    }
    expect(edge.received).toHaveLength(20);
    expect(edge.connections).toBe(1);
  });

  it("Should answer in input order when later lines are settled first", async () => {
    edge.hold("on-slow");
    const backend = await connectBackend(shim.port);
    backend.socket.write(`${seedLine("on-slow")}\n{bad json\n${seedLine("on-next")}\n`);
    await edge.waitForRequests(1);
    await waitFor(() => logged.find((l) => l.includes("line 2:")), "line 2 settled");
    await sentinel(shim.port);
    expect(logged).toEqual([expect.stringMatching(/line 2: line is not valid JSON/)]);
    expect(backend.text()).toBe("");
    edge.release("on-slow");
    expect(await backend.lines(3)).toEqual(["ok", "fail", "ok"]);
  });

  it("Should push a pipelining backend's lines in the order written, batching those that wait", async () => {
    edge.hold("on-first");
    const backend = await connectBackend(shim.port);
    const rest = ["on-2", "off-3", "on-4", "on-5"].map((uid) => seedLine(uid));
    backend.socket.write(`${seedLine("on-first")}\n${rest.join("\n")}\n`);
    await edge.waitForRequests(1);
    await sentinel(shim.port);
    expect(pushed()).toHaveLength(1);
    edge.release("on-first");
    expect(await backend.lines(5)).toEqual(["ok", "ok", "fail", "ok", "ok"]);
    expect(pushed().map((r) => r.body)).toEqual([seedLine("on-first"), `[${rest.join(",")}]`]);
  });

  it("Should push many backends' lines concurrently", async () => {
    edge.hold("on-a");
    const [a, b] = [await connectBackend(shim.port), await connectBackend(shim.port)];
    a.socket.write(`${seedLine("on-a")}\n`);
    await edge.waitForRequests(1);
    b.socket.write(`${seedLine("on-b")}\n`);
    expect(await b.lines(1)).toEqual(["ok"]);
    edge.release("on-a");
    expect(await a.lines(1)).toEqual(["ok"]);
  });
});

describe("shim bad input", () => {
  it("Should answer fail for bad JSON, a non-object and an empty line without calling edgepush", async () => {
    const backend = await connectBackend(shim.port);
    backend.socket.write(`{"uid":\n[1,2]\n\n${seedLine("on-after")}\n`);
    expect(await backend.lines(4)).toEqual(["fail", "fail", "fail", "ok"]);
    expect(edge.received.map((r) => r.body)).toEqual([seedLine("on-after")]);
    expect(logged).toEqual([
      expect.stringMatching(/line 1: line is not valid JSON/),
      expect.stringMatching(/line 2: line is JSON but not an object/),
      expect.stringMatching(/line 3: empty line/),
    ]);
  });

  it("Should answer fail for a line over the limit and keep the connection usable", async () => {
    await start({ maxLineBytes: 1024 });
    const backend = await connectBackend(shim.port);
    const huge = seedLine("on-huge", `,"pad":"${"x".repeat(256 * 1024)}"`);
    for (let i = 0; i < huge.length; i += 16 * 1024) backend.socket.write(huge.slice(i, i + 16 * 1024));
    backend.socket.write(`\n${seedLine("on-next")}\n`);
    expect(await backend.lines(2)).toEqual(["fail", "ok"]);
    expect(edge.received.map((r) => r.body)).toEqual([seedLine("on-next")]);
    expect(logged).toEqual([expect.stringMatching(/line 1: line of \d+ bytes is over the 1024-byte limit/)]);
  });

  it("Should answer fail and say why when edgepush refuses the secret, never logging the secret", async () => {
    await start({ secret: "not-the-secret" });
    const backend = await connectBackend(shim.port);
    backend.socket.write(`${seedLine("on-1")}\n`);
    expect(await backend.lines(1)).toEqual(["fail"]);
    expect(logged).toEqual([expect.stringMatching(/uid "on-1": HTTP 401 unauthorized: wrong PUSH_SECRET/)]);
    expect(logged.join("\n")).not.toContain("not-the-secret");
  });

  it("Should answer fail when edgepush is unreachable and keep serving", async () => {
    await start({ url: "http://127.0.0.1:1" });
    const backend = await connectBackend(shim.port);
    backend.socket.write(`${seedLine("on-1")}\n${seedLine("on-2")}\n`);
    expect(await backend.lines(2)).toEqual(["fail", "fail"]);
    expect(logged[0]).toMatch(/edgepush unreachable at http:\/\/127\.0\.0\.1:1/);
  });
});

describe("shim connections", () => {
  it("Should push every complete line of a backend that disconnects abruptly, and drop the unfinished one", async () => {
    edge.hold("on-1");
    const backend = await connectBackend(shim.port);
    const cut = '{"uid":"on-cut';
    backend.socket.write(`${seedLine("on-1")}\n${seedLine("off-2")}\n${seedLine("on-3")}\n${cut}`);
    await edge.waitForRequests(1);
    backend.socket.resetAndDestroy();
    const left = await waitFor(() => logged.find((l) => l.includes(" left: ")), "the log line about the lost connection");
    expect(left).toMatch(new RegExp(`left: 3 answers undelivered .*; an unfinished line of ${cut.length} bytes dropped`));
    edge.release("on-1");
    const uids = () => edge.received.flatMap((r) => [JSON.parse(r.body)].flat().map((m: { uid: string }) => m.uid));
    await waitFor(() => (uids().length >= 3 ? true : undefined), "the lines after the held one");
    // The next backend's line is the sentinel: once it is answered, nothing of the first is still on its way.
    const next = await connectBackend(shim.port);
    next.socket.write(`${seedLine("on-4")}\n`);
    expect(await next.lines(1)).toEqual(["ok"]);
    expect(uids()).toEqual(["on-1", "off-2", "on-3", "on-4"]);
  });

  it("Should answer a backend that half-closes after its last line, then close", async () => {
    const backend = await connectBackend(shim.port);
    backend.socket.end(`${seedLine("on-1")}\n${seedLine("off-2")}\n`);
    await backend.closed;
    expect(backend.text()).toBe("ok\nfail\n");
  });

  it("Should serve many backends at once, each answered in its own order", async () => {
    const backends = await Promise.all(Array.from({ length: 50 }, () => connectBackend(shim.port)));
    backends.forEach((b, i) => b.socket.write(Array.from({ length: 20 }, (_, j) => `${seedLine(j % 2 ? `on-${i}` : `off-${i}`)}\n`).join("")));
    for (const b of backends) {
      expect(await b.lines(20)).toEqual(Array.from({ length: 20 }, (_, j) => (j % 2 ? "ok" : "fail")));
    }
    expect(edge.received.flatMap((r) => [JSON.parse(r.body)].flat())).toHaveLength(1000);
  });
});

describe("shim --batch-ms", () => {
  it("Should coalesce single lines from many backends into batch calls, answering each", async () => {
    await start({ batchMs: 50 });
    const backends = await Promise.all(Array.from({ length: 20 }, () => connectBackend(shim.port)));
    backends.forEach((b, i) => b.socket.write(`${seedLine(i % 2 ? `on-${i}` : `off-${i}`)}\n`));
    for (const [i, b] of backends.entries()) expect(await b.lines(1)).toEqual([i % 2 ? "ok" : "fail"]);
    expect(edge.received.length).toBeLessThan(20);
    const sent = edge.received.flatMap((r) => [JSON.parse(r.body)].flat().map((m: { uid: string }) => m.uid));
    expect(sent.sort()).toEqual(backends.map((_, i) => (i % 2 ? `on-${i}` : `off-${i}`)).sort());
  });

  it("Should carry an escaped seed line inside a batch with its text unchanged", async () => {
    await start({ batchMs: 50 });
    const escaped = '{"uid":"on-php","url":"http:\\/\\/x"}';
    const [a, b] = [await connectBackend(shim.port), await connectBackend(shim.port)];
    a.socket.write(`${escaped}\n`);
    b.socket.write(`${seedLine("on-1")}\n`);
    expect(await a.lines(1)).toEqual(["ok"]);
    expect(await b.lines(1)).toEqual(["ok"]);
    // One call, in whichever order the two connections' lines arrived, the escapes kept.
    expect(edge.received).toHaveLength(1);
    expect([`[${escaped},${seedLine("on-1")}]`, `[${seedLine("on-1")},${escaped}]`]).toContain(edge.received[0].body);
  });
});

describe("shim lanes", () => {
  it("Should batch the lines that queued behind a slow push, escaped ones included, in order", async () => {
    edge.hold("on-first");
    const escaped = '{"uid":"on-php","url":"http:\\/\\/x"}';
    const backend = await connectBackend(shim.port);
    backend.socket.write(`${seedLine("on-first")}\n${seedLine("on-2")}\n${escaped}\n${seedLine("on-3")}\n${seedLine("on-4")}\n`);
    await edge.waitForRequests(1);
    edge.release("on-first");
    expect(await backend.lines(5)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    expect(edge.received.map((r) => r.body)).toEqual([
      seedLine("on-first"),
      `[${seedLine("on-2")},${escaped},${seedLine("on-3")},${seedLine("on-4")}]`,
    ]);
  });
});
