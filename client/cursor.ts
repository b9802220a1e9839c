/** Where a client is in one room's log: the last seq seen (for `since=`) and recent ids (for de-duplication). Pure. */

/** Ids remembered per room; a replay never reaches further back than this. */
const SEEN_IDS = 1000;

export class RoomCursor {
  /** The last seq seen; null before the room was ever open. */
  lastSeq: number | null = null;
  private readonly seen = new Set<string>();

  /** The room opened with `seq` as its last: resume from there next time (lower: the log restarted). */
  opened(seq: number): boolean {
    const resumed = this.lastSeq !== null;
    if (this.lastSeq === null || seq < this.lastSeq) this.lastSeq = seq;
    return resumed;
  }

  /** Records a push; false when its id was already delivered (a replay overlapping what came live). */
  accept(seq: number, id: string): boolean {
    if (this.lastSeq === null || seq > this.lastSeq) this.lastSeq = seq;
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > SEEN_IDS) this.seen.delete(this.seen.values().next().value!);
    return true;
  }
}
