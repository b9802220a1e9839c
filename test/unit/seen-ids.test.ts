import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PURGE_EVERY_MS, SeenIds } from "../../src/gateway/seen-ids";
import type { RoomPushItem } from "../../src/room/types";

const WINDOW = 1_000;
let objects = 0;

/** Runs `fn` with a fresh Durable Object's SQLite, and the rows each statement on it wrote. */
function withSql<T>(fn: (sql: SqlStorage, written: () => number) => T): Promise<T> {
  return runInDurableObject(env.DIRECTORY.getByName(`seen-ids-test:${objects++}`), (_i, state) => {
    const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
    const sql = {
      exec: (query: string, ...args: SqlStorageValue[]) => {
        const cursor = state.storage.sql.exec(query, ...args);
        cursors.push(cursor);
        return cursor;
      },
    } as SqlStorage;
    const written = () => cursors.splice(0).reduce((n, c) => n + c.rowsWritten, 0);
    return fn(sql, written);
  });
}

const hasTable = (sql: SqlStorage) => sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'seen_ids'").toArray().length > 0;
const keys = (sql: SqlStorage) => sql.exec<{ key: string }>("SELECT key FROM seen_ids WHERE key <> '' ORDER BY key").toArray().map((r) => r.key);

const item = (id: string, dedupe = true): RoomPushItem => ({ message: { id, dataJson: "1", raw: "1", ts: 0 }, dedupe });

describe("SeenIds", () => {
  it("Should see a key only after it was added, and no longer once the window has passed", () =>
    withSql((sql) => {
      const seen = new SeenIds(sql, WINDOW);
      expect(seen.has("c|a", 0)).toBe(false);
      seen.add("c|a", 0);
      expect(seen.has("c|a", WINDOW - 1)).toBe(true);
      expect(seen.has("c|b", 1)).toBe(false);
      expect(seen.has("c|a", WINDOW)).toBe(false);
    }));

  it("Should make no table until the first key, so a gateway without ids writes nothing", () =>
    withSql((sql, written) => {
      const seen = new SeenIds(sql, WINDOW);
      expect(seen.has("c|a", 0)).toBe(false);
      let sent = 0;
      const results = seen.deliverOnce([item("a", false), item("a", false)], (i) => `c|${i.message.id}`, () => ++sent);
      expect(results.map((r) => r.duplicate)).toEqual([false, false]);
      expect(sent).toBe(2);
      expect(written()).toBe(0);
      expect(hasTable(sql)).toBe(false);
    }));

  it("Should keep its keys for a new instance over the same storage, as after an eviction", () =>
    withSql((sql) => {
      // deliverOnce reads the clock: the key is added now, with a window of an hour.
      new SeenIds(sql, PURGE_EVERY_MS).add("all|x", Date.now());
      const woken = new SeenIds(sql, PURGE_EVERY_MS);
      expect(woken.has("all|x", Date.now())).toBe(true);
      expect(woken.deliverOnce([item("x")], (i) => `all|${i.message.id}`, () => 1)).toEqual([{ delivered: 0, queued: false, duplicate: true }]);
    }));

  it("Should deliver a repeat of an id in the same batch once, and answer the repeat duplicate", () =>
    withSql((sql) => {
      const seen = new SeenIds(sql, WINDOW);
      const delivered: string[] = [];
      const results = seen.deliverOnce([item("a"), item("b"), item("a")], (i) => `c|${i.message.id}`, (i) => (delivered.push(i.message.id), 1));
      expect(delivered).toEqual(["a", "b"]);
      expect(results).toEqual([
        { delivered: 1, queued: false, duplicate: false },
        { delivered: 1, queued: false, duplicate: false },
        { delivered: 0, queued: false, duplicate: true },
      ]);
      expect(keys(sql)).toEqual(["c|a", "c|b"]);
    }));

  it("Should write one row per new id, the hourly purge aside, and one for an expired key seen again", () =>
    withSql((sql, written) => {
      const seen = new SeenIds(sql, WINDOW);
      seen.add("c|first", 0);
      written(); // the table, and the first purge's marker
      seen.add("c|a", 10);
      expect(written()).toBe(1);
      seen.add("c|a", 10 + WINDOW);
      expect(written()).toBe(1);
    }));

  it("Should purge expired keys at most once an hour, on the hour's first add, even after an eviction", () =>
    withSql((sql) => {
      new SeenIds(sql, WINDOW).add("c|a", 0);
      // Expired, but the purge of t=0 was less than an hour ago: a woken instance reads that from storage.
      new SeenIds(sql, WINDOW).add("c|b", 2 * WINDOW);
      expect(keys(sql)).toEqual(["c|a", "c|b"]);
      const seen = new SeenIds(sql, WINDOW);
      seen.add("c|c", PURGE_EVERY_MS);
      expect(keys(sql)).toEqual(["c|c"]);
      seen.add("c|d", PURGE_EVERY_MS + 2 * WINDOW);
      expect(keys(sql)).toEqual(["c|c", "c|d"]);
    }));
});
