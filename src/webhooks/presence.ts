/**
 * The directory's webhook events, made where the directory learns them: a uid's first
 * `members` row in its shard is uid_online, its last one going is uid_offline after
 * WEBHOOK_OFFLINE_DELAY_S with none back (a page reload sends nothing); a `group:` room
 * registering or leaving is group_occupied / group_vacated; a (uid, group) row coming or going is
 * member_added / member_removed. Every row of a uid lives in that uid's shard, so these counts
 * are exact, and one uid's events come from one outbox, in order.
 */
import type { WebhookEventInput } from "../contract/webhooks";
import { LazyTable } from "../util/lazy-table";
import { groupOfRoom } from "./events";

export class PresenceEvents {
  /** Offlines waiting out WEBHOOK_OFFLINE_DELAY_S. */
  private readonly pending: LazyTable;

  constructor(
    private readonly sql: SqlStorage,
    private readonly offlineDelayMs: number,
    private readonly emit: (events: WebhookEventInput[]) => void,
    private readonly scheduleAlarm: (at: number) => void,
  ) {
    this.pending = new LazyTable(sql, "webhook_offline", "CREATE TABLE IF NOT EXISTS webhook_offline (uid TEXT PRIMARY KEY, due INTEGER NOT NULL) WITHOUT ROWID");
  }

  /** A (uid, room) row appeared; `rows` is how many the uid has now. */
  memberAdded(uid: string, room: string, rows: number): void {
    const events: WebhookEventInput[] = [];
    // An offline still pending means the uid never went away as far as the backend knows.
    if (rows === 1 && !this.cancelOffline(uid)) events.push({ name: "uid_online", uid });
    const group = groupOfRoom(room);
    if (group !== null) events.push({ name: "member_added", group, uid });
    this.emit(events);
  }

  /** A (uid, room) row went away; `rows` is how many the uid has left. */
  memberRemoved(uid: string, room: string, rows: number): void {
    const group = groupOfRoom(room);
    if (group !== null) this.emit([{ name: "member_removed", group, uid }]);
    if (rows > 0) return;
    if (this.offlineDelayMs === 0) return this.emit([{ name: "uid_offline", uid }]);
    const due = Date.now() + this.offlineDelayMs;
    this.pending.make();
    this.sql.exec("INSERT OR REPLACE INTO webhook_offline (uid, due) VALUES (?, ?)", uid, due);
    this.scheduleAlarm(due);
  }

  /** A room registered with (`occupied`) or left the directory. */
  roomChanged(room: string, occupied: boolean): void {
    const group = groupOfRoom(room);
    if (group !== null) this.emit([{ name: occupied ? "group_occupied" : "group_vacated", group }]);
  }

  /** The shard's alarm: offlines that are due and still true are sent; `rowsOf` counts a uid's rows. */
  alarm(rowsOf: (uid: string) => number): void {
    if (!this.pending.exists()) return;
    const now = Date.now();
    const due = this.sql.exec<{ uid: string }>("SELECT uid FROM webhook_offline WHERE due <= ?", now).toArray();
    const events: WebhookEventInput[] = [];
    for (const { uid } of due) {
      this.sql.exec("DELETE FROM webhook_offline WHERE uid = ?", uid);
      if (rowsOf(uid) === 0) events.push({ name: "uid_offline", uid });
    }
    this.emit(events);
    const next = this.sql.exec<{ due: number | null }>("SELECT MIN(due) AS due FROM webhook_offline").one().due;
    if (next !== null) this.scheduleAlarm(next);
  }

  private cancelOffline(uid: string): boolean {
    if (!this.pending.exists()) return false;
    return this.sql.exec("DELETE FROM webhook_offline WHERE uid = ?", uid).rowsWritten > 0;
  }
}
