import { verify } from "hono/jwt";
import { describe, expect, it } from "vitest";
import { Client, TOKEN_SECRET, api, connect, receivedBefore, upgrade } from "./helpers";
import { eventually, getJson, unique } from "./presence-helpers";

async function expectError(res: Response, status: number, code: string, field?: string) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as any;
  expect(body.error.code).toBe(code);
  if (field) expect(body.error.message).toMatch(new RegExp(`^${field}`));
}

describe("POST /groups/:group/members", () => {
  it("Should send the uid's live clients a join frame whose token opens the group", async () => {
    const [uid, group] = [unique("grant"), unique("grant-g")];
    const a = await connect(uid);
    const b = await connect(uid, { extra: "format=raw" });
    const other = await connect(unique("bystander"));
    const res = await api(`/groups/${group}/members`, { json: { uid } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, uid, group, notified: 2 });
    for (const { client } of [a, b]) {
      const frame = await client.json(0);
      expect(frame).toMatchObject({ type: "join", group });
      const claims = await verify(frame.token, TOKEN_SECRET, "HS256");
      expect(claims).toMatchObject({ sub: uid, groups: [group] });
      expect(claims.exp).toBeGreaterThan(Date.now() / 1000 + 3000);
    }
    const joined = await upgrade(`token=${(await a.client.json(0)).token}&group=${group}`);
    expect(joined.status).toBe(101);
    new Client(joined.webSocket!).close();
    // The grant answered after its rooms sent: a sentinel pushed now comes after anything it sent.
    expect(await receivedBefore(other.client, other.init)).toEqual([]);
  });

  it("Should notify nobody when the uid is offline, and skip legacy connections", async () => {
    const uid = unique("grant-off");
    expect(await (await api("/groups/g1/members", { json: { uid } })).json()).toEqual({ ok: true, uid, group: "g1", notified: 0 });
    const legacy = new Client((await upgrade("")).webSocket!);
    legacy.send(uid);
    await eventually(() => getJson(`/online/${uid}`), (o) => o.online);
    expect(await (await api("/groups/g1/members", { json: { uid } })).json()).toMatchObject({ notified: 0 });
    expect(await receivedBefore(legacy, { uid })).toEqual([]);
    legacy.close();
  });

  it("Should refuse bad names and bodies", async () => {
    await expectError(await api("/groups/bad%20group/members", { json: { uid: "u" } }), 400, "invalid_name", "group");
    await expectError(await api("/groups/g/members", { json: { uid: "u/1" } }), 400, "invalid_name", "uid");
    await expectError(await api("/groups/g/members", { json: {} }), 400, "bad_request", "uid");
    await expectError(await api("/groups/g/members", { json: { uid: 7 } }), 400, "bad_request", "uid");
    await expectError(await api("/groups/g/members", { method: "POST", body: "{" }), 400, "bad_json");
    await expectError(
      await api("/groups/g/members", { method: "POST", body: "uid=u", headers: { "Content-Type": "application/x-www-form-urlencoded" } }),
      415, "unsupported_media_type");
    await expectError(await api("/groups/g/members", { json: { uid: "u" }, headers: { Authorization: "" } }), 401, "unauthorized");
  });
});

describe("DELETE /groups/:group/members/:uid", () => {
  it("Should close the uid's sockets in that group with 4001 and nothing else", async () => {
    const [uid, peer, group] = [unique("rm"), unique("rm-peer"), unique("rm-g")];
    const inGroup = await connect(uid, { groups: [group], group });
    const inGroup2 = await connect(uid, { groups: [group], group });
    const own = await connect(uid);
    const peerSocket = await connect(peer, { groups: [group], group });
    const res = await api(`/groups/${group}/members/${uid}`, { method: "DELETE" });
    expect(await res.json()).toEqual({ ok: true, uid, group, closed: 2 });
    expect(await inGroup.client.closed()).toBe(4001);
    expect(await inGroup2.client.closed()).toBe(4001);
    expect(await getJson(`/groups/${group}`)).toEqual({ group, connections: 1, uids: [peer] });
    expect(own.client.closeCode).toBeNull();
    expect(peerSocket.client.closeCode).toBeNull();
    own.client.close();
    peerSocket.client.close();
  });

  it("Should answer closed 0 for a uid not in the group", async () => {
    const res = await api("/groups/empty-g/members/nobody", { method: "DELETE" });
    expect(await res.json()).toEqual({ ok: true, uid: "nobody", group: "empty-g", closed: 0 });
  });

  it("Should refuse bad names", async () => {
    await expectError(await api("/groups/g/members/a%20b", { method: "DELETE" }), 400, "invalid_name", "uid");
    await expectError(await api(`/groups/${"g".repeat(129)}/members/u`, { method: "DELETE" }), 400, "invalid_name", "group");
  });
});

