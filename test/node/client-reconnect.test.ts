import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EdgePushClient, type EdgePushOptions } from "../../client";
import { ACK_EVERY_CHARS, CLOSE_TOKEN_EXPIRED, CLOSE_TOO_SLOW } from "../../src/contract/protocol";
import { ScriptedServer, fakeToken, queueEvents } from "./client-fixtures";

/** Sockets the client constructed: an attempt counts the moment it starts, before any I/O. */
let opened = 0;
class CountedWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    opened++;
  }
}
/**
 * Resolves once every pending promise continuation has run (setImmediate is not faked): a retry
 * that a fired timer started has constructed its socket by then, so "no attempt" needs no sleep.
 */
const drained = () => new Promise((resolve) => setImmediate(resolve));

let server: ScriptedServer;
let client: EdgePushClient | undefined;

beforeEach(async () => {
  opened = 0;
  server = await ScriptedServer.start();
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
});
afterEach(async () => {
  client?.close();
  client = undefined;
  vi.useRealTimers();
  vi.restoreAllMocks();
  await server.stop();
});

/** A client on the scripted server, with every event it emits queued by type. */
function start(options: Partial<EdgePushOptions> = {}) {
  client = new EdgePushClient({ url: server.url, getToken: () => "t", WebSocket: CountedWebSocket, ...options });
  return { client, events: queueEvents(client) };
}

describe("EdgePushClient reconnect backoff", () => {
  it("Should wait exponentially longer between failed attempts, with jitter, up to the cap", async () => {
    // Jitter draws from Math.random: 0 takes the low end of the window, 1 the top.
    const draws = [0, 1, 0.5, 0, 1, 0.5];
    vi.spyOn(Math, "random").mockImplementation(() => draws.shift() ?? 0.5);
    server.refuse = true;
    const { client, events } = start({ backoff: { minDelay: 1000, maxDelay: 8000, factor: 2 } });
    void client.connect();

    const expected = [500, 2000, 3000, 4000, 8000, 6000];
    for (const [i, delay] of expected.entries()) {
      const event = await events.reconnecting.next();
      expect(event).toEqual({ group: null, attempt: i + 1, delay });
      expect(server.attempts.items).toHaveLength(i + 1);
      vi.advanceTimersByTime(delay - 1);
      await drained();
      expect(opened, "no attempt before the delay is up").toBe(i + 1);
      vi.advanceTimersByTime(1);
      await server.attempts.count(i + 2);
    }
  });

  it("Should start over at the shortest delay once a connection stayed up for the stable period", async () => {
    vi.spyOn(Math, "random").mockReturnValue(1);
    const { client, events } = start({ backoff: { minDelay: 1000, maxDelay: 60_000, factor: 2, stableAfter: 5000 } });
    void client.connect();
    const dropAfterOpen = async () => {
      await events.open.next();
      (await server.connections.next()).socket.close(1012, "restarting");
      return events.reconnecting.next();
    };

    expect((await dropAfterOpen()).delay).toBe(1000);
    vi.advanceTimersByTime(1000);
    expect((await dropAfterOpen()).delay).toBe(2000);
    vi.advanceTimersByTime(2000);
    await events.open.next();
    vi.advanceTimersByTime(5000);
    (await server.connections.next()).socket.close(1012, "restarting");
    expect(await events.reconnecting.next()).toEqual({ group: null, attempt: 1, delay: 1000 });
  });
});

describe("EdgePushClient tokens", () => {
  it("Should call getToken before every connection and connect with the token it returns", async () => {
    let calls = 0;
    const getToken = vi.fn(async () => `token-${++calls}`);
    const { client, events } = start({ getToken, backoff: { minDelay: 10 } });
    void client.join("room-a");
    (await server.connections.next()).socket.close(1011, "oops");
    const { delay } = await events.reconnecting.next();
    vi.advanceTimersByTime(delay);
    await server.connections.count(2);

    expect(getToken.mock.calls).toEqual([[{ group: "room-a" }], [{ group: "room-a" }]]);
    const urls = server.attempts.items;
    expect(urls.map((u) => u.searchParams.get("token"))).toEqual(["token-1", "token-2"]);
    expect(urls.map((u) => u.searchParams.get("group"))).toEqual(["room-a", "room-a"]);
    expect(urls[0].pathname).toBe("/ws");
  });

  it("Should report a getToken failure and try again after the backoff", async () => {
    const getToken = vi.fn().mockRejectedValueOnce(new Error("backend down")).mockResolvedValue("fresh");
    const { client, events } = start({ getToken, backoff: { minDelay: 10 } });
    void client.connect();
    expect(await events.error.next()).toEqual({ group: null, code: "token_failed", message: "backend down" });
    vi.advanceTimersByTime((await events.reconnecting.next()).delay);
    expect((await server.attempts.next()).searchParams.get("token")).toBe("fresh");
  });

  it("Should join a group the server grants, using the token in the join frame", async () => {
    const getToken = vi.fn(async () => "uid-token");
    const { client, events } = start({ getToken });
    void client.connect();
    const uidRoom = await server.connections.next();
    const grant = fakeToken(Math.floor(Date.now() / 1000) + 3600);
    uidRoom.socket.send(JSON.stringify({ type: "join", group: "granted", token: grant }));

    const groupRoom = await server.connections.next();
    expect(groupRoom.url.searchParams.get("group")).toBe("granted");
    expect(groupRoom.url.searchParams.get("token")).toBe(grant);
    expect(getToken.mock.calls).toEqual([[{ group: null }]]);
    await events.open.count(2);
    expect(client.groups()).toEqual(["granted"]);
    expect(client.isOpen("granted")).toBe(true);
  });
});

