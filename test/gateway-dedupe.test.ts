import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { connect, push, receivedBefore, type Client } from "./helpers";
import { gatewayConnect, pusherConnect } from "./gateway-helpers";
import { unique } from "./presence-helpers";

/** The gateway shard holding a gateway connection (its clientId is `<shard>.<digits>`). */
const gatewayOf = (clientId: string) => env.GATEWAYS.getByName(`gw:${clientId.split(".")[0]}`);

/** Ids recorded in the gateways' seen-ids tables (0 for a gateway without one), over every test shard. */
async function seenRows(): Promise<number> {
  let rows = 0;
  for (const shard of [0, 1]) {
    rows += await runInDurableObject(env.GATEWAYS.getByName(`gw:${shard}`), (_i, state) => {
      const sql = state.storage.sql;
      if (sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'seen_ids'").toArray().length === 0) return 0;
      return sql.exec<{ n: number }>("SELECT count(*) AS n FROM seen_ids WHERE key <> ''").one().n;
    });
  }
  return rows;
}

/** Evicts the gateways of these connections, sockets hibernated: in-memory state is gone. */
async function evictGateways(clientIds: string[]): Promise<void> {
  const shards = new Map(clientIds.map((id) => [id.split(".")[0], id]));
  for (const id of shards.values()) await evictDurableObject(gatewayOf(id), { webSockets: "hibernate" });
}

/** What a gateway connection received before a sentinel pushed to its clientId came after it. */
const before = (client: Client, clientId: string) => receivedBefore(client, { clientId });

describe("POST /push with an id to a gateway connection's clientId", () => {
  it("Should not deliver a repeated id again and answer duplicate, also after the gateway was evicted", async () => {
    const a = await gatewayConnect();
    const id = unique("gw-client-id");
    const first = await push({ clientId: a.clientId, data: "once", id });
    expect(first).toEqual({ ok: true, id, delivered: 1, queued: 0 });
    const repeat = { ok: true, id, delivered: 0, queued: 0, duplicate: true };
    expect(await push({ clientId: a.clientId, data: "once", id })).toEqual(repeat);
    await evictGateways([a.clientId]);
    expect(await push({ clientId: a.clientId, data: "once", id })).toEqual(repeat);
    expect(await before(a.client, a.clientId)).toEqual(["once"]);
  });

  it("Should deliver different ids, and one id to another connection, each once", async () => {
    const a = await gatewayConnect();
    const b = await gatewayConnect();
    const [x, y] = [unique("gw-x"), unique("gw-y")];
    expect(await push({ clientId: a.clientId, data: "x", id: x })).toMatchObject({ delivered: 1 });
    expect(await push({ clientId: a.clientId, data: "y", id: y })).toMatchObject({ delivered: 1 });
    const toB = await push({ clientId: b.clientId, data: "x for b", id: x });
    expect(toB).toEqual({ ok: true, id: x, delivered: 1, queued: 0 });
    expect(await before(a.client, a.clientId)).toEqual(["x", "y"]);
    expect(await before(b.client, b.clientId)).toEqual(["x for b"]);
  });

  it("Should answer the second of two messages with one id in one batch as a duplicate", async () => {
    const a = await gatewayConnect();
    const id = unique("gw-batch");
    const res = await push([{ clientId: a.clientId, data: "first", id }, { clientId: a.clientId, data: "second", id }]);
    expect(res.results).toEqual([
      { ok: true, id, delivered: 1, queued: 0 },
      { ok: true, id, delivered: 0, queued: 0, duplicate: true },
    ]);
    expect(await before(a.client, a.clientId)).toEqual(["first"]);
  });
});

describe("POST /push with all and an id, to gateway connections", () => {
  it("Should reach Pusher and /gateway connections once and answer the repeat duplicate, across eviction", async () => {
    const gw = await gatewayConnect();
    const pusher = await pusherConnect();
    const ws = await connect(unique("gw-all-ws"));
    const id = unique("gw-all-id");
    const first = await push({ all: true, data: "to all", id });
    expect(first).toMatchObject({ ok: true, id });
    expect(first.delivered).toBeGreaterThanOrEqual(3);
    expect(first.duplicate).toBeUndefined();
    await evictGateways([gw.clientId, pusher.socketId]);
    expect(await push({ all: true, data: "to all", id })).toEqual({ ok: true, id, delivered: 0, queued: 0, duplicate: true });
    expect(await before(gw.client, gw.clientId)).toEqual(["to all"]);
    expect(await before(pusher.client, pusher.socketId)).toEqual([JSON.stringify({ event: "push", data: "to all" })]);
    const frames = (await receivedBefore(ws.client, { clientId: ws.init.clientId })).map((m) => JSON.parse(m));
    expect(frames.filter((f) => f.id === id)).toHaveLength(1);
  });
});

describe("Gateway de-duplication storage", () => {
  it("Should write no row for pushes without an id, and one for a push with one", async () => {
    const a = await gatewayConnect();
    const start = await seenRows();
    expect(await push({ clientId: a.clientId, data: "no id" })).toMatchObject({ delivered: 1 });
    expect(await push({ all: true, data: "no id either" })).toMatchObject({ ok: true });
    expect(await seenRows()).toBe(start);
    await push({ clientId: a.clientId, data: "with id", id: unique("gw-row") });
    expect(await seenRows()).toBe(start + 1);
  });
});
