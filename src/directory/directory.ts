import { DurableObject } from "cloudflare:workers";
import type { GatewayName, ListedName } from "../contract/names";
import { listedStub, type Env } from "../env";
import type { RoomPushItem, RoomPushResult } from "../room/types";
import { chunk, mapLimit } from "../util/async";
import type { DirectoryApi } from "../rpc";
import { errorText, logEvent } from "../util/log";
import { PresenceEvents } from "../webhooks/presence";
import { Webhooks } from "../webhooks/webhooks";
import { safeDirectoryConfig, type DirectoryConfig } from "./config";
import {
  addTally, emptyTally, tallyOf,
  type BroadcastTally, type DirectoryStats, type ShardReport,
} from "./types";

/** Room RPCs in flight at once from one invocation of a shard or relay. */
const CONCURRENCY = 100;
/** Ghost checks per shard alarm. */
const VERIFY_BATCH = 500;
/**
 * A room re-reports only when its sockets change, so a quiet room's row ages; rows older than
 * this (or 3 leases, if longer) are checked by asking the room. The room's own alarm already
 * withdraws it after a crash: this is the backstop, and it costs a quiet room one call a day.
 */
const VERIFY_AFTER_MS = 24 * 3600 * 1000;

/**
 * One shard of the room directory (`shard:<i>`), or a stateless broadcast relay (`relay:…`).
 * A shard holds the live rooms that hash to it (`rooms`) and, for the uids that hash to it,
 * which rooms hold them (`members`): enough for `all` pushes, `/stats` and kicks by uid.
 */
