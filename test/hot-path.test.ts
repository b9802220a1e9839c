/**
 * What the speed work on the push path must not change: the constant-time secret check, the
 * body bound when a body is read in one call, and a room's seq across restarts now that the
 * seq is stored in the newest log row instead of a `meta` write per push.
 */
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PUSH_SECRET, api, connect, push, untilExpired } from "./helpers";

const stubOf = (room: string) => env.ROOMS.getByName(room);

async function initSeq(uid: string): Promise<number> {
  const { client, init } = await connect(uid);
  client.close();
  return init.seq;
}

describe("POST /push credential and body", () => {
  it("Should answer 401 for a wrong secret of the same length as PUSH_SECRET", async () => {
    const wrong = `${PUSH_SECRET.slice(0, -1)}${PUSH_SECRET.endsWith("x") ? "y" : "x"}`;
    const res = await api("/push", { json: { uid: "a", data: 1 }, headers: { Authorization: `Bearer ${wrong}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.code).toBe("unauthorized");
  });

  it("Should accept the right secret and deliver", async () => {
    const res = await api("/push", { json: { uid: "secret-ok", data: 1 } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, delivered: 0, queued: 1 });
  });

  it("Should answer 413 for a body over MAX_BODY_BYTES sent as a stream without Content-Length", async () => {
    const chunk = new TextEncoder().encode(`[${'{"uid":"a","data":"x"},'.repeat(20_000)}`);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 3; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await exports.default.fetch("https://edgepush.test/push", {
      method: "POST", body, headers: { Authorization: `Bearer ${PUSH_SECRET}`, "Content-Type": "application/json" },
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe("too_large");
  });

  it("Should read a multi-byte body whole and deliver its text unchanged", async () => {
    const { client } = await connect("utf8-body");
    const data = "é€😀".repeat(1000);
    expect(await push({ uid: "utf8-body", data })).toMatchObject({ delivered: 1 });
    const [frame] = await client.waitFor(1);
    expect(JSON.parse(frame).data).toBe(data);
  });
});

describe("A room's seq across restarts", () => {
  it("Should go on counting after eviction when the last message was logged", async () => {
    for (let i = 0; i < 3; i++) await push({ uid: "seq-logged", data: i });
    await evictDurableObject(stubOf("uid:seq-logged"));
    await push({ uid: "seq-logged", data: 3 });
    expect(await initSeq("seq-logged")).toBe(4);
  });

  it("Should go on counting after eviction when the last message was live only (ttl 0)", async () => {
    await push({ uid: "seq-live", data: 0 });
    await push({ uid: "seq-live", data: 1, ttl: 0 });
    await push({ uid: "seq-live", data: 2, ttl: 0 });
    await evictDurableObject(stubOf("uid:seq-live"));
    expect(await initSeq("seq-live")).toBe(3);
  });

  it("Should go on counting after every logged message expired and was purged", async () => {
    await push([{ uid: "seq-purged", data: 0, ttl: 1 }, { uid: "seq-purged", data: 1, ttl: 1 }]);
    await untilExpired("uid:seq-purged", 2);
    await runDurableObjectAlarm(stubOf("uid:seq-purged"));
    await evictDurableObject(stubOf("uid:seq-purged"));
    expect(await initSeq("seq-purged")).toBe(2);
  });

  it("Should go on counting after eviction when the last call was a batch", async () => {
    await push(Array.from({ length: 5 }, (_, i) => ({ uid: "seq-batch", data: i })));
    await evictDurableObject(stubOf("uid:seq-batch"));
    await push({ uid: "seq-batch", data: 5 });
    expect(await initSeq("seq-batch")).toBe(6);
  });
});

describe("Expiry without alarms or deletes", () => {
  const rows = (room: string) =>
    runInDurableObject(stubOf(room), (_i, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM log").one().n);

  it("Should set no alarm for expiry and let the next message take the expired row", async () => {
    await push([{ uid: "sweep", data: "short", ttl: 1 }, { uid: "sweep", data: "soon", ttl: 5 }]);
    expect(await runInDurableObject(stubOf("uid:sweep"), (_i, state) => state.storage.getAlarm())).toBeNull();
    await untilExpired("uid:sweep");
    await push({ uid: "sweep", data: "later" });
    expect(await rows("uid:sweep")).toBe(2);
    const { client } = await connect("sweep", { extra: "since=0" });
    expect((await client.waitFor(2)).map((m) => JSON.parse(m).data)).toEqual(["soon", "later"]);
  });

  it("Should bring a room made by an older version to one table: its log, its seen ids and its seq kept", async () => {
    const stub = stubOf("uid:old-schema");
    await runInDurableObject(stub, (_i, state) => {
      const sql = state.storage.sql;
      const far = Date.now() + 3600_000;
      sql.exec("CREATE TABLE log (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, data TEXT NOT NULL, raw TEXT, ts INTEGER NOT NULL, expires INTEGER NOT NULL, pending INTEGER NOT NULL, bytes INTEGER NOT NULL, event TEXT)");
      sql.exec("CREATE TABLE seen (key TEXT PRIMARY KEY, expires INTEGER NOT NULL) WITHOUT ROWID");
      sql.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID");
      sql.exec("CREATE TABLE directory_uids (uid TEXT PRIMARY KEY) WITHOUT ROWID");
      sql.exec("CREATE INDEX log_expires ON log (expires)");
      sql.exec("CREATE INDEX seen_expires ON seen (expires)");
      sql.exec("INSERT INTO log VALUES (1, 'm1', '\"one\"', NULL, 1, ?, 1, 5, NULL), (2, 'x2', '\"two\"', NULL, 2, ?, 1, 5, NULL)", far, far);
      sql.exec("INSERT INTO seen VALUES ('m1', ?)", far);
      sql.exec("INSERT INTO meta VALUES ('name', 'uid:old-schema')");
    });
    await evictDurableObject(stub);
    expect(await push({ uid: "old-schema", data: 1, id: "m1" })).toMatchObject({ duplicate: true });
    const { client, init } = await connect("old-schema");
    expect(init.seq).toBe(2);
    // The old rows were queued for the uid: the first client gets them, once.
    expect((await client.waitFor(2)).map((m) => JSON.parse(m).data)).toEqual(["one", "two"]);
    const names = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name").toArray().map((r) => r.name));
    expect(names.filter((n) => !n.startsWith("sqlite_") && !n.startsWith("_cf"))).toEqual(["log", "meta"]);
  });
});

describe("The log bound", () => {
  it("Should keep exactly LOG_MAX_ROWS messages, dropping only the oldest", async () => {
    for (let from = 0; from < 5000; from += 1000) {
      await push(Array.from({ length: 1000 }, (_, j) => ({ uid: "full-log", data: from + j })));
    }
    const span = () => runInDurableObject(stubOf("uid:full-log"), (_i, state) =>
      state.storage.sql.exec("SELECT COUNT(*) AS n, MIN(seq) AS first FROM log").one());
    expect(await span()).toEqual({ n: 5000, first: 1 });
    await push({ uid: "full-log", data: 5000 });
    expect(await span()).toEqual({ n: 5000, first: 2 });
  });
});
