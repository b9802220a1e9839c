/**
 * The in-memory index of a room's log rows (keys, seqs, lifetimes, sizes; never payloads): which
 * row a new message may overwrite, the bounds, the sequence and the offline queue's watermark.
 * Loaded once per wake, so a push reads no row to find its place. Pure: no Workers APIs.
 */

export interface IndexEntry {
  key: string;
  seq: number;
  /** The row may be overwritten from then on: past its replay time and its id's window. */
  keep: number;
  bytes: number;
  /** A replayable message (false: a de-duplication record only). */
  message: boolean;
  /** Queued for the uid's next client (logged while nobody was connected). */
  queued: boolean;
  /** Logged while a token client was connected (the queue was taken up to here). */
  taken?: boolean;
}

/** A row the next message may take over; `guarded` when it still guards its id and must stay as a record. */
export interface Reusable {
  entry: IndexEntry;
  guarded: boolean;
}

export class LogIndex {
  readonly byKey = new Map<string, IndexEntry>();
  /** Message rows, oldest seq first (the bounds drop from the front). */
  private readonly order: IndexEntry[] = [];
  bytes = 0;
  lastSeq = 0;
  /** The highest seq storage gives back after a restart. */
  storedSeq = 0;
  /** Queued rows up to here were delivered (or skipped by a `since`). */
  taken = 0;
  /** The watermark storage gives back after a restart. */
  takenStored = 0;
  /** No row can be overwritten before then (recomputed when unknown). */
  private firstFree: number | null = null;

  /** The index of rows read from storage, with the `meta` seq and watermark. */
  static from(entries: IndexEntry[], metaSeq: number, metaTaken: number): LogIndex {
    const index = new LogIndex();
    let taken = metaTaken;
    for (const e of [...entries].sort((a, b) => a.seq - b.seq)) {
      index.add(e);
      if (e.taken && e.seq > taken) taken = e.seq;
    }
    index.lastSeq = index.storedSeq = Math.max(metaSeq, index.lastSeq);
    index.taken = index.takenStored = taken;
    return index;
  }

  /** Messages in the log (expired ones not yet overwritten included). */
  get messages(): number {
    return this.order.length;
  }

  add(entry: IndexEntry): void {
    this.byKey.set(entry.key, entry);
    if (entry.message) this.insertOrdered(entry);
    if (entry.seq > this.lastSeq) this.lastSeq = entry.seq;
    if (this.firstFree !== null) this.firstFree = Math.min(this.firstFree, entry.keep);
  }

  remove(entry: IndexEntry): void {
    this.byKey.delete(entry.key);
    this.dropMessage(entry);
    if (this.firstFree === entry.keep) this.firstFree = null;
  }

  /** `old`'s row now holds `next`. */
  replace(old: IndexEntry, next: IndexEntry): void {
    this.remove(old);
    this.add(next);
  }

  /** `entry` stays only as its id's de-duplication record. */
  tombstone(entry: IndexEntry): void {
    this.dropMessage(entry);
    entry.message = false;
    entry.bytes = 0;
  }

  oldestMessage(): IndexEntry | undefined {
    return this.order[0];
  }

  /**
   * The row a new row with `key` should overwrite, or null to insert one: the row with that very
   * key (its window is over), else, when the log is `full`, an expired message or the oldest one,
   * else any row past its time.
   */
  reusable(key: string, now: number, full: boolean): Reusable | null {
    const same = this.byKey.get(key);
    if (same) return { entry: same, guarded: false };
    if (full) {
      const expired = this.order.find((e) => e.keep <= now);
      if (expired) return { entry: expired, guarded: false };
      const oldest = this.order[0];
      return oldest ? { entry: oldest, guarded: oldest.keep > now && oldest.key.startsWith("i:") } : null;
    }
    if ((this.firstFree ??= this.earliestKeep()) > now) return null;
    for (const e of this.byKey.values()) if (e.keep <= now) return { entry: e, guarded: false };
    return null;
  }

  /** Queued messages the next client without `since` would get. */
  hasQueued(): boolean {
    return this.order.some((e) => e.queued && e.seq > this.taken);
  }

  /** The watermark moved past queued rows that storage would not know were delivered. */
  takenUnsaved(): boolean {
    return this.taken > this.takenStored && this.order.some((e) => e.queued && e.seq > this.takenStored && e.seq <= this.taken);
  }

  private earliestKeep(): number {
    let min = Infinity;
    for (const e of this.byKey.values()) if (e.keep < min) min = e.keep;
    return min;
  }

  private insertOrdered(entry: IndexEntry): void {
    const last = this.order[this.order.length - 1];
    if (!last || last.seq < entry.seq) {
      this.order.push(entry);
    } else {
      const at = this.order.findIndex((e) => e.seq > entry.seq);
      this.order.splice(at, 0, entry);
    }
    this.bytes += entry.bytes;
  }

  private dropMessage(entry: IndexEntry): void {
    if (!entry.message) return;
    const at = this.order.indexOf(entry);
    if (at >= 0) this.order.splice(at, 1);
    this.bytes -= entry.bytes;
  }
}
