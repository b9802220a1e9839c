/**
 * A room's message log in its SQLite storage: one row per message, its de-duplication key as the
 * row's key, so a message with an id and a ttl writes exactly one row. Rows are never purged:
 * an expired row is overwritten by a later message (an UPDATE is one row written, a DELETE and
 * an INSERT two), so expiry costs no alarm and no write of its own.
 */
import type { OutboundMessage } from "../contract/protocol";
import { LogIndex, type IndexEntry } from "./log-index";
import { createTables, migrateLog } from "./log-schema";

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

/** How a uid room stores a message for its offline queue (`pending` column). */
export const QUEUE = {
  /** Logged while a token client was connected: it took (or cleared) every queued row before it. */
  taken: 0,
  /** Logged while nobody was connected: replayed to the next client connecting without `since`. */
  queued: 1,
  /** Neither (a group room, or only legacy and gateway connections). */
  none: 2,
} as const;

export interface AppendOptions {
  /** The de-duplication key (the backend's id, prefixed per target), or null for none. */
  key: string | null;
  /** Replayable until then; 0 for a de-duplication record without a log entry (ttl 0). */
  expires: number;
  queue: (typeof QUEUE)[keyof typeof QUEUE];
}

type Row = { seq: number; id: string; data: string; raw: string | null; ts: number; event: string | null };

const COLUMNS = "key, seq, id, data, raw, ts, expires, keep, pending, bytes, event";

export class RoomLog {
  private index: LogIndex | null = null;
  /** Row writes waiting for `release` (see `hold`), in order; null when writes run at once. */
  private held: (() => void)[] | null = null;
  /** Which tables exist: a room that never stored anything has none (reads then cost nothing). */
  private readonly exists: { log: boolean; meta: boolean };

  constructor(
    private readonly sql: SqlStorage,
    private readonly bounds: Bounds,
    /** Whether token clients were connected when the room woke (they took the queue when they connected). */
    private readonly tokenClientConnected: () => boolean = () => false,
  ) {
    this.exists = migrateLog(sql);
  }

  private get idx(): LogIndex {
    return (this.index ??= this.load());
  }

  get lastSeq(): number {
    return this.idx.lastSeq;
  }

  /** Takes the next sequence number; `saveSeq` persists it once per call. */
  nextSeq(): number {
    return ++this.idx.lastSeq;
  }

  /**
   * Makes the seq survive a restart. A logged message (or de-duplication record) stores its seq
   * in its row, so the `meta` row is written only when the last seq handed out has no row.
   */
  saveSeq(): void {
    const idx = this.idx;
    if (idx.lastSeq <= idx.storedSeq) return;
    this.setMeta("seq", String(idx.lastSeq));
    idx.storedSeq = idx.lastSeq;
  }

  /**
   * Keeps the row writes that follow in memory until `release`; the index moves at once, so seqs,
   * de-duplication and bounds are as if they were written, and a read runs them first. Why: workerd
   * commits a write on its next turn, on the thread that also carries an RPC just sent to another
   * object, so the commit (locally an fsync) would come before that object runs.
   */
  hold(): void {
    this.held ??= [];
  }

  /** Runs the held writes, in order; writes run at once again, even when one of them threw. */
  release(): void {
    try {
      this.runHeld();
    } finally {
      this.held = null;
    }
  }