describe("POST /kick", () => {
  it("Should close every socket of a uid, its own room and its groups, with 4000 and the reason", async () => {
    const [uid, group, other] = [unique("kick"), unique("kick-g"), unique("kick-other")];
    const own = await connect(uid);
    const grouped = await connect(uid, { groups: [group], group });
    const legacy = new Client((await upgrade("")).webSocket!);
    legacy.send(uid);
    await eventually(() => getJson(`/online/${uid}`), (o) => o.connections === 2);
    const bystander = await connect(other, { groups: [group], group });
    const res = await api("/kick", { json: { uid, reason: "banned" } });
    expect(await res.json()).toEqual({ ok: true, uid, closed: 3 });
    for (const client of [own.client, grouped.client, legacy]) {
      expect(await client.closed()).toBe(4000);
      expect(client.closeReason).toBe("banned");
    }
    expect(await getJson(`/online/${uid}`)).toMatchObject({ online: false });
    expect(bystander.client.closeCode).toBeNull();
    bystander.client.close();
  });

  it("Should close exactly one connection by clientId", async () => {
    const uid = unique("kick-one");
    const a = await connect(uid);
    const b = await connect(uid);
    const res = await api("/kick", { json: { clientId: a.init.clientId } });
    expect(await res.json()).toEqual({ ok: true, clientId: a.init.clientId, closed: 1 });
    expect(await a.client.closed()).toBe(4000);
    expect(a.client.closeReason).toBe("kicked");
    expect(await getJson(`/online/${uid}`)).toMatchObject({ connections: 1 });
    expect(b.client.closeCode).toBeNull();
    b.client.close();
  });

  it("Should answer closed 0 for a uid with no sockets", async () => {
    expect(await (await api("/kick", { json: { uid: "never-here" } })).json()).toEqual({ ok: true, uid: "never-here", closed: 0 });
  });

  it("Should refuse wrong shapes and bad names", async () => {
    await expectError(await api("/kick", { json: {} }), 400, "bad_request", "body");
    await expectError(await api("/kick", { json: { uid: "a", clientId: "b" } }), 400, "bad_request", "body");
    await expectError(await api("/kick", { json: { uid: 1 } }), 400, "bad_request", "uid");
    await expectError(await api("/kick", { json: { uid: "a", reason: 5 } }), 400, "bad_request", "reason");
    await expectError(await api("/kick", { json: { uid: "a", reason: "é".repeat(62) } }), 400, "bad_request", "reason");
    await expectError(await api("/kick", { json: { uid: "a b" } }), 400, "invalid_name", "uid");
    await expectError(await api("/kick", { json: { clientId: "not-a-client" } }), 400, "invalid_name", "clientId");
    await expectError(await api("/kick", { json: { uid: "a" }, headers: { Authorization: "Bearer nope" } }), 401, "unauthorized");
  });
});

describe("POST /token", () => {
  it("Should sign a token that connects the uid to its groups", async () => {
    const res = await api("/token", { json: { uid: "tok-user", groups: ["tg"], ttl: 60 } });
    expect(res.status).toBe(200);
    const { token, expiresAt } = (await res.json()) as any;
    expect(expiresAt).toBeGreaterThan(Date.now() / 1000 + 50);
    expect(expiresAt).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 60);
    const ws = await upgrade(`token=${token}&group=tg`);
    expect(ws.status).toBe(101);
    new Client(ws.webSocket!).close();
  });

  it("Should refuse bad bodies", async () => {
    await expectError(await api("/token", { json: { uid: "a b" } }), 400, "invalid_name", "uid");
    await expectError(await api("/token", { json: { uid: "a", groups: ["ok", "no way"] } }), 400, "invalid_name", "groups.1");
    await expectError(await api("/token", { json: { uid: "a", ttl: 0 } }), 400, "bad_request", "ttl");
    await expectError(await api("/token", { json: { groups: [] } }), 400, "bad_request", "uid");
  });
});
