/**
 * The backend ids a gateway accepted for its own pushes (to one of its connections by clientId,
 * or `all`), so that a repeat within 24 h is not delivered again, as a room does with its log.
 * One row per id in the gateway's SQLite (hibernation loses memory, not this), in a table the
 * first id makes: a gateway that never sees an id writes nothing. Expired rows go at most once
 * an hour, when an id is recorded; one marker row remembers that hour across evictions, so a
 * gateway that wakes often does not scan its table on each wake.
 */
import { DEDUPE_WINDOW_MS } from "../room/log";
import type { RoomPushItem, RoomPushResult } from "../room/types";
import { LazyTable } from "../util/lazy-table";

/** How often recording an id may also delete the expired ones. */
export const PURGE_EVERY_MS = 3_600_000;

/** The marker's key: real keys hold a "|" (`<clientId>|<id>`, `all|<id>`), so it never clashes. */
const MARKER = "";

export class SeenIds {
  private readonly table: LazyTable;
  /** When the next purge is due; null until read from the marker. */
  private purgeAt: number | null = null;

  constructor(
    private readonly sql: SqlStorage,
    private readonly windowMs = DEDUPE_WINDOW_MS,
  ) {
    this.table = new LazyTable(sql, "seen_ids", "CREATE TABLE IF NOT EXISTS seen_ids (key TEXT PRIMARY KEY, expires INTEGER NOT NULL) WITHOUT ROWID");
  }

  /** True when `key` was recorded less than the window ago. */
  has(key: string, now: number): boolean {
    if (!this.table.exists()) return false;
    const row = this.sql.exec<{ expires: number }>("SELECT expires FROM seen_ids WHERE key = ?", key).toArray()[0];
    return row !== undefined && row.expires > now;
  }

  /** Records `key` for the window (one row written), and purges expired keys when that is due. */
  add(key: string, now: number): void {
    this.table.make();
    this.put(key, now + this.windowMs);
    this.purge(now);
  }

  /**
   * Delivers each item through `deliver` unless it carries a backend id whose `keyOf` was seen
   * (before, or earlier in `items`): that one answers `duplicate` with nothing delivered. Items
   * without an id touch no storage.
   */
  deliverOnce(items: RoomPushItem[], keyOf: (item: RoomPushItem) => string, deliver: (item: RoomPushItem) => number): RoomPushResult[] {
    const now = Date.now();
    const fresh = new Set<string>();
    const results = items.map((item): RoomPushResult => {
      const key = item.dedupe ? keyOf(item) : null;
      if (key !== null && (fresh.has(key) || this.has(key, now))) return { delivered: 0, queued: false, duplicate: true };
      if (key !== null) fresh.add(key);
      return { delivered: deliver(item), queued: false, duplicate: false };
    });
    // Written after the sends: the output gate holds back whatever is sent after a write until it is on disk.
    for (const key of fresh) this.add(key, now);
    return results;
  }

  private put(key: string, expires: number): void {
    this.sql.exec("INSERT OR REPLACE INTO seen_ids (key, expires) VALUES (?, ?)", key, expires);
  }

  private purge(now: number): void {
    this.purgeAt ??= this.sql.exec<{ expires: number }>("SELECT expires FROM seen_ids WHERE key = ?", MARKER).toArray()[0]?.expires ?? 0;
    if (this.purgeAt > now) return;
    this.sql.exec("DELETE FROM seen_ids WHERE expires <= ? AND key <> ?", now, MARKER);
    this.purgeAt = now + PURGE_EVERY_MS;
    this.put(MARKER, this.purgeAt);
  }
}
