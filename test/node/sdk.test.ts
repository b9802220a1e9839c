/** The server SDK against a real `wrangler dev`: every method, its typed answer and its effect on clients. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgePush } from "../../sdk";
import { E2E_PUSH_SECRET, E2E_TOKEN_SECRET, startWranglerDev, type DevServer } from "../e2e/wrangler-dev";
import { eventually, openClient, type TestClient } from "./sdk-helpers";

let server: DevServer;
let push: EdgePush;
const open: TestClient[] = [];

beforeAll(async () => {
  server = await startWranglerDev();
  push = new EdgePush({ url: server.url, secret: E2E_PUSH_SECRET, tokenSecret: E2E_TOKEN_SECRET });
});
afterAll(async () => {
  for (const c of open) c.ws.close();
  await server?.stop();
});

let counter = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${counter++}`;

/** A client of `uid` (in `group` when given), past its init frame. */
async function connect(uid: string, group?: string, sdk = push): Promise<{ client: TestClient; init: any }> {
  const { token } = await sdk.signClientToken({ uid, groups: group ? [group] : [], ttl: 300 });
  const client = await openClient(`${server.wsUrl}/ws?token=${token}${group ? `&group=${group}` : ""}`);
  open.push(client);
  return { client, init: await client.json(0) };
}

