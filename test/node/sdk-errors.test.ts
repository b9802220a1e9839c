/** The SDK's error paths against a real `wrangler dev`, with a faulty proxy for lost answers and 5xx. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EdgePush, EdgePushError } from "../../sdk";
import { E2E_PUSH_SECRET, E2E_TOKEN_SECRET, freePort, startWranglerDev, type DevServer } from "../e2e/wrangler-dev";
import { openClient, startFaultProxy, type FaultProxy } from "./sdk-helpers";

let server: DevServer;
let proxy: FaultProxy;

beforeAll(async () => {
  server = await startWranglerDev();
  proxy = await startFaultProxy(server.url);
});
afterEach(() => {
  proxy.faults.length = 0;
  proxy.bodies.length = 0;
});
afterAll(async () => {
  await proxy?.close();
  await server?.stop();
});

const sdk = (options: Partial<ConstructorParameters<typeof EdgePush>[0]> = {}) =>
  new EdgePush({ url: server.url, secret: E2E_PUSH_SECRET, tokenSecret: E2E_TOKEN_SECRET, retryDelayMs: 5, ...options });

/** The EdgePushError that `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<EdgePushError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(EdgePushError);
  return err as EdgePushError;
}

describe("EdgePush SDK errors", () => {
  it("Should throw 401 unauthorized for a wrong secret, without retrying", async () => {
    const err = await failure(sdk({ url: proxy.url, secret: "wrong" }).toUid("u1", 1));
    expect(err).toMatchObject({ name: "EdgePushError", status: 401, code: "unauthorized", attempts: 1 });
    expect(err.message).toMatch(/PUSH_SECRET/);
    expect(proxy.bodies).toHaveLength(1);
  });

  it("Should throw 400 invalid_name for a uid outside the name rule", async () => {
    const err = await failure(sdk().toUid("no spaces allowed", 1));
    expect(err).toMatchObject({ status: 400, code: "invalid_name" });
    expect(err.message).toMatch(/uid/);
    expect(await failure(sdk().online("bad name"))).toMatchObject({ status: 400, code: "invalid_name" });
  });

  it("Should throw 400 bad_request naming the field of a wrong shape", async () => {
    const err = await failure(sdk().toUid("u1", 1, { ttl: -5 }));
    expect(err).toMatchObject({ status: 400, code: "bad_request" });
    expect(err.message).toMatch(/ttl/);
    expect((await failure(sdk().toUids([], 1))).code).toBe("bad_request");
  });

  it("Should throw 413 too_large for a payload over MAX_PAYLOAD_BYTES", async () => {
    const err = await failure(sdk().toUid("u1", "x".repeat(70 * 1024)));
    expect(err).toMatchObject({ status: 413, code: "too_large", attempts: 1 });
  });

  it("Should refuse to sign a token with a bad uid or ttl before any request", async () => {
    expect(await failure(sdk().signClientToken({ uid: "bad uid" }))).toMatchObject({ status: 400, code: "invalid_name", attempts: 0 });
    expect((await failure(sdk().signClientToken({ uid: "u1", ttl: 0 }))).code).toBe("bad_request");
  });

  it("Should retry a network error and then throw network_error naming the URL", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const err = await failure(sdk({ url, retries: 2 }).toUid("u1", 1));
    expect(err).toMatchObject({ status: 0, code: "network_error", attempts: 3 });
    expect(err.message).toContain(url);
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it("Should retry a cut connection with the same id and succeed", async () => {
    proxy.faults.push("reset");
    const result = await sdk({ url: proxy.url }).toUid("u-reset", "hi");
    expect(result.ok).toBe(true);
    const ids = proxy.bodies.map((b) => JSON.parse(b).id);
    expect(ids).toEqual([result.id, result.id]);
  });

  it("Should retry a lost answer with the same id, and the server delivers it once", async () => {
    const { token } = await sdk().signClientToken({ uid: "u-lost" });
    const client = await openClient(`${server.wsUrl}/ws?token=${token}`);
    await client.next(1);
    proxy.faults.push("lose-answer");

    const result = await sdk({ url: proxy.url }).toUid("u-lost", { order: 42 });
    expect(result).toMatchObject({ ok: true, duplicate: true });
    expect(proxy.bodies.map((b) => JSON.parse(b).id)).toEqual([result.id, result.id]);
    await sdk().toUid("u-lost", "next");
    expect((await client.next(3)).slice(1).map((m) => JSON.parse(m).data)).toEqual([{ order: 42 }, "next"]);
    client.ws.close();
  });

  it("Should retry 503 unavailable with the same id in every item of a batch", async () => {
    const unavailable = { status: 503, body: JSON.stringify({ error: { code: "unavailable", message: "retry" } }) };
    proxy.faults.push(unavailable, unavailable);
    const results = await sdk({ url: proxy.url }).batch([{ uid: "u-b1", data: 1 }, { group: "g-b", data: 2, id: "mine" }]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    const sent = proxy.bodies.map((b) => JSON.parse(b).map((m: { id: string }) => m.id));
    expect(sent).toHaveLength(3);
    expect(sent[0][1]).toBe("mine");
    expect(sent[1]).toEqual(sent[0]);
    expect(sent[2]).toEqual(sent[0]);
  });

  it("Should give up after the retries with the last 5xx's code and status", async () => {
    proxy.faults.push("lose-answer", "lose-answer", "lose-answer");
    const err = await failure(sdk({ url: proxy.url, retries: 2 }).toUid("u-gone", 1));
    expect(err).toMatchObject({ status: 502, code: "bad_response", attempts: 3 });
  });

  it("Should send a message without an id once, never retried, when autoId is false", async () => {
    proxy.faults.push("lose-answer");
    const err = await failure(sdk({ url: proxy.url, autoId: false }).toUid("u-noid", 1));
    expect(err).toMatchObject({ status: 502, code: "bad_response", attempts: 1 });
    expect(proxy.bodies.map((b) => JSON.parse(b))).toEqual([{ uid: "u-noid", data: 1 }]);
    const kept = await sdk({ url: proxy.url, autoId: false }).toUid("u-noid", 2, { id: "given" });
    expect(kept).toMatchObject({ ok: true, id: "given" });
  });

  it("Should not retry 500 misconfigured: a retry cannot set a secret", async () => {
    proxy.faults.push({ status: 500, body: JSON.stringify({ error: { code: "misconfigured", message: "PUSH_SECRET is not set" } }) });
    const err = await failure(sdk({ url: proxy.url }).stats());
    expect(err).toMatchObject({ status: 500, code: "misconfigured", attempts: 1, retryable: false });
    expect(proxy.bodies).toHaveLength(1);
  });

  it("Should time out an attempt that never answers, retry, and throw timeout", async () => {
    proxy.faults.push("hang", "hang");
    const err = await failure(sdk({ url: proxy.url, timeoutMs: 300, retries: 1 }).isOnline("u1"));
    expect(err).toMatchObject({ status: 0, code: "timeout", attempts: 2 });
  });

  it("Should refuse to construct without a URL or a secret", () => {
    expect(() => new EdgePush({ url: "", secret: "s" })).toThrow(/url/);
    expect(() => new EdgePush({ url: "127.0.0.1:8787", secret: "s" })).toThrow(/http/);
    expect(() => new EdgePush({ url: "http://127.0.0.1:8787", secret: "" })).toThrow(/PUSH_SECRET/);
  });
});