export class Directory extends DurableObject<Env> implements DirectoryApi {
  private readonly sql: SqlStorage;
  private readonly config: DirectoryConfig;
  private tablesReady = false;
  private readonly hooks: Webhooks;
  private readonly presence: PresenceEvents | null;
  /** The alarm as last set; undefined until read from storage. */
  private alarmAt: number | null | undefined = undefined;
  private verifiedAt = -Infinity;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.config = safeDirectoryConfig(env);
    this.hooks = new Webhooks(ctx, env, (at) => this.scheduleAlarm(at));
    const offlineDelayMs = this.hooks.config?.offlineDelayMs;
    this.presence = offlineDelayMs === undefined ? null
      : new PresenceEvents(this.sql, offlineDelayMs, (events) => this.hooks.emit(events), (at) => this.scheduleAlarm(at));
  }

  /** Applies a room's report; a registered room keeps the shard's ghost check alarm running. */
  async report(r: ShardReport): Promise<void> {
    this.tables();
    await this.alarmKnown();
    const presence = this.presence;
    for (const uid of r.remove) {
      const gone = this.sql.exec("DELETE FROM members WHERE uid = ? AND room = ?", uid, r.room).rowsWritten > 0;
      if (gone && presence) presence.memberRemoved(uid, r.room, this.rowsOf(uid));
    }
    for (const uid of r.add) {
      const added = this.sql.exec("INSERT OR IGNORE INTO members (uid, room) VALUES (?, ?)", uid, r.room).rowsWritten > 0;
      if (added && presence) presence.memberAdded(uid, r.room, this.rowsOf(uid));
    }
    if (r.connections === undefined) return;
    const gateways = r.gateways ?? 0;
    if (r.connections === 0 && gateways === 0) {
      const gone = this.sql.exec("DELETE FROM rooms WHERE room = ?", r.room).rowsWritten > 0;
      if (gone) presence?.roomChanged(r.room, false);
      return;
    }
    // Only webhooks need to know whether the room is new: nobody else pays for the read.
    const isNew = presence !== null && this.sql.exec("SELECT 1 FROM rooms WHERE room = ?", r.room).toArray().length === 0;
    this.sql.exec(
      "INSERT INTO rooms (room, connections, gateways, seen) VALUES (?, ?, ?, ?) ON CONFLICT (room) DO UPDATE SET connections = excluded.connections, gateways = excluded.gateways, seen = excluded.seen",
      r.room, r.connections, gateways, Date.now());
    if (isNew && presence) presence.roomChanged(r.room, true);
    this.scheduleAlarm(Date.now() + this.config.leaseMs);
  }

  /** Counts over this shard: its live rooms, and the distinct uids it indexes. */
  stats(): DirectoryStats {
    this.tables();
    const rooms = this.sql
      .exec<{ rooms: number; connections: number; groups: number }>(
        "SELECT COALESCE(SUM(substr(room, 1, 3) != 'gw:'), 0) AS rooms, COALESCE(SUM(connections), 0) AS connections, COALESCE(SUM(substr(room, 1, 6) = 'group:'), 0) AS groups FROM rooms")
      .one();
    const { uids } = this.sql.exec<{ uids: number }>("SELECT COUNT(DISTINCT uid) AS uids FROM members").one();
    return { ...rooms, uids };
  }

  /** Rooms where `uid` has a socket (its own room included); `uid` must hash to this shard. */
  roomsOf(uid: string): ListedName[] {
    this.tables();
    return this.sql.exec<{ room: ListedName }>("SELECT room FROM members WHERE uid = ?", uid).toArray().map((r) => r.room);
  }

  /** Up to `limit` uids this shard indexes, in order, after `cursor`. */
  listUids(cursor: string, limit: number): string[] {
    this.tables();
    return this.sql
      .exec<{ uid: string }>("SELECT DISTINCT uid FROM members WHERE uid > ? ORDER BY uid LIMIT ?", cursor, limit)
      .toArray()
      .map((r) => r.uid);
  }

  /** Up to `limit` live group names of this shard, in order, after `cursor`. */
  listGroups(cursor: string, limit: number): string[] {
    this.tables();
    return this.sql
      .exec<{ room: string }>(
        "SELECT room FROM rooms WHERE room > ? AND room < 'group;' ORDER BY room LIMIT ?", `group:${cursor}`, limit)
      .toArray()
      .map((r) => r.room.slice("group:".length));
  }

  gateways(): GatewayName[] {
    this.tables();
    return this.sql.exec<{ room: GatewayName }>("SELECT room FROM rooms WHERE room >= 'gw:' AND room < 'gw;'").toArray().map((r) => r.room);
  }

  /** Pushes `items` to every live room of this shard; one tally per item. */
  async broadcast(items: RoomPushItem[], label: string): Promise<BroadcastTally[]> {
    this.tables();
    // Rooms whose only subscribers are on gateways are skipped: gateways register themselves.
    const rooms = this.sql.exec<{ room: ListedName }>("SELECT room FROM rooms WHERE connections > 0").toArray().map((r) => r.room);
    return this.fanOut(rooms, items, label);
  }

  /** A relay's part of a broadcast too large for one invocation's subrequests. */
  relay(rooms: ListedName[], items: RoomPushItem[], label: string): Promise<BroadcastTally[]> {
    return this.fanOut(rooms, items, label);
  }

  /** Ghost check (rooms that did not report for a day are asked to report now), due offlines, webhooks. */
  async alarm(): Promise<void> {
    try {
      this.tables();
      this.alarmAt = null;
      const now = Date.now();
      if (now - this.verifiedAt >= this.config.leaseMs) {
        this.verifiedAt = now;
        await this.verify(now);
      }
      this.presence?.alarm((uid) => this.rowsOf(uid));
      await this.hooks.alarm();
      const { n } = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM rooms").one();
      if (n > 0) this.scheduleAlarm(this.verifiedAt + this.config.leaseMs);
    } catch (err) {
      this.log("alarm", { error: errorText(err) });
    }
  }

  private async verify(now: number): Promise<void> {
    const stale = this.sql
      .exec<{ room: ListedName }>("SELECT room FROM rooms WHERE seen < ? LIMIT ?", now - Math.max(VERIFY_AFTER_MS, 3 * this.config.leaseMs), VERIFY_BATCH)
      .toArray();
    await mapLimit(stale, CONCURRENCY, ({ room }) =>
      listedStub(this.env, room).resync().catch((err: unknown) => this.log("alarm", { room, error: errorText(err) })));
  }

  private rowsOf(uid: string): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM members WHERE uid = ?", uid).one().n;
  }

  private async alarmKnown(): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
  }

  // One alarm serves the ghost check, pending offlines and the webhook outbox: keep the earliest.
  private scheduleAlarm(at: number): void {
    if (this.alarmAt !== undefined && this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  // Calls at most `fanout` rooms or relays from this invocation: the tree is as deep as it must be.
  private async fanOut(rooms: ListedName[], items: RoomPushItem[], label: string): Promise<BroadcastTally[]> {
    const tallies = items.map(emptyTally);
    if (rooms.length <= this.config.fanout) {
      await mapLimit(rooms, CONCURRENCY, async (room) => addRoomResults(tallies, await this.pushRoom(room, items)));
      return tallies;
    }
    const parts = chunk(rooms, Math.ceil(rooms.length / this.config.fanout));
    await mapLimit(parts.map((part, i) => [part, `${label}.${i}`] as const), CONCURRENCY, async ([part, name]) => {
      try {
        const parts = await this.env.DIRECTORY.getByName(`relay:${name}`).relay(part, items, name);
        parts.forEach((t, i) => addTally(tallies[i], t));
      } catch (err) {
        this.log("relay", { relay: name, rooms: part.length, error: errorText(err) });
        for (const t of tallies) t.failed += part.length;
      }
    });
    return tallies;
  }

  private async pushRoom(room: ListedName, items: RoomPushItem[]): Promise<RoomPushResult[] | null> {
    try {
      return await listedStub(this.env, room).push(room, items);
    } catch (err) {
      this.log("broadcast", { room, error: errorText(err) });
      return null;
    }
  }

  private tables(): void {
    if (this.tablesReady) return;
    this.sql.exec("CREATE TABLE IF NOT EXISTS rooms (room TEXT PRIMARY KEY, connections INTEGER NOT NULL, seen INTEGER NOT NULL, gateways INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID");
    // Shards made before the gateway tier get the column.
    const columns = this.sql.exec<{ name: string }>("PRAGMA table_info(rooms)").toArray();
    if (!columns.some((c) => c.name === "gateways")) this.sql.exec("ALTER TABLE rooms ADD COLUMN gateways INTEGER NOT NULL DEFAULT 0");
    // No index on `seen`: the daily check scans (rows read are cheap), every report skips an index write.
    this.sql.exec("CREATE TABLE IF NOT EXISTS members (uid TEXT NOT NULL, room TEXT NOT NULL, PRIMARY KEY (uid, room)) WITHOUT ROWID");
    this.tablesReady = true;
  }

  private log(method: string, fields: Record<string, unknown>): void {
    logEvent("directory_error", { class: "Directory", method, ...fields }, "error");
  }
}

// A room that did not answer counts as one failed room for every item.
function addRoomResults(tallies: BroadcastTally[], results: RoomPushResult[] | null): void {
  tallies.forEach((t, i) => {
    const r = results?.[i];
    if (r) addTally(t, tallyOf(r));
    else t.failed++;
  });
}
