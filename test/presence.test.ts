import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Client, api, connect, push, upgrade } from "./helpers";
import { eventually, getJson, quietStats, roomStub, stats, statsBecome, unique } from "./presence-helpers";

const online = (uid: string) => getJson(`/online/${uid}`);

describe("GET /online/:uid", () => {
  it("Should count every socket of the uid and drop one that closes", async () => {
    const uid = unique("on");
    expect(await online(uid)).toEqual({ uid, online: false, connections: 0 });
    const a = await connect(uid);
    const b = await connect(uid);
    expect(await online(uid)).toEqual({ uid, online: true, connections: 2 });
    a.client.close();
    await eventually(() => online(uid), (o) => o.connections === 1);
    b.client.close();
    expect(await eventually(() => online(uid), (o) => !o.online)).toEqual({ uid, online: false, connections: 0 });
  });

  it("Should drop a socket that goes away without a close code", async () => {
    const uid = unique("unclean");
    const { client } = await connect(uid);
    client.ws.close(); // no code: the room sees 1005
    expect(await eventually(() => online(uid), (o) => !o.online)).toMatchObject({ connections: 0 });
  });

  it("Should count a legacy connection in the uid's room", async () => {
    const uid = unique("legacy");
    const res = await upgrade("");
    const legacy = new Client(res.webSocket!);
    legacy.send(uid);
    await eventually(() => online(uid), (o) => o.connections === 1);
    legacy.close();
    await eventually(() => online(uid), (o) => o.connections === 0);
  });

  it("Should refuse a bad uid with 400 invalid_name", async () => {
    const res = await api("/online/a%20b");
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe("invalid_name");
  });
});

