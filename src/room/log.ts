/** A room's message log and seen-id set in its SQLite storage. */
import type { OutboundMessage } from "../contract/protocol";

/** How long a message id is remembered for de-duplication. */
export const DEDUPE_WINDOW_MS = 24 * 3600 * 1000;

export interface LogRow {
  seq: number;
  message: OutboundMessage;
}

interface Bounds {
  maxRows: number;
  maxBytes: number;
}

/**
 * Rows written per message: one `log` row when ttl > 0, one `seen` row when the backend gave an
 * id; plus one `meta` write per push call whose last message was not logged (for the sequence).
 */
export class RoomLog {
  private seq: number;
  /** The highest seq storage gives back after a restart: the `meta` row or the newest log row. */
  private storedSeq: number;
  private metaSeq: number;
  private rows = -1;
  private bytes = -1;

  constructor(
    private readonly sql: SqlStorage,
    private readonly bounds: Bounds,
  ) {
    sql.exec(`CREATE TABLE IF NOT EXISTS log (
      seq INTEGER PRIMARY KEY, id TEXT NOT NULL, data TEXT NOT NULL, raw TEXT, ts INTEGER NOT NULL,
      expires INTEGER NOT NULL, pending INTEGER NOT NULL, bytes INTEGER NOT NULL, event TEXT)`);
    // Logs made before events existed get the column (NULL: the default event).
    const columns = sql.exec<{ name: string }>("PRAGMA table_info(log)").toArray();
    if (!columns.some((c) => c.name === "event")) sql.exec("ALTER TABLE log ADD COLUMN event TEXT");
    sql.exec("CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, expires INTEGER NOT NULL) WITHOUT ROWID");
    // No index on `expires`: it would cost a page write in every push's commit, while purges are
    // rare sweeps (see RoomObject.alarm) that scan a bounded log. Rooms made before drop theirs.
    sql.exec("DROP INDEX IF EXISTS log_expires");
    sql.exec("DROP INDEX IF EXISTS seen_expires");
    sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID");
    this.metaSeq = Number(this.meta("seq") ?? 0);
    const newest = sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM log").one().seq ?? 0;
    this.seq = this.storedSeq = Math.max(this.metaSeq, newest);
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Takes the next sequence number; `saveSeq` persists it once per call. */
  nextSeq(): number {
    return ++this.seq;
  }

  /**
   * Makes the seq survive a restart. A logged message already stores its seq in its row (trim
   * never deletes the newest row), so the `meta` row is written only when the last seq handed
   * out is not in the log: one page less per commit on the common path.
   */
  saveSeq(): void {
    if (this.seq > this.storedSeq) this.writeSeq();
  }

  private writeSeq(): void {
    this.setMeta("seq", String(this.seq));
    this.metaSeq = this.storedSeq = this.seq;
  }

  meta(key: string): string | null {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0];
    return row ? row.value : null;
  }

  setMeta(key: string, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }

  /** True when `key` was seen within the window; otherwise records it. */
  seenBefore(key: string, now: number): boolean {
    const hit = this.sql.exec("SELECT 1 FROM seen WHERE key = ? AND expires > ?", key, now).toArray();
    if (hit.length > 0) return true;
    this.sql.exec("INSERT OR REPLACE INTO seen (key, expires) VALUES (?, ?)", key, now + DEDUPE_WINDOW_MS);
    return false;
  }

  append(seq: number, msg: OutboundMessage, expires: number, pending: boolean): void {
    const raw = msg.raw === msg.dataJson ? null : msg.raw;
    const bytes = msg.dataJson.length + (raw?.length ?? 0) + msg.id.length;
    // Counted before the insert: counting after it would count the new row twice.
    this.count();
    this.sql.exec(
      "INSERT INTO log (seq, id, data, raw, ts, expires, pending, bytes, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      seq, msg.id, msg.dataJson, raw, msg.ts, expires, pending ? 1 : 0, bytes, msg.event ?? null,
    );
    if (seq > this.storedSeq) this.storedSeq = seq;
    this.rows += 1;
    this.bytes += bytes;
    this.trim();
  }

  /** Unexpired rows with seq > `since`, oldest first. */
  since(since: number, now: number): LogRow[] {
    return this.read("SELECT * FROM log WHERE seq > ? AND expires > ? ORDER BY seq", since, now);
  }

  /** The newest unexpired row (a cache channel's last event), or null. */
  last(now: number): LogRow | null {
    return this.read("SELECT * FROM log WHERE expires > ? ORDER BY seq DESC LIMIT 1", now)[0] ?? null;
  }

  /** Rows queued while nobody was connected; they count as delivered from now on. */
  takePending(now: number): LogRow[] {
    const rows = this.read("SELECT * FROM log WHERE pending = 1 AND expires > ? ORDER BY seq", now);
    if (rows.length > 0) this.sql.exec("UPDATE log SET pending = 0 WHERE pending = 1");
    return rows;
  }

  clearPending(): void {
    this.sql.exec("UPDATE log SET pending = 0 WHERE pending = 1");
  }

  /** Deletes expired rows; returns the next expiry time, or null when nothing is left to expire. */
  purge(now: number): number | null {
    // Expiry may delete the newest row, which holds the seq: keep the seq in `meta` first.
    if (this.metaSeq < this.seq) this.writeSeq();
    this.sql.exec("DELETE FROM log WHERE expires <= ?", now);
    this.sql.exec("DELETE FROM seen WHERE expires <= ?", now);
    this.rows = -1;
    const next = this.sql
      .exec<{ t: number | null }>("SELECT MIN(t) AS t FROM (SELECT MIN(expires) AS t FROM log UNION ALL SELECT MIN(expires) FROM seen)")
      .one().t;
    return next ?? null;
  }

  private read(query: string, ...args: number[]): LogRow[] {
    return this.sql
      .exec<{ seq: number; id: string; data: string; raw: string | null; ts: number; event: string | null }>(query, ...args)
      .toArray()
      .map((r) => ({ seq: r.seq, message: messageOf(r) }));
  }

  private count(): void {
    if (this.rows >= 0) return;
    const row = this.sql.exec<{ n: number; b: number | null }>("SELECT COUNT(*) AS n, SUM(bytes) AS b FROM log").one();
    this.rows = row.n;
    this.bytes = row.b ?? 0;
  }

  // Oldest rows go first when the log is over its row or byte bound.
  private trim(): void {
    while (this.rows > this.bounds.maxRows || (this.bytes > this.bounds.maxBytes && this.rows > 1)) {
      const excess = Math.max(1, this.rows - this.bounds.maxRows);
      const gone = this.sql
        .exec<{ n: number; b: number }>(
          "SELECT COUNT(*) AS n, COALESCE(SUM(bytes),0) AS b FROM (SELECT bytes FROM log ORDER BY seq LIMIT ?)", excess)
        .one();
      this.sql.exec("DELETE FROM log WHERE seq IN (SELECT seq FROM log ORDER BY seq LIMIT ?)", excess);
      this.rows -= gone.n;
      this.bytes -= gone.b;
    }
  }
}

function messageOf(r: { id: string; data: string; raw: string | null; ts: number; event: string | null }): OutboundMessage {
  const message: OutboundMessage = { id: r.id, dataJson: r.data, raw: r.raw ?? r.data, ts: r.ts };
  if (r.event !== null) message.event = r.event;
  return message;
}