describe("EdgePushClient resume", () => {
  it("Should resume with since = the last seq seen and deliver a replayed id only once", async () => {
    server.seq = 7;
    const { client, events } = start({ backoff: { minDelay: 10 } });
    void client.connect();
    const first = await server.connections.next();
    expect(first.url.searchParams.has("since")).toBe(false);
    server.push(first, 8, "a", { n: 1 });
    server.push(first, 9, "b", { n: 2 });
    await events.message.count(2);
    first.socket.close(1012, "restart");
    vi.advanceTimersByTime((await events.reconnecting.next()).delay);

    const second = await server.connections.next();
    expect(second.url.searchParams.get("since")).toBe("9");
    // An at-least-once server may replay what the client already has: it must not show twice.
    server.push(second, 9, "b", { n: 2 });
    server.push(second, 10, "c", { n: 3 });
    // The sentinel: the server sends in order, so once it is here a second "b" would be too.
    server.push(second, 11, "sentinel", null);
    while ((await events.message.next()).id !== "sentinel");
    await events.open.count(2);
    expect(events.open.items.map((e) => e.resumed)).toEqual([false, true]);
    expect(events.message.items.slice(0, -1).map((m) => [m.seq, m.id, m.data, m.room])).toEqual([
      [8, "a", { n: 1 }, "uid:u1"],
      [9, "b", { n: 2 }, "uid:u1"],
      [10, "c", { n: 3 }, "uid:u1"],
    ]);
  });

  it("Should resume from the init seq when nothing was pushed before the drop", async () => {
    server.seq = 41;
    const { client, events } = start({ backoff: { minDelay: 10 } });
    void client.join("quiet");
    (await server.connections.next()).socket.close(1012, "restart");
    vi.advanceTimersByTime((await events.reconnecting.next()).delay);
    expect((await server.connections.next()).url.searchParams.get("since")).toBe("41");
  });
});

describe("EdgePushClient close codes", () => {
  it("Should stop reconnecting when kicked (4000)", async () => {
    const { client, events } = start({ backoff: { minDelay: 10, maxDelay: 10 } });
    void client.connect();
    (await server.connections.next()).socket.close(4000, "kicked by backend");
    expect(await events.close.next()).toEqual({ group: null, code: 4000, reason: "kicked by backend", willReconnect: false });
    vi.advanceTimersByTime(60_000);
    await drained();
    expect(opened).toBe(1);
    expect(events.reconnecting.items).toHaveLength(0);
    expect(client.isOpen()).toBe(false);
  });

  it("Should leave a group for good when removed from it (4001) and keep the other rooms", async () => {
    // Pings are tested below; here a jump of the clock must not outrun their pongs.
    const { client, events } = start({ backoff: { minDelay: 10, maxDelay: 10 }, pingInterval: 3_600_000 });
    void client.connect();
    void client.join("team");
    const teamConn = (await server.connections.count(2)).find((c) => c.url.searchParams.get("group") === "team")!;
    teamConn.socket.close(4001, "removed from group");
    expect(await events.close.next()).toEqual({ group: "team", code: 4001, reason: "removed from group", willReconnect: false });
    vi.advanceTimersByTime(60_000);
    await drained();
    expect(opened).toBe(2);
    expect(client.groups()).toEqual([]);
    expect(client.isOpen()).toBe(true);
    expect(() => client.publish("team", "hi")).toThrow(/join group team/);
  });

  it("Should reconnect after any other close code", async () => {
    const { client, events } = start({ backoff: { minDelay: 10, maxDelay: 10 } });
    void client.connect();
    (await server.connections.next()).socket.close(1008, "policy");
    expect(await events.close.next()).toMatchObject({ code: 1008, willReconnect: true });
    vi.advanceTimersByTime((await events.reconnecting.next()).delay);
    await server.connections.count(2);
  });
});