describe("GET /groups/:group", () => {
  it("Should list the uids connected to the group and forget those who leave", async () => {
    const group = unique("g");
    const [u1, u2] = [unique("gu"), unique("gu")];
    const a = await connect(u1, { groups: [group], group });
    const b = await connect(u2, { groups: [group], group });
    await connect(u2, { groups: [group], group });
    const body = await getJson(`/groups/${group}`);
    expect(body).toMatchObject({ group, connections: 3 });
    expect(body.uids.sort()).toEqual([u1, u2].sort());
    a.client.close();
    const after = await eventually(() => getJson(`/groups/${group}`), (g) => g.connections === 2);
    expect(after.uids).toEqual([u2]);
    b.client.close();
  });

  it("Should answer an empty group with zero connections", async () => {
    expect(await getJson("/groups/nobody-here")).toEqual({ group: "nobody-here", connections: 0, uids: [] });
  });

  it("Should refuse a group name over 128 chars with 400 invalid_name", async () => {
    const res = await api(`/groups/${"g".repeat(129)}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe("invalid_name");
  });
});

describe("GET /stats", () => {
  it("Should count connections, rooms, uids and groups across the deployment", async () => {
    const base = await quietStats();
    const [u1, u2, group] = [unique("st"), unique("st"), unique("sg")];
    const a = await connect(u1);
    const b = await connect(u1);
    const c = await connect(u2, { groups: [group], group });
    const d = await connect(u1, { groups: [group], group });
    // Rooms uid:u1, group:g; uids u1, u2 (u1 in two rooms counts once); one group.
    expect(await stats()).toEqual({ connections: base.connections + 4, rooms: base.rooms + 2, uids: base.uids + 2, groups: base.groups + 1 });
    c.client.close();
    await statsBecome(base, { connections: 3, rooms: 2, uids: 1, groups: 1 });
    d.client.close();
    await statsBecome(base, { connections: 2, rooms: 1, uids: 1 });
    a.client.close();
    b.client.close();
    await statsBecome(base, {});
  });

  it("Should stay exact after a room is evicted with its sockets hibernated", async () => {
    const base = await quietStats();
    const uid = unique("hib");
    const a = await connect(uid);
    const b = await connect(uid);
    await evictDurableObject(roomStub(`uid:${uid}`), { webSockets: "hibernate" });
    expect(await stats()).toEqual({ ...base, connections: base.connections + 2, rooms: base.rooms + 1, uids: base.uids + 1 });
    expect(await online(uid)).toMatchObject({ connections: 2 });
    // The woken room rebuilt its sockets: it still delivers and still reports a close.
    expect(await push({ uid, data: "after wake", ttl: 0 })).toMatchObject({ delivered: 2 });
    a.client.close();
    await statsBecome(base, { connections: 1, rooms: 1, uids: 1 });
    expect(await online(uid)).toMatchObject({ connections: 1 });
    b.client.close();
    await statsBecome(base, {});
  });

  it("Should leave no ghost when a room dies with its sockets: a listing asks the room, which sets no alarm", async () => {
    const base = await quietStats();
    const uid = unique("ghost");
    const group = unique("ghost-g");
    const a = await connect(uid);
    await connect(uid, { groups: [group], group });
    await statsBecome(base, { connections: 2, rooms: 2, uids: 1, groups: 1 });
    // Torn down without a close handler: the directory still lists both rooms until it asks them.
    await evictDurableObject(roomStub(`uid:${uid}`), { webSockets: "close" });
    await evictDurableObject(roomStub(`group:${group}`), { webSockets: "close" });
    // No lease and no token-expiry alarm: an idle room never wakes by itself.
    expect(await runDurableObjectAlarm(roomStub(`uid:${uid}`))).toBe(false);
    expect(await runDurableObjectAlarm(roomStub(`group:${group}`))).toBe(false);
    expect(await stats()).toEqual(base);
    expect(await getJson("/uids")).not.toMatchObject({ uids: expect.arrayContaining([uid]) });
    expect(await online(uid)).toMatchObject({ online: false, connections: 0 });
    await a.client.closed();
  });

  it("Should drop a kicked client from every count", async () => {
    const base = await quietStats();
    const uid = unique("kicked");
    const group = unique("kick-g");
    const a = await connect(uid);
    const b = await connect(uid, { groups: [group], group });
    const res = await api("/kick", { json: { uid } });
    expect(await res.json()).toEqual({ ok: true, uid, closed: 2 });
    expect(await stats()).toEqual(base);
    expect(await online(uid)).toMatchObject({ online: false });
    expect(await getJson(`/groups/${group}`)).toMatchObject({ connections: 0, uids: [] });
    expect(await a.client.closed()).toBe(4000);
    expect(await b.client.closed()).toBe(4000);
  });

  it("Should refuse /stats without the backend secret", async () => {
    const res = await api("/stats", { headers: { Authorization: "Bearer wrong" } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.code).toBe("unauthorized");
  });
});

/** Every page of GET `path` (uids or groups), `limit` at a time. */
async function allPages(path: "/uids" | "/groups", limit: number): Promise<string[]> {
  const key = path.slice(1);
  const names: string[] = [];
  let cursor: string | null = null;
  do {
    const page: any = await getJson(`${path}?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(page[key].length).toBeLessThanOrEqual(limit);
    names.push(...page[key]);
    cursor = page.cursor;
  } while (cursor);
  return names;
}

describe("GET /uids and GET /groups", () => {
  it("Should list every online uid and live group once, in order, page by page", async () => {
    const [u1, u2, u3, g1, g2] = [unique("list"), unique("list"), unique("list"), unique("lg"), unique("lg")];
    const sockets = [await connect(u1), await connect(u2), await connect(u3, { groups: [g1, g2], group: g1 }),
      await connect(u2, { groups: [g2], group: g2 })];
    const uids = await allPages("/uids", 2);
    expect(uids).toEqual([...new Set(uids)].sort());
    expect(uids).toEqual(expect.arrayContaining([u1, u2, u3]));
    expect(await allPages("/uids", 1000)).toEqual(uids);
    const groups = await allPages("/groups", 1);
    expect(groups).toEqual([...new Set(groups)].sort());
    expect(groups).toEqual(expect.arrayContaining([g1, g2]));
    for (const { client } of sockets) client.close();
    await eventually(() => allPages("/uids", 1000), (list) => ![u1, u2, u3].some((u) => list.includes(u)));
    await eventually(() => allPages("/groups", 1000), (list) => !list.includes(g1) && !list.includes(g2));
  });

  it("Should refuse a bad limit or cursor", async () => {
    for (const [path, code] of [["/uids?limit=0", "bad_request"], ["/groups?limit=1001", "bad_request"],
      ["/uids?limit=ten", "bad_request"], ["/groups?cursor=a%20b", "invalid_name"]] as const) {
      const res = await api(path);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.code).toBe(code);
    }
  });
});
