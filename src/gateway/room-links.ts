/**
 * A gateway's side of its rooms: tells a room when connections here subscribe or leave, and
 * remembers (one row per room, not per connection) which rooms list this gateway, so that a
 * gateway that restarted without its connections makes those rooms forget it.
 */
import type { GatewayName, RoomName } from "../contract/names";
import { roomStub, type Env } from "../env";
import { errorText, logEvent } from "../util/log";
import type { TrackChange, TrackReplay, TrackResult } from "./types";

export class RoomLinks {
  private readonly attached = new Set<RoomName>();
  private tableReady = false;

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    private readonly gateway: GatewayName,
  ) {
    const exists = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'attached'").toArray().length > 0;
    if (!exists) return;
    this.tableReady = true;
    for (const r of sql.exec<{ room: RoomName }>("SELECT room FROM attached").toArray()) this.attached.add(r.room);
  }

  /** Tells `room` of `changes`; `hasLocal` says whether this gateway still holds subscribers of it. */
  async track(room: RoomName, changes: TrackChange[], hasLocal: boolean, replay?: TrackReplay): Promise<TrackResult> {
    if (hasLocal) this.mark(room);
    const result = await roomStub(this.env, room).track(room, this.gateway, changes, replay);
    if (!hasLocal) this.unmark(room);
    return result;
  }

  /** Like `track` for leaving connections: a room that does not answer is logged, not retried. */
  async leave(room: RoomName, changes: TrackChange[], hasLocal: boolean): Promise<void> {
    try {
      await this.track(room, changes, hasLocal);
    } catch (err) {
      logEvent("gateway_error", { class: "GatewayObject", gateway: this.gateway, room, method: "leave", error: errorText(err) }, "error");
    }
  }

  /** Rooms that list this gateway although none of `held` subscribes there: make them forget it. */
  async reconcile(held: Set<RoomName>): Promise<void> {
    const stale = [...this.attached].filter((room) => !held.has(room));
    await Promise.all(stale.map(async (room) => {
      try {
        await roomStub(this.env, room).forget(room, this.gateway);
        this.unmark(room);
      } catch (err) {
        logEvent("gateway_error", { class: "GatewayObject", gateway: this.gateway, room, method: "reconcile", error: errorText(err) }, "error");
      }
    }));
  }

  private mark(room: RoomName): void {
    if (this.attached.has(room)) return;
    if (!this.tableReady) {
      this.sql.exec("CREATE TABLE IF NOT EXISTS attached (room TEXT PRIMARY KEY) WITHOUT ROWID");
      this.tableReady = true;
    }
    this.attached.add(room);
    this.sql.exec("INSERT OR IGNORE INTO attached (room) VALUES (?)", room);
  }

  private unmark(room: RoomName): void {
    if (!this.attached.delete(room)) return;
    this.sql.exec("DELETE FROM attached WHERE room = ?", room);
  }
}