describe("EdgePushClient acknowledgements and server-side closes", () => {
  it("Should acknowledge every ACK_EVERY_CHARS characters it read, counting every frame but pong", async () => {
    const { client, events } = start({ pingInterval: 3_600_000 });
    void client.connect();
    const conn = await server.connections.next();
    const big = "x".repeat(100_000);
    for (let i = 1; i <= 6; i++) server.push(conn, i, `m${i}`, big);
    await events.message.count(6);
    const acks = (await conn.received.count(2)).map((f) => JSON.parse(f));
    const frames = [JSON.stringify({ type: "init", clientId: "c1", uid: "u1", room: "uid:u1", seq: 0 })];
    expect(acks.every((a) => a.type === "ack" && a.bytes >= ACK_EVERY_CHARS)).toBe(true);
    // The first ack covers the init frame and the first three pushes (about 300 000 characters).
    expect(acks[0].bytes).toBeGreaterThan(frames[0].length + 2 * big.length);
    expect(acks[0].bytes).toBeLessThan(frames[0].length + 3 * (big.length + 200));
  });

  for (const [code, what] of [[CLOSE_TOKEN_EXPIRED, "token expired"], [CLOSE_TOO_SLOW, "too slow"]] as const) {
    it(`Should reconnect after ${code} (${what}) with a fresh token and since = the last seq`, async () => {
      let tokens = 0;
      const { client, events } = start({ backoff: { minDelay: 10 }, getToken: () => `t${++tokens}` });
      void client.connect();
      const first = await server.connections.next();
      server.push(first, 1, "a", 1);
      await events.message.next();
      first.socket.close(code, what);
      expect(await events.close.next()).toMatchObject({ code, willReconnect: true });
      vi.advanceTimersByTime((await events.reconnecting.next()).delay);
      const second = await server.connections.next();
      expect(second.url.searchParams.get("since")).toBe("1");
      expect(second.url.searchParams.get("token")).toBe("t2");
    });
  }
});

describe("EdgePushClient close()", () => {
  it("Should stay closed when a reconnecting listener closes the client", async () => {
    server.refuse = true;
    const { client, events } = start({ backoff: { minDelay: 10, maxDelay: 10 } });
    client.on("reconnecting", () => client.close());
    await expect(client.connect()).rejects.toThrow(/closed before it opened/);
    await events.reconnecting.next();
    vi.advanceTimersByTime(60_000);
    await drained();
    expect(opened).toBe(1);
    expect(events.reconnecting.items).toHaveLength(1);
  });

  it("Should stay closed when a close listener closes the client", async () => {
    const { client, events } = start({ backoff: { minDelay: 10, maxDelay: 10 } });
    client.on("close", () => client.close());
    void client.connect();
    (await server.connections.next()).socket.close(1012, "restart");
    expect(await events.close.next()).toMatchObject({ code: 1012, willReconnect: true });
    vi.advanceTimersByTime(60_000);
    await drained();
    expect(opened).toBe(1);
    expect(events.reconnecting.items).toHaveLength(0);
  });
});

describe("EdgePushClient frames", () => {
  it("Should ping on an interval and reconnect when nothing answers", async () => {
    const { client, events } = start({ pingInterval: 1000, pongTimeout: 500, backoff: { minDelay: 10, maxDelay: 10 } });
    void client.connect();
    const conn = await server.connections.next();
    await events.open.next();

    vi.advanceTimersByTime(1000);
    expect(await conn.received.next()).toBe("ping");
    // The pong is on the wire before this push, so the client has read it once the push arrives.
    server.push(conn, 1, "after-pong", null);
    await events.message.next();
    vi.advanceTimersByTime(500);
    expect(events.close.items, "an answered ping keeps the socket").toHaveLength(0);

    server.answerPings = false;
    vi.advanceTimersByTime(500);
    expect(await conn.received.next()).toBe("ping");
    vi.advanceTimersByTime(500);
    expect(await events.close.next()).toEqual({ group: null, code: 1006, reason: "no pong", willReconnect: true });
    vi.advanceTimersByTime((await events.reconnecting.next()).delay);
    await server.connections.count(2);
  });

  it("Should hold publishes until the group is open, then send them as publish frames", async () => {
    const { client } = start();
    void client.join("chat");
    client.publish("chat", { text: "early" });
    client.publish("chat", "quiet", { echo: false });
    const conn = await server.connections.next();
    expect(JSON.parse(await conn.received.next())).toEqual({ type: "publish", data: { text: "early" } });
    expect(JSON.parse(await conn.received.next())).toEqual({ type: "publish", data: "quiet", echo: false });
  });

  it("Should surface the server's error frames as error events", async () => {
    const { client, events } = start();
    void client.join("chat");
    const conn = await server.connections.next();
    conn.socket.send(JSON.stringify({ type: "error", code: "rate_limited", message: "slow down" }));
    expect(await events.error.next()).toEqual({ group: "chat", code: "rate_limited", message: "slow down" });
  });

  it("Should refuse an invalid group name before opening anything", async () => {
    const { client } = start();
    expect(() => client.join("no spaces")).toThrow(TypeError);
    await drained();
    expect(opened).toBe(0);
  });
});
