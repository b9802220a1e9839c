/** The server SDK inside the Workers runtime: a Worker calling edgepush through a fetch it is given (a service binding). */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EdgePush, EdgePushError } from "../sdk";
import { Client, PUSH_SECRET, TOKEN_SECRET, upgrade } from "./helpers";

const binding: typeof fetch = (input, init) => exports.default.fetch(new Request(input, init));
const push = new EdgePush({ url: "https://edgepush.test", secret: PUSH_SECRET, tokenSecret: TOKEN_SECRET, fetch: binding, retryDelayMs: 1 });

describe("EdgePush SDK in the Workers runtime", () => {
  it("Should sign a token with WebCrypto that the Worker accepts, and push to that client", async () => {
    const { token } = await push.signClientToken({ uid: "sdk-worker", groups: ["sdk-worker-room"], ttl: 60 });
    const res = await upgrade(`token=${token}&group=sdk-worker-room`);
    expect(res.status).toBe(101);
    const client = new Client(res.webSocket!);
    expect(await client.json(0)).toMatchObject({ type: "init", uid: "sdk-worker", room: "group:sdk-worker-room" });

    const result = await push.toGroup("sdk-worker-room", { from: "a worker" });
    expect(result).toMatchObject({ ok: true, delivered: 1 });
    expect(await client.json(1)).toMatchObject({ type: "push", id: result.id, data: { from: "a worker" } });
    client.close();
  });

  it("Should throw EdgePushError with the contract's code and status", async () => {
    const wrong = new EdgePush({ url: "https://edgepush.test", secret: "wrong", fetch: binding });
    const err = await wrong.stats().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgePushError);
    expect(err).toMatchObject({ status: 401, code: "unauthorized", attempts: 1 });
  });
});
