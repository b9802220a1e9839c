import { env, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { gatewayName, gatewayOfClientId } from "../src/contract/names";
import { gatewayConnect } from "./gateway-helpers";
import { api, connect, push } from "./helpers";
import { eventually, getJson, quietStats, statsBecome, unique } from "./presence-helpers";

/** A backend call with a JSON body (any method); status and parsed answer. */
async function call(method: string, path: string, json?: unknown): Promise<{ status: number; body: any }> {
  const res = await api(path, json === undefined ? { method } : { method, json });
  return { status: res.status, body: await res.json() };
}

const bind = (id: string, uid: string) => call("POST", `/clients/${id}/uid`, { uid });
const join = (id: string, group: string) => call("POST", `/clients/${id}/groups`, { group });
const info = (id: string) => getJson(`/clients/${id}`);

/** The gateway Durable Object holding a connection (for eviction). */
function gatewayOf(clientId: string) {
  return env.GATEWAYS.getByName(gatewayName(gatewayOfClientId(clientId)!));
}

describe("GatewayWorker mode: binding /gateway connections by client_id", () => {
  it("Should bind a connection to a uid, so uid pushes reach it and the uid lists it", async () => {
    const uid = unique("bu");
    const { client, clientId } = await gatewayConnect();
    expect(await bind(clientId, uid)).toEqual({ status: 200, body: { ok: true } });
    expect(await push({ uid, data: "to the uid" })).toMatchObject({ delivered: 1 });
    expect(await client.waitFor(1)).toEqual(["to the uid"]);
    expect(await info(clientId)).toEqual({ client_id: clientId, online: true, uid, groups: [], session: null });
    expect(await getJson(`/uids/${uid}/clients`)).toEqual({ uid, client_ids: [clientId] });
    expect(await getJson(`/online/${uid}`)).toEqual({ uid, online: true, connections: 1 });
  });

  it("Should move a connection to its new uid when bound again, and unbind whatever uid it holds, as GatewayWorker does", async () => {
    const [first, second] = [unique("bu"), unique("bu")];
    const { client, clientId } = await gatewayConnect();
    await bind(clientId, first);
    await bind(clientId, second);
    expect(await getJson(`/uids/${first}/clients`)).toEqual({ uid: first, client_ids: [] });
    // GatewayWorker's gateway ignores unbindUid's uid (CMD_UNBIND_UID): naming the old uid unbinds the current one.
    expect(await call("DELETE", `/clients/${clientId}/uid/${first}`)).toEqual({ status: 200, body: { ok: true } });
    expect((await info(clientId)).uid).toBeNull();
    expect(await getJson(`/uids/${second}/clients`)).toEqual({ uid: second, client_ids: [] });
    expect(await push({ uid: second, data: "x", ttl: 0 })).toMatchObject({ delivered: 0 });
    // Without a uid in the path, and with one that is no uid name at all (GatewayClient sends any value), too.
    await bind(clientId, first);
    expect(await call("DELETE", `/clients/${clientId}/uid`)).toEqual({ status: 200, body: { ok: true } });
    expect((await info(clientId)).uid).toBeNull();
    await bind(clientId, first);
    expect(await call("DELETE", `/clients/${clientId}/uid/${encodeURIComponent("not a uid!")}`)).toEqual({ status: 200, body: { ok: true } });
    expect((await info(clientId)).uid).toBeNull();
    expect(await push({ uid: first, data: "y", ttl: 0 })).toMatchObject({ delivered: 0 });
    expect(client.messages).toEqual([]);
  });

  it("Should join and leave groups, a group push reaching members only, and list members with sessions", async () => {
    const group = unique("jg");
    const [a, b, outsider] = [await gatewayConnect(), await gatewayConnect(), await gatewayConnect()];
    expect(await join(a.clientId, group)).toEqual({ status: 200, body: { ok: true } });
    await join(b.clientId, group);
    await call("PUT", `/clients/${b.clientId}/session`, { session: { name: "Bob" } });
    expect(await push({ group, data: "members" })).toMatchObject({ delivered: 2 });
    expect(await a.client.waitFor(1)).toEqual(["members"]);
    expect(await b.client.waitFor(1)).toEqual(["members"]);
    const listed = await getJson(`/groups/${group}/clients`);
    expect(listed.client_ids.slice().sort()).toEqual([a.clientId, b.clientId].sort());
    expect(listed.sessions).toEqual({ [a.clientId]: null, [b.clientId]: { name: "Bob" } });
    expect(await getJson(`/groups/${group}`)).toEqual({ group, connections: 2, uids: [] });
    expect(await call("DELETE", `/clients/${a.clientId}/groups/${group}`)).toEqual({ status: 200, body: { ok: true } });
    expect(await push({ group, data: "after" })).toMatchObject({ delivered: 1 });
    expect((await getJson(`/groups/${group}/clients`)).client_ids).toEqual([b.clientId]);
    expect(outsider.client.messages).toEqual([]);
  });

  it("Should set, deep-merge and read a session, and refuse one over 8 KiB or not an object", async () => {
    const { clientId } = await gatewayConnect();
    await call("PUT", `/clients/${clientId}/session`, { session: { user: { name: "Ivy", level: 1 }, tags: ["a", "b"] } });
    expect(await call("PATCH", `/clients/${clientId}/session`, { session: { user: { level: 2 }, tags: ["z"] } })).toEqual({ status: 200, body: { ok: true } });
    expect((await info(clientId)).session).toEqual({ user: { name: "Ivy", level: 2 }, tags: ["z", "b"] });
    const big = await call("PUT", `/clients/${clientId}/session`, { session: { big: "x".repeat(9000) } });
    expect(big).toMatchObject({ status: 413, body: { error: { code: "too_large", message: expect.stringContaining("8192") } } });
    const grown = await call("PATCH", `/clients/${clientId}/session`, { session: { more: "y".repeat(8200) } });
    expect(grown.status).toBe(413);
    expect(await call("PUT", `/clients/${clientId}/session`, { session: [1, 2] })).toMatchObject({ status: 400, body: { error: { code: "bad_request" } } });
    expect((await info(clientId)).session).toEqual({ user: { name: "Ivy", level: 2 }, tags: ["z", "b"] });
    await call("PUT", `/clients/${clientId}/session`, { session: { fresh: true } });
    expect((await info(clientId)).session).toEqual({ fresh: true });
  });

  it("Should close a client after sending its last message raw, and answer it offline after", async () => {
    const { client, clientId } = await gatewayConnect();
    expect(await call("POST", `/clients/${clientId}/close`, { message: '{"type":"bye"}' })).toEqual({ status: 200, body: { ok: true } });
    expect(await client.closed()).toBe(1000);
    expect(client.messages).toEqual(['{"type":"bye"}']);
    expect(await info(clientId)).toEqual({ client_id: clientId, online: false, uid: null, groups: [], session: null });
    expect(await call("POST", `/clients/${clientId}/close`, {})).toMatchObject({ status: 404 });
  });

  it("Should dissolve a group: its gateway members leave it and its /ws sockets close with 4001", async () => {
    const group = unique("ug");
    const [a, b] = [await gatewayConnect(), await gatewayConnect()];
    await join(a.clientId, group);
    await join(b.clientId, group);
    const ws = await connect(unique("wsu"), { groups: [group], group });
    expect(await call("DELETE", `/groups/${group}`)).toEqual({ status: 200, body: { ok: true, group, removed: 3 } });
    expect(await ws.client.closed()).toBe(4001);
    expect(await push({ group, data: "nobody", ttl: 0 })).toMatchObject({ delivered: 0 });
    expect((await getJson(`/groups/${group}/clients`)).client_ids).toEqual([]);
    expect((await info(a.clientId)).online).toBe(true);
    expect(await call("DELETE", `/groups/${unique("never")}`)).toMatchObject({ status: 200, body: { removed: 0 } });
  });

  it("Should list every gateway connection with GET /clients, and count them in /stats", async () => {
    const base = await quietStats();
    const uid = unique("su");
    const a = await gatewayConnect();
    const b = await gatewayConnect(uid);
    await statsBecome(base, { connections: 2, rooms: 1, uids: 1 });
    const all = await getJson("/clients");
    expect(all.client_ids).toEqual(expect.arrayContaining([a.clientId, b.clientId]));
    expect(all.sessions[a.clientId]).toBeNull();
    a.client.close();
    b.client.close();
    await statsBecome(base, {});
  });

  it("Should keep bindings, groups and the session of a connection across the gateway's hibernation", async () => {
    const [uid, group] = [unique("hu"), unique("hg")];
    const { client, clientId } = await gatewayConnect();
    await bind(clientId, uid);
    await join(clientId, group);
    await call("PUT", `/clients/${clientId}/session`, { session: { kept: 1 } });
    await evictDurableObject(gatewayOf(clientId), { webSockets: "hibernate" });
    expect(await push({ uid, data: "after sleep (uid)" })).toMatchObject({ delivered: 1 });
    expect(await push({ group, data: "after sleep (group)" })).toMatchObject({ delivered: 1 });
    expect(await client.waitFor(2)).toEqual(["after sleep (uid)", "after sleep (group)"]);
    expect(await info(clientId)).toEqual({ client_id: clientId, online: true, uid, groups: [group], session: { kept: 1 } });
    await evictDurableObject(gatewayOf(clientId), { webSockets: "hibernate" });
    expect(await call("DELETE", `/clients/${clientId}/groups/${group}`)).toMatchObject({ status: 200 });
    expect(await push({ group, data: "gone", ttl: 0 })).toMatchObject({ delivered: 0 });
    client.close();
    await eventually(() => getJson(`/online/${uid}`), (o) => o.online === false);
  });
});

describe("GatewayWorker mode: clear errors", () => {
  it("Should refuse a malformed client_id with 400 invalid_name on reads and writes", async () => {
    for (const [method, path, body] of [["GET", "/clients/not-a-client"], ["POST", "/clients/12/uid", { uid: "u" }], ["POST", "/clients/x.y/close", {}]] as const) {
      const answer = await call(method, path, body);
      expect(answer, `${method} ${path}`).toMatchObject({ status: 400, body: { error: { code: "invalid_name", message: expect.stringContaining("client_id") } } });
    }
  });

  it("Should refuse a /ws socket's clientId, saying the routes are for /gateway connections", async () => {
    const { init } = await connect(unique("wsc"));
    const answer = await bind(init.clientId, "u");
    expect(answer).toMatchObject({ status: 400, body: { error: { code: "bad_request", message: expect.stringContaining("/gateway connections") } } });
    expect((await join(init.clientId, "g")).status).toBe(400);
  });

  it("Should answer a well-formed client_id that is not connected: offline on reads, 404 on writes", async () => {
    for (const id of ["0.1234567890123456", "99999.1234567890123456"]) {
      expect(await info(id)).toEqual({ client_id: id, online: false, uid: null, groups: [], session: null });
      for (const [method, path, body] of [
        ["POST", `/clients/${id}/uid`, { uid: "u" }], ["POST", `/clients/${id}/groups`, { group: "g" }],
        ["PUT", `/clients/${id}/session`, { session: {} }], ["POST", `/clients/${id}/close`, {}], ["DELETE", `/clients/${id}/uid/u`],
        ["DELETE", `/clients/${id}/uid`],
      ] as const) {
        expect(await call(method, path, body), `${method} ${path}`).toEqual({
          status: 404, body: { error: { code: "not_found", message: `client ${id} is not connected` } },
        });
      }
    }
  });

  it("Should refuse bad uids, groups and bodies, and an unknown group lists nobody", async () => {
    const { clientId } = await gatewayConnect();
    expect(await bind(clientId, "not a uid!")).toMatchObject({ status: 400, body: { error: { code: "invalid_name", message: expect.stringContaining("uid") } } });
    expect(await join(clientId, "x".repeat(129))).toMatchObject({ status: 400, body: { error: { code: "invalid_name" } } });
    expect(await call("POST", `/clients/${clientId}/uid`, { user: "u" })).toMatchObject({ status: 400, body: { error: { code: "bad_request", message: expect.stringContaining("uid") } } });
    expect(await call("POST", `/clients/${clientId}/close`, { message: "m".repeat(70_000) })).toMatchObject({ status: 413 });
    expect(await getJson(`/groups/${unique("nobody")}/clients`)).toMatchObject({ client_ids: [], sessions: {} });
    expect((await call("GET", "/groups/bad%20name/clients")).status).toBe(400);
  });

  it("Should refuse every /clients route without the backend secret", async () => {
    const res = await api("/clients/0.1234567890123456", { headers: { Authorization: "Bearer wrong" } });
    expect(res.status).toBe(401);
  });
});
