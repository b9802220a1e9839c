/**
 * The app's side: the published `pusher` server SDK (pusher-http-node) and a php-cli script
 * signing as pusher-php-server does, against a real `wrangler dev`, with pusher-js subscribers
 * seeing what was delivered (and, for refused requests, that nothing was).
 */
import { describe, expect, it } from "vitest";
import { run } from "./php-helpers";
import { APP, collect, connectClient, pusherSuite, serverSdk, subscribed, until, waitFor } from "./pusher-helpers";

const suite = pusherSuite();
const connect = (user: string) => connectClient(suite.server, suite.auth, user);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function presenceMembers(users: string[], channel: string): Promise<void> {
  for (const user of users) await subscribed(await connect(user), channel);
}

describe("the pusher SDK against edgepush", () => {
  it("Should trigger on several channels, excluding socket_id, and answer the channels' info", async () => {
    const [a, b] = [await connect("s1"), await connect("s2")];
    const [ca, cb] = [await subscribed(a, "sdk-one"), await subscribed(b, "sdk-two")];
    const [toA, toB] = [collect(ca, "tick"), collect(cb, "tick")];
    const res = await suite.sdk.trigger(["sdk-one", "sdk-two"], "tick", { n: 1 }, { info: "subscription_count" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ channels: { "sdk-one": { subscription_count: 1 }, "sdk-two": { subscription_count: 1 } } });
    await suite.sdk.trigger("sdk-one", "tick", { n: 2 }, { socket_id: a.connection.socket_id });
    await suite.sdk.trigger("sdk-one", "tick", { n: 3 });
    await until(() => toA.length === 2 && toB.length === 1, "the ticks");
    expect({ toA, toB }).toEqual({ toA: [{ n: 1 }, { n: 3 }], toB: [{ n: 1 }] });
  });

  it("Should deliver triggerBatch events in order and answer {}", async () => {
    const pusher = await connect("s3");
    const channel = await subscribed(pusher, "sdk-batch");
    const got = collect(channel, "step");
    const res = await suite.sdk.triggerBatch([1, 2, 3].map((n) => ({ channel: "sdk-batch", name: "step", data: { n } })));
    expect(await res.json()).toEqual({});
    await until(() => got.length === 3, "the batch");
    expect(got).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it("Should carry data over Pusher's 10 KB up to MAX_PAYLOAD_BYTES, and answer 413 above it", async () => {
    const pusher = await connect("s4");
    const channel = await subscribed(pusher, "sdk-large");
    const next = waitFor(channel, "big");
    await suite.sdk.trigger("sdk-large", "big", { text: "é".repeat(15_000) });
    expect(((await next) as { text: string }).text.length).toBe(15_000);
    await expect(suite.sdk.trigger("sdk-large", "big", "x".repeat(64 * 1024 + 1))).rejects.toMatchObject({ status: 413 });
  });

  it("Should list occupied channels and presence user counts with GET /channels", async () => {
    await presenceMembers(["g1", "g2", "g1"], "presence-sdk-list");
    await subscribed(await connect("g3"), "sdk-listed");
    await until(async () => {
      const body = (await (await suite.sdk.get({ path: "/channels", params: {} })).json()) as { channels: Record<string, object> };
      return body.channels["sdk-listed"] !== undefined && body.channels["presence-sdk-list"] !== undefined;
    }, "the directory to list both channels");
    const res = await suite.sdk.get({ path: "/channels", params: { filter_by_prefix: "presence-sdk-", info: "user_count" } });
    expect(await res.json()).toEqual({ channels: { "presence-sdk-list": { user_count: 2 } } });
    const none = await suite.sdk.get({ path: "/channels", params: { filter_by_prefix: "no-such-prefix-" } });
    expect(await none.json()).toEqual({ channels: {} });
  });

  it("Should stop listing a channel with GET /channels as soon as its last subscriber leaves", async () => {
    const pusher = await connect("v1");
    await subscribed(pusher, "sdk-vacate");
    const listed = async () =>
      Object.keys(((await (await suite.sdk.get({ path: "/channels", params: { filter_by_prefix: "sdk-vacate" } })).json()) as any).channels);
    await until(async () => (await listed()).includes("sdk-vacate"), "the directory to list the channel");
    pusher.unsubscribe("sdk-vacate");
    await until(async () => !((await (await suite.sdk.get({ path: "/channels/sdk-vacate", params: {} })).json()) as any).occupied, "the room to empty");
    expect(await listed()).toEqual([]);
  });

  it("Should answer one channel's state and a presence channel's users", async () => {
    await presenceMembers(["h1", "h2", "h2"], "presence-sdk-one");
    const res = await suite.sdk.get({ path: "/channels/presence-sdk-one", params: { info: "user_count,subscription_count" } });
    expect(await res.json()).toEqual({ occupied: true, user_count: 2, subscription_count: 3 });
    const users = (await (await suite.sdk.get({ path: "/channels/presence-sdk-one/users", params: {} })).json()) as { users: { id: string }[] };
    expect(users.users.map((u) => u.id).sort()).toEqual(["h1", "h2"]);
    expect(await (await suite.sdk.get({ path: "/channels/sdk-empty", params: {} })).json()).toEqual({ occupied: false });
  });

  it("Should refuse a wrong secret with 401 and deliver nothing", async () => {
    const pusher = await connect("s5");
    const channel = await subscribed(pusher, "sdk-guarded");
    const got = collect(channel, "attempt");
    const forger = serverSdk(suite.server, "not-the-secret");
    await expect(forger.trigger("sdk-guarded", "attempt", { forged: true })).rejects.toMatchObject({ status: 401 });
    await expect(forger.get({ path: "/channels", params: {} })).rejects.toMatchObject({ status: 401 });
    await expect(forger.terminateUserConnections("s5")).rejects.toMatchObject({ status: 401 });
    await suite.sdk.trigger("sdk-guarded", "attempt", { forged: false });
    await until(() => got.length === 1, "the genuine trigger");
    await sleep(200);
    expect(got).toEqual([{ forged: false }]);
    expect(pusher.connection.state).toBe("connected");
  });
});

describe("pusher-php-server's signing from php-cli", () => {
  const script = "examples/php/pusher-trigger.php";
  const env = (secret = APP.secret) => ({
    PUSHER_APP_ID: APP.appId, PUSHER_APP_KEY: APP.key, PUSHER_APP_SECRET: secret, PUSHER_HOST: "127.0.0.1", PUSHER_PORT: String(suite.server.port),
  });

  it("Should deliver a trigger sent by examples/php/pusher-trigger.php", async () => {
    const pusher = await connect("php1");
    const [one, two] = [await subscribed(pusher, "php-orders"), await subscribed(pusher, "php-invoices")];
    const got = [...[one, two].map((c) => collect(c, "OrderShipped"))];
    const result = await run("php", [script, "php-orders,php-invoices", "OrderShipped", '{"id":42,"note":"a b/c+d é"}'], env());
    expect(result).toMatchObject({ code: 0, stdout: "{}\n" });
    await until(() => got.every((g) => g.length === 1), "the PHP trigger on both channels");
    expect(got).toEqual([[{ id: 42, note: "a b/c+d é" }], [{ id: 42, note: "a b/c+d é" }]]);
  });

  it("Should exclude the socket_id the PHP script passes", async () => {
    const [a, b] = [await connect("php2"), await connect("php3")];
    const [ca, cb] = [await subscribed(a, "php-exclude"), await subscribed(b, "php-exclude")];
    const [toA, toB] = [collect(ca, "e"), collect(cb, "e")];
    expect((await run("php", [script, "php-exclude", "e", '"x"', a.connection.socket_id], env())).code).toBe(0);
    await until(() => toB.length === 1, "the trigger");
    await sleep(200);
    expect({ toA, toB }).toEqual({ toA: [], toB: ["x"] });
  });

  it("Should fail with 401 and deliver nothing when the PHP script has the wrong secret", async () => {
    const pusher = await connect("php4");
    const channel = await subscribed(pusher, "php-guarded");
    const got = collect(channel, "e");
    const result = await run("php", [script, "php-guarded", "e", "{}"], env("wrong-secret"));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/edgepush answered 401: .*unauthorized/);
    await sleep(300);
    expect(got).toEqual([]);
  });
});