  meta(key: string): string | null {
    this.runHeld();
    if (!this.exists.meta) return null;
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0];
    return row ? row.value : null;
  }

  setMeta(key: string, value: string): void {
    this.tables();
    this.write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }

  /** True when `key` was accepted within the window (the caller then does not deliver again). */
  seenBefore(key: string, now: number): boolean {
    const entry = this.idx.byKey.get(keyOf(key));
    return entry !== undefined && entry.keep > now;
  }

  /** Stores `msg` (or only its de-duplication record when `expires` is 0): one row written. */
  append(seq: number, msg: OutboundMessage, now: number, opts: AppendOptions): void {
    const idx = this.idx;
    const key = opts.key === null ? `s:${seq}` : keyOf(opts.key);
    const logged = opts.expires > now;
    const raw = msg.raw === msg.dataJson ? null : msg.raw;
    const bytes = logged ? msg.dataJson.length + (raw?.length ?? 0) + msg.id.length : 0;
    const keep = Math.max(logged ? opts.expires : 0, opts.key === null ? 0 : now + DEDUPE_WINDOW_MS);
    const entry: IndexEntry = { key, seq, keep, bytes, message: logged, queued: opts.queue === QUEUE.queued, taken: opts.queue === QUEUE.taken };
    const values = [seq, msg.id, logged ? msg.dataJson : null, logged ? raw : null, msg.ts, logged ? opts.expires : 0,
      keep, opts.queue, bytes, msg.event ?? null];
    const reuse = idx.reusable(key, now, logged && idx.messages >= this.bounds.maxRows);
    if (reuse && !reuse.guarded) {
      this.write("UPDATE log SET key = ?, seq = ?, id = ?, data = ?, raw = ?, ts = ?, expires = ?, keep = ?, pending = ?, bytes = ?, event = ? WHERE key = ?",
        key, ...values, reuse.entry.key);
      idx.replace(reuse.entry, entry);
    } else {
      // The oldest message still guards its id: it stays as a de-duplication record.
      if (reuse) this.tombstone(reuse.entry);
      this.tables();
      this.write(`INSERT INTO log (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, key, ...values);
      idx.add(entry);
    }
    if (seq > idx.storedSeq) idx.storedSeq = seq;
    if (opts.queue === QUEUE.taken && seq > idx.takenStored) idx.takenStored = seq;
    this.trim(now);
  }

  /** Unexpired messages with seq > `since`, oldest first. */
  since(since: number, now: number): LogRow[] {
    return this.read("SELECT * FROM log WHERE data IS NOT NULL AND seq > ? AND expires > ? ORDER BY seq", since, now);
  }

  /** The newest unexpired message (a cache channel's last event), or null. */
  last(now: number): LogRow | null {
    return this.read("SELECT * FROM log WHERE data IS NOT NULL AND expires > ? ORDER BY seq DESC LIMIT 1", now)[0] ?? null;
  }

  /** Messages queued while nobody was connected; from now on they count as delivered. */
  takePending(now: number): LogRow[] {
    const idx = this.idx;
    const rows = idx.hasQueued()
      ? this.read("SELECT * FROM log WHERE pending = 1 AND data IS NOT NULL AND seq > ? AND expires > ? ORDER BY seq", idx.taken, now)
      : [];
    this.clearPending();
    return rows;
  }

  /** A client resumed with `since`: the queue counts as delivered without a replay. */
  clearPending(): void {
    this.idx.taken = this.idx.lastSeq;
  }

  /**
   * The queue's watermark is in memory until a message logged with a client connected carries
   * it; called when the last token client leaves, this writes it if nothing did (one row).
   */
  saveTaken(): void {
    const idx = this.index;
    if (!idx || !idx.takenUnsaved()) return;
    this.setMeta("taken", String(idx.taken));
    idx.takenStored = idx.taken;
  }

  private load(): LogIndex {
    const entries = this.exists.log
      ? this.sql.exec<{ key: string; seq: number; keep: number; bytes: number; msg: number; pending: number }>(
        "SELECT key, seq, keep, bytes, data IS NOT NULL AS msg, pending FROM log").toArray()
      : [];
    const metaSeq = Number(this.meta("seq") ?? 0);
    const metaTaken = Number(this.meta("taken") ?? 0);
    const index = LogIndex.from(entries.map((r) => ({
      key: r.key, seq: r.seq, keep: r.keep, bytes: r.bytes, message: r.msg === 1, queued: r.pending === QUEUE.queued, taken: r.pending === QUEUE.taken,
    })), metaSeq, metaTaken);
    // A row is queued only while nobody is connected: a client connected now came after every one.
    if (this.tokenClientConnected()) index.taken = index.lastSeq;
    return index;
  }

  private tombstone(entry: IndexEntry): void {
    this.write("UPDATE log SET data = NULL, raw = NULL, expires = 0, bytes = 0 WHERE key = ?", entry.key);
    this.idx.tombstone(entry);
  }

  // Oldest messages go first while the log is over a bound (the newest always stays); one that
  // still guards its id stays as its de-duplication record.
  private trim(now: number): void {
    const idx = this.idx;
    while (idx.messages > this.bounds.maxRows || (idx.bytes > this.bounds.maxBytes && idx.messages > 1)) {
      const oldest = idx.oldestMessage()!;
      if (oldest.keep > now && oldest.key.startsWith("i:")) this.tombstone(oldest);
      else {
        this.write("DELETE FROM log WHERE key = ?", oldest.key);
        idx.remove(oldest);
      }
    }
  }

  private tables(): void {
    if (this.exists.log && this.exists.meta) return;
    createTables(this.sql);
    this.exists.log = this.exists.meta = true;
  }

  private write(query: string, ...args: SqlStorageValue[]): void {
    if (this.held) this.held.push(() => this.sql.exec(query, ...args));
    else this.sql.exec(query, ...args);
  }

  /**
   * Runs every held write (one that throws does not drop the others, which may be other pushes').
   * After a failure storage no longer matches the index, so it is read again — but never below the
   * seqs already handed out, which sockets and gateways have seen; the next `saveSeq` stores it.
   */
  private runHeld(): void {
    const writes = this.held;
    if (!writes || writes.length === 0) return;
    this.held = [];
    let failure: { err: unknown } | null = null;
    for (const write of writes) {
      try {
        write();
      } catch (err) {
        failure ??= { err };
      }
    }
    if (!failure) return;
    const handedOut = this.index?.lastSeq ?? 0;
    this.index = null;
    const idx = this.idx;
    idx.lastSeq = Math.max(idx.lastSeq, handedOut);
    throw failure.err;
  }

  private read(query: string, ...args: number[]): LogRow[] {
    this.runHeld();
    if (!this.exists.log) return [];
    return this.sql.exec<Row>(query, ...args).toArray().map((r) => ({ seq: r.seq, message: messageOf(r) }));
  }
}

/** A backend id's row key: apart from the `s:<seq>` keys of messages without one. */
function keyOf(key: string): string {
  return `i:${key}`;
}

function messageOf(r: Row): OutboundMessage {
  const message: OutboundMessage = { id: r.id, dataJson: r.data, raw: r.raw ?? r.data, ts: r.ts };
  if (r.event !== null) message.event = r.event;
  return message;
}
