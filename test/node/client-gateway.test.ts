import WebSocket from "ws";
import { describe, expect, it, vi } from "vitest";
import { GATEWAY_PING } from "../../client/gateway-socket";
import { LiveClients, token } from "./client-live";

/** The client library's `transport: "gateway"` (one /gateway socket for every room) against a real wrangler dev. */
const live = new LiveClients({ transport: "gateway" });
const push = (body: unknown) => live.push(body);
const backend = (method: string, path: string, body?: unknown) => live.backend(method, path, body);
const start = (options: Parameters<LiveClients["start"]>[0]) => live.start(options);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

/** Upgrades that went through the proxy since `from`. */
const upgradesSince = (from: number) => live.proxy.requests.items.slice(from).filter((line) => line.startsWith("GET /gateway?"));

describe("EdgePushClient with transport: gateway", () => {
  it("Should keep the uid and five groups on one socket and deliver each room's pushes with its group", async () => {
    const uid = unique("one");
    const groups = [1, 2, 3, 4, 5].map((n) => unique(`g${n}`));
    const before = live.proxy.requests.items.length;
    const { client, events } = start({ getToken: () => token(uid, groups) });
    await Promise.all([client.connect(), ...groups.map((g) => client.join(g))]);
    expect(upgradesSince(before)).toHaveLength(1);
    expect(upgradesSince(before)[0]).toContain("format=envelope");
    expect(client.groups().sort()).toEqual([...groups].sort());
    expect(events.open.items.map((o) => o.group).sort()).toEqual([null, ...groups].sort());
    expect(new Set(events.open.items.map((o) => o.clientId)).size).toBe(1);

    await push({ uid, data: "to me" });
    for (const g of groups) await push({ group: g, data: `to ${g}` });
    const got = await events.message.count(6);
    expect(got.map((m) => [m.group, m.data])).toEqual([[null, "to me"], ...groups.map((g) => [g, `to ${g}`])]);
    expect(got[1].room).toBe(`group:${groups[0]}`);
    expect((await backend("GET", `/groups/${groups[2]}`)).connections).toBe(1);
  });

  it("Should resume every room by its own seq across a forced disconnect: nothing lost, nothing doubled, in order", async () => {
    const [uid, group] = [unique("resume"), unique("rg")];
    const { client, events } = start({ getToken: () => token(uid, [group]) });
    await Promise.all([client.connect(), client.join(group)]);
    for (let n = 1; n <= 3; n++) {
      await push({ uid, id: `u${n}`, data: n });
      await push({ group, id: `g${n}`, data: n });
    }
    await events.message.count(6);
    const before = live.proxy.requests.items.length;
    live.proxy.refuse = true;
    live.proxy.cut();
    await events.close.count(2);
    for (let n = 4; n <= 6; n++) {
      await push({ uid, id: `u${n}`, data: n });
      await push({ group, id: `g${n}`, data: n });
    }
    live.proxy.refuse = false;
    await events.open.count(4);
    for (let n = 7; n <= 8; n++) {
      await push({ uid, id: `u${n}`, data: n });
      await push({ group, id: `g${n}`, data: n });
    }
    await events.message.count(16);
    await pause(300);
    const of = (g: string | null) => events.message.items.filter((m) => m.group === g).map((m) => m.data);
    expect(of(null)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(of(group)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events.open.items.slice(2).every((o) => o.resumed)).toBe(true);
    expect(upgradesSince(before).at(-1)).toMatch(/since=\d+/);
  });

  it("Should leave a group over the socket and keep the others", async () => {
    const [uid, stay, go] = [unique("leave"), unique("stay"), unique("go")];
    const { client, events } = start({ getToken: () => token(uid, [stay, go]) });
    await Promise.all([client.join(stay), client.join(go)]);
    client.leave(go);
    expect(await events.close.next()).toEqual({ group: go, code: 1000, reason: "left", willReconnect: false });
    await vi.waitFor(async () => expect((await backend("GET", `/groups/${go}`)).connections).toBe(0), { timeout: 10_000 });
    expect(await push({ group: go, data: "gone", ttl: 0 })).toMatchObject({ delivered: 0 });
    await push({ group: stay, data: "still" });
    expect((await events.message.next()).data).toBe("still");
    expect(client.isOpen(stay)).toBe(true);
    expect(client.groups()).toEqual([stay]);
  });

  it("Should ask getToken for a group outside the connection's token and join with it", async () => {
    const [uid, group] = [unique("tok"), unique("extra")];
    const getToken = vi.fn(({ group }: { group: string | null }) => token(uid, group ? [group] : []));
    const { client, events } = start({ getToken });
    await client.connect();
    await client.join(group);
    expect(getToken.mock.calls.map(([c]) => c.group)).toEqual([null, group]);
    await push({ group, data: "hello" });
    expect((await events.message.next()).group).toBe(group);
  });

  it("Should publish over the gateway: every member gets {from, data}, echo:false leaves the sender out", async () => {
    const group = unique("chat");
    const a = start({ getToken: () => token("gw-pub-a", [group]) });
    const b = start({ getToken: () => token("gw-pub-b", [group]) });
    await Promise.all([a.client.join(group), b.client.join(group)]);
    a.client.publish(group, { text: "one" });
    expect((await b.events.message.next()).data).toEqual({ from: "gw-pub-a", data: { text: "one" } });
    expect((await a.events.message.next()).data).toEqual({ from: "gw-pub-a", data: { text: "one" } });
    b.client.publish(group, { text: "two" }, { echo: false });
    expect((await a.events.message.next()).data).toEqual({ from: "gw-pub-b", data: { text: "two" } });
    await pause(300);
    expect(b.events.message.items).toHaveLength(1);
  });

  it("Should join a granted group with the grant's token and end it on a revoke while the socket stays up", async () => {
    const [uid, group] = [unique("grant"), unique("team")];
    const getToken = vi.fn(() => token(uid));
    const { client, events } = start({ getToken });
    await client.connect();
    expect(await backend("POST", `/groups/${group}/members`, { uid })).toMatchObject({ notified: 1 });
    const [, opened] = await events.open.count(2);
    expect(opened).toMatchObject({ group, room: `group:${group}`, uid });
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(await backend("DELETE", `/groups/${group}/members/${uid}`)).toMatchObject({ closed: 1 });
    expect(await events.close.next()).toMatchObject({ group, code: 4001, willReconnect: false });
    expect(client.groups()).toEqual([]);
    expect(client.isOpen()).toBe(true);
    await push({ uid, data: "still connected" });
    expect((await events.message.next()).data).toBe("still connected");
  });

  it("Should stop every room and not reconnect when the backend kicks the uid (4000)", async () => {
    const [uid, group] = [unique("kick"), unique("club")];
    const { client, events } = start({ getToken: () => token(uid, [group]) });
    await Promise.all([client.connect(), client.join(group)]);
    await backend("POST", "/kick", { uid, reason: "bye" });
    const closes = await events.close.count(2);
    expect(closes.map((c) => [c.group, c.code, c.willReconnect]).sort()).toEqual([[group, 4000, false], [null, 4000, false]].sort());
    await pause(400);
    expect(events.reconnecting.items).toEqual([]);
    expect(client.isOpen()).toBe(false);
  });

  it("Should keep the socket alive with a frame the gateway answers (its runtime's auto-response)", async () => {
    const ws = new WebSocket(`${live.server.wsUrl}/gateway?token=${await token(unique("ping"))}&format=envelope`);
    const frames: string[] = [];
    ws.on("message", (data) => frames.push(String(data)));
    await new Promise((resolve) => ws.once("open", resolve));
    await vi.waitFor(() => expect(frames.some((f) => f.includes('"joined"'))).toBe(true), { timeout: 10_000 });
    ws.send(GATEWAY_PING);
    await vi.waitFor(() => expect(frames.at(-1)).toBe('{"event":"pusher:pong","data":{}}'), { timeout: 10_000 });
    ws.close(1000);
  });
});
