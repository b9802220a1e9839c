import { describe, expect, it, vi } from "vitest";
import type { EdgePushEvents } from "../../client";
import type { Queue } from "./client-fixtures";
import { BACKOFF, LiveClients, token } from "./client-live";

/** The client library against a real `wrangler dev`, through a proxy that can cut the network. */
const live = new LiveClients();
const push = (body: unknown) => live.push(body);
const backend = (method: string, path: string, body?: unknown) => live.backend(method, path, body);
const start = (options: Parameters<LiveClients["start"]>[0], url?: string) => live.start(options, url);

/**
 * Resolves on a timer due after the latest reconnect the client could have armed when it saw a
 * close: Node runs timers in the order they are due, so by then any retry has started (and
 * `reconnecting` was emitted when it was armed).
 */
const afterAnyRetry = () => new Promise((r) => setTimeout(r, BACKOFF.maxDelay + 50));

/** A second tab of `uid`, straight to the server (not through the proxy): it stays online throughout. */
async function otherTab(uid: string): Promise<WebSocket> {
  const ws = new WebSocket(`${live.server.wsUrl}/ws?token=${await token(uid)}`);
  await new Promise((resolve, reject) => {
    ws.addEventListener("message", resolve, { once: true });
    ws.addEventListener("error", reject, { once: true });
  });
  return ws;
}

describe("EdgePushClient against wrangler dev", () => {
  it("Should lose nothing and double nothing across a forced disconnect", async () => {
    const uid = `resume-${Date.now()}`;
    // With another tab of the uid online nothing is queued: the resume has to come from `since`.
    const tab = await otherTab(uid);
    const { client, events } = start({ getToken: () => token(uid) });
    await client.connect();
    for (let n = 1; n <= 5; n++) await push({ uid, id: `m${n}`, data: { n } });
    await events.message.count(5);

    live.proxy.refuse = true;
    live.proxy.cut();
    expect(await events.close.next()).toMatchObject({ group: null, code: 1006, willReconnect: true });
    // Pushed while the client is cut off: the room logs them for the resume.
    for (let n = 6; n <= 10; n++) await push({ uid, id: `m${n}`, data: { n } });
    live.proxy.refuse = false;
    const [first, again] = await events.open.count(2);
    expect(first).toMatchObject({ group: null, uid, resumed: false });
    expect(again).toMatchObject({ group: null, uid, resumed: true });
    for (let n = 11; n <= 15; n++) await push({ uid, id: `m${n}`, data: { n } });
    // The sentinel: once it is here, everything pushed before it is too.
    await push({ uid, id: "sentinel", data: { n: 0 }, ttl: 0 });
    while ((await events.message.next()).id !== "sentinel");

    const got = events.message.items.slice(0, -1);
    expect(got.map((m) => (m.data as { n: number }).n)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(new Set(got.map((m) => m.id)).size).toBe(15);
    tab.close();
    const lastBeforeCut = got[4].seq;
    expect(live.proxy.requests.items.at(-1)).toContain(`since=${lastBeforeCut}`);
  });

  it("Should get a fresh token after the server refused an expired one", async () => {
    const uid = `refresh-${Date.now()}`;
    const getToken = vi.fn()
      .mockImplementationOnce(() => token(uid, [], -60))
      .mockImplementation(() => token(uid));
    const { client, events } = start({ getToken });
    const opened = client.connect();
    expect(await events.close.next()).toMatchObject({ code: 1006, willReconnect: true });
    expect(await events.reconnecting.next()).toMatchObject({ group: null, attempt: 1 });
    await opened;
    expect(events.open.items).toEqual([expect.objectContaining({ uid, room: `uid:${uid}`, resumed: false })]);
    expect(getToken).toHaveBeenCalledTimes(2);

    await push({ uid, data: "after refresh" });
    expect((await events.message.next()).data).toBe("after refresh");
  });

  it("Should publish to a group: everyone gets it with the sender's uid, echo:false leaves the sender out", async () => {
    const group = `chat-${Date.now()}`;
    const a = start({ getToken: () => token("pub-a", [group]) }, live.server.url);
    const b = start({ getToken: () => token("pub-b", [group]) }, live.server.url);
    await Promise.all([a.client.join(group), b.client.join(group)]);

    a.client.publish(group, { text: "one" });
    expect((await b.events.message.next()).data).toEqual({ from: "pub-a", data: { text: "one" } });
    b.client.publish(group, { text: "two" }, { echo: false });
    await a.events.message.count(2);
    a.client.publish(group, { text: "three" });
    await b.events.message.count(2);
    await a.events.message.count(3);

    const texts = (q: Queue<EdgePushEvents["message"]>) =>
      q.items.map((m) => `${(m.data as any).from}:${(m.data as any).data.text}`);
    expect(texts(a.events.message)).toEqual(["pub-a:one", "pub-b:two", "pub-a:three"]);
    expect(texts(b.events.message)).toEqual(["pub-a:one", "pub-a:three"]);
    expect(a.events.message.items.every((m) => m.group === group && m.room === `group:${group}`)).toBe(true);
  });

  it("Should join a group the backend grants and leave it for good when the backend removes it (4001)", async () => {
    const uid = `granted-${Date.now()}`;
    const group = `team-${Date.now()}`;
    const getToken = vi.fn(() => token(uid));
    const { client, events } = start({ getToken }, live.server.url);
    await client.connect();

    const grant = await backend("POST", `/groups/${group}/members`, { uid });
    expect(grant).toMatchObject({ ok: true, notified: 1 });
    const [, opened] = await events.open.count(2);
    expect(opened).toMatchObject({ group, room: `group:${group}`, uid });
    expect(getToken.mock.calls).toEqual([[{ group: null }]]);
    client.publish(group, "in the team now");
    expect((await events.message.next()).data).toEqual({ from: uid, data: "in the team now" });

    expect(await backend("DELETE", `/groups/${group}/members/${uid}`)).toMatchObject({ closed: 1 });
    expect(await events.close.next()).toMatchObject({ group, code: 4001, willReconnect: false });
    await afterAnyRetry();
    expect(events.reconnecting.items).toEqual([]);
    expect(client.groups()).toEqual([]);
    expect(client.isOpen()).toBe(true);
  });

  it("Should stop reconnecting in every room when the backend kicks the uid (4000)", async () => {
    const uid = `kicked-${Date.now()}`;
    const group = `club-${Date.now()}`;
    const { client, events } = start({ getToken: () => token(uid, [group]) }, live.server.url);
    await Promise.all([client.connect(), client.join(group)]);

    expect(await backend("POST", "/kick", { uid, reason: "bye" })).toMatchObject({ ok: true, closed: 2 });
    const closes = await events.close.count(2);
    expect(closes.map((c) => [c.group, c.code, c.reason, c.willReconnect]).sort()).toEqual(
      [[group, 4000, "bye", false], [null, 4000, "bye", false]].sort(),
    );
    await afterAnyRetry();
    expect(events.reconnecting.items).toEqual([]);
    expect(client.isOpen()).toBe(false);
    expect(client.isOpen(group)).toBe(false);
    expect(await push({ uid, data: "anyone?", ttl: 0 })).toMatchObject({ delivered: 0 });
  });
});