describe("EdgePush SDK against wrangler dev", () => {
  it("Should push to a uid with toUid and answer the generated id, delivered and queued", async () => {
    const uid = unique("sdk-uid");
    const { client, init } = await connect(uid);
    expect(init).toMatchObject({ type: "init", uid, room: `uid:${uid}` });

    const result = await push.toUid(uid, { hello: "world" });
    expect(result).toEqual({ ok: true, id: expect.stringMatching(/^[0-9a-f-]{36}$/), delivered: 1, queued: 1 });
    expect(await client.json(1)).toMatchObject({ type: "push", id: result.id, data: { hello: "world" } });
  });

  it("Should sign client tokens locally and through POST /token, both accepted by the server", async () => {
    const viaServer = new EdgePush({ url: server.url, secret: E2E_PUSH_SECRET });
    const uid = unique("sdk-token");
    const minted = await viaServer.signClientToken({ uid, groups: ["sdk-room"], ttl: 120 });
    expect(minted.expiresAt).toBeGreaterThan(Date.now() / 1000 + 100);
    const local = await push.signClientToken({ uid, groups: ["sdk-room"], ttl: 120 });
    expect(local.token.split(".")).toHaveLength(3);

    for (const { token } of [minted, local]) {
      const client = await openClient(`${server.wsUrl}/ws?token=${token}&group=sdk-room`);
      open.push(client);
      expect(await client.json(0)).toMatchObject({ type: "init", uid, room: "group:sdk-room" });
    }
  });

  it("Should reach every listed uid with toUids", async () => {
    const [a, b] = [unique("sdk-a"), unique("sdk-b")];
    const ca = await connect(a);
    const cb = await connect(b);
    const result = await push.toUids([a, b], "to both");
    expect(result).toMatchObject({ ok: true, delivered: 2, queued: 2 });
    expect((await ca.client.json(1)).data).toBe("to both");
    expect((await cb.client.json(1)).data).toBe("to both");
  });

  it("Should push to a group with toGroup and leave out the excluded clientId", async () => {
    const group = unique("sdk-group");
    const sender = await connect(unique("sdk-sender"), group);
    const other = await connect(unique("sdk-other"), group);
    const result = await push.toGroup(group, { n: 1 }, { exclude: [sender.init.clientId] });
    expect(result).toMatchObject({ ok: true, delivered: 1 });
    expect((await other.client.json(1)).data).toEqual({ n: 1 });

    await push.toGroup(group, { n: 2 });
    // The sender's next message is n:2: n:1 never reached it.
    expect((await sender.client.json(1)).data).toEqual({ n: 2 });
  });

  it("Should push to one connection with toClient", async () => {
    const uid = unique("sdk-client");
    const first = await connect(uid);
    const second = await connect(uid);
    expect(await push.toClient(second.init.clientId, "only you")).toMatchObject({ ok: true, delivered: 1 });
    expect((await second.client.json(1)).data).toBe("only you");
    await push.toUid(uid, "both");
    expect((await first.client.json(1)).data).toBe("both");
  });

  it("Should broadcast to every connection with toAll", async () => {
    const a = await connect(unique("sdk-all"));
    const b = await connect(unique("sdk-all"), unique("sdk-all-group"));
    const result = await push.toAll({ notice: "maintenance" }, { ttl: 0 });
    expect(result.ok).toBe(true);
    expect(result.delivered).toBeGreaterThanOrEqual(2);
    expect((await a.client.json(1)).data).toEqual({ notice: "maintenance" });
    expect((await b.client.json(1)).data).toEqual({ notice: "maintenance" });
  });

  it("Should not deliver a message again when its id is repeated, and say duplicate", async () => {
    const uid = unique("sdk-dup");
    const { client } = await connect(uid);
    const first = await push.toUid(uid, "once", { id: `order-${uid}` });
    const again = await push.toUid(uid, "once", { id: `order-${uid}` });
    expect(first).toMatchObject({ id: `order-${uid}`, delivered: 1 });
    expect(again).toMatchObject({ ok: true, id: `order-${uid}`, duplicate: true, delivered: 0 });
    await push.toUid(uid, "after");
    expect((await client.next(3)).slice(1).map((m) => JSON.parse(m).data)).toEqual(["once", "after"]);
  });

  it("Should answer a batch in order, with a failed item's error beside the delivered ones", async () => {
    const uid = unique("sdk-batch");
    const { client } = await connect(uid);
    const results = await push.batch([
      { uid, data: 1 },
      { uid: "not a name", data: 2 },
      { uid, data: 3, id: `b-${uid}` },
    ]);
    expect(results).toHaveLength(3);
    expect(results[0]).toMatchObject({ ok: true, delivered: 1 });
    expect(results[1]).toMatchObject({ ok: false, error: { code: "invalid_name" } });
    expect(results[2]).toMatchObject({ ok: true, id: `b-${uid}`, delivered: 1 });
    expect((await client.next(3)).slice(1).map((m) => JSON.parse(m).data)).toEqual([1, 3]);
  });

  it("Should report presence with isOnline, online and group", async () => {
    const uid = unique("sdk-presence");
    const group = unique("sdk-presence-group");
    expect(await push.isOnline(uid)).toBe(false);
    await connect(uid);
    await connect(uid, group);
    expect(await push.isOnline(uid)).toBe(true);
    expect(await push.online(uid)).toEqual({ uid, online: true, connections: 1 });
    expect(await push.group(group)).toEqual({ group, connections: 1, uids: [uid] });
  });

  it("Should list online uids and live groups a page at a time", async () => {
    const uids = [unique("sdk-list-a"), unique("sdk-list-b")];
    const group = unique("sdk-list-group");
    await connect(uids[0]);
    await connect(uids[1], group);
    const everyUid = async () => {
      const seen: string[] = [];
      let page = await push.listUids({ limit: 1 });
      for (;;) {
        expect(page.uids.length).toBeLessThanOrEqual(1);
        seen.push(...page.uids);
        if (page.cursor === null) return seen;
        page = await push.listUids({ limit: 1, cursor: page.cursor });
      }
    };
    const listed = await eventually(everyUid, (all) => uids.every((u) => all.includes(u)));
    expect(listed).toEqual(expect.arrayContaining(uids));
    expect(listed).toEqual([...listed].sort());
    const groups = await eventually(() => push.listGroups(), (p) => p.groups.includes(group));
    expect(groups).toEqual({ groups: expect.arrayContaining([group]), cursor: null });
  });

  it("Should count connections, rooms, uids and groups with stats", async () => {
    const before = await push.stats();
    expect(before).toEqual({
      connections: expect.any(Number),
      rooms: expect.any(Number),
      uids: expect.any(Number),
      groups: expect.any(Number),
    });
    await connect(unique("sdk-stats"), unique("sdk-stats-group"));
    const after = await eventually(() => push.stats(), (s) => s.connections > before.connections);
    expect(after.connections).toBe(before.connections + 1);
    expect(after.groups).toBe(before.groups + 1);
  });

  it("Should send a join frame on grant and close the group socket with 4001 on revoke", async () => {
    const uid = unique("sdk-grant");
    const group = unique("sdk-grant-group");
    const home = await connect(uid);
    expect(await push.grant(group, uid)).toEqual({ ok: true, uid, group, notified: 1 });
    const join = await home.client.json(1);
    expect(join).toMatchObject({ type: "join", group, token: expect.any(String) });

    const member = await openClient(`${server.wsUrl}/ws?token=${join.token}&group=${group}`);
    open.push(member);
    expect(await member.json(0)).toMatchObject({ type: "init", room: `group:${group}` });
    expect(await push.revoke(group, uid)).toEqual({ ok: true, uid, group, closed: 1 });
    expect(await member.closed()).toBe(4001);
  });

  it("Should close every socket of a uid with 4000 on kick", async () => {
    const uid = unique("sdk-kick");
    const a = await connect(uid);
    const b = await connect(uid, unique("sdk-kick-group"));
    expect(await push.kick({ uid, reason: "banned" })).toEqual({ ok: true, uid, closed: 2 });
    expect(await a.client.closed()).toBe(4000);
    expect(await b.client.closed()).toBe(4000);
    expect(await push.isOnline(uid)).toBe(false);
  });
});
