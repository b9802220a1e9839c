import { DurableObject } from "cloudflare:workers";
import type { GatewayName, ListedName } from "../contract/names";
import { listedStub, type Env } from "../env";
import type { RoomPushItem, RoomPushResult } from "../room/types";
import { chunk, mapLimit } from "../util/async";
import type { DirectoryApi } from "../rpc";
import { errorText, logEvent } from "../util/log";
import { meterEntry, meterObject } from "../util/meter";
import { PresenceEvents } from "../webhooks/presence";
import { Webhooks } from "../webhooks/webhooks";
import { safeDirectoryConfig, shardName, shardOf, type DirectoryConfig } from "./config";
import { ShardIndex, type RowChange, type Transition } from "./shard-index";
import {
  addTally, emptyTally, tallyOf,
  type BroadcastTally, type DirectoryStats, type ShardReport,
} from "./types";

/** Room RPCs in flight at once from one invocation of a shard or relay. */
const CONCURRENCY = 100;
/**
 * The shard's one alarm: once a day it asks the rooms it has not heard from in a day (an always
 * online user costs one request a day) and drops the names gone for a day (a returning user's
 * stay, so its next connect writes no row).
 */
const DAY_MS = 24 * 3600 * 1000;

/**
 * One shard of the room directory (`shard:<i>`), or a stateless broadcast relay (`relay:…`).
 * A shard knows the rooms that hash to it and, for the uids that hash to it, which rooms hold
 * them: enough for `all` pushes, `/stats`, `/uids`, `/groups` and kicks by uid. Rooms report what
 * comes; what goes (a close, a crash) the shard learns by asking a room it has not heard from
 * lately, when a listing needs it (`PRESENCE_CHECK_S`), when a broadcast meets it, and daily.
 * With webhooks on, rooms report closes too and the shard turns what comes and goes into
 * presence events (src/webhooks/presence.ts).
 */
export class Directory extends DurableObject<Env> implements DirectoryApi {
  private readonly sql: SqlStorage;
  private readonly config: DirectoryConfig;
  private index: ShardIndex | null = null;
  private shard: number;
  /** One round of asking rooms at a time; listings that arrive meanwhile wait for it. */
  private asking: Promise<void> | null = null;
  /** The alarm as last set; undefined until read from storage. */
  private alarmAt: number | null | undefined = undefined;
  /** When the daily check last ran in this instance. */
  private checkedAt = -Infinity;
  private readonly hooks: Webhooks;
  private readonly presence: PresenceEvents | null;

  constructor(ctx: DurableObjectState, env: Env) {
    // `npm run cost` counts this object's rows and requests; otherwise `env` is left as it is.
    super(ctx, (env = meterObject(ctx, env, "Directory")));
    this.sql = ctx.storage.sql;
    this.config = safeDirectoryConfig(env);
    this.shard = Number((ctx.id.name ?? "").replace(/^shard:/, ""));
    this.hooks = new Webhooks(ctx, env, (at) => this.scheduleAlarm(at));
    const offlineDelayMs = this.hooks.config?.offlineDelayMs;
    this.presence = offlineDelayMs === undefined ? null
      : new PresenceEvents(this.sql, offlineDelayMs, (events) => this.hooks.emit(events), (at) => this.scheduleAlarm(at));
  }

  /** Applies a room's report; a new name gets its row and keeps the daily alarm running. */
  async report(r: ShardReport): Promise<void> {
    const index = this.idx();
    await this.alarmKnown();
    const rows = index.report(r, Date.now());
    this.write(rows);
    if (rows.length > 0) this.scheduleAlarm(Date.now() + DAY_MS);
  }

  /** Counts over this shard, right within PRESENCE_CHECK_S. */
  async stats(): Promise<DirectoryStats> {
    await this.askStale(Date.now() - this.config.presenceCheckMs);
    return this.idx().stats();
  }

  /** Rooms where `uid` may have a socket (its own room included); `uid` must hash to this shard. */
  roomsOf(uid: string): ListedName[] {
    return this.idx().roomsOf(uid);
  }

  /** Up to `limit` uids this shard indexes, in order, after `cursor`. */
  async listUids(cursor: string, limit: number): Promise<string[]> {
    await this.askStale(Date.now() - this.config.presenceCheckMs);
    return this.idx().listUids(cursor, limit);
  }

  /** Up to `limit` live group names of this shard, in order, after `cursor`. */
  async listGroups(cursor: string, limit: number): Promise<string[]> {
    await this.askStale(Date.now() - this.config.presenceCheckMs);
    return this.idx().listGroups(cursor, limit);
  }

  gateways(): GatewayName[] {
    return this.idx().gateways() as GatewayName[];
  }

  /** Pushes `items` to every room of this shard that may hold sockets; one tally per item. */
  broadcast(items: RoomPushItem[], label: string): Promise<BroadcastTally[]> {
    return this.fanOut(this.idx().broadcastTargets(), items, label);
  }

  /** A relay's part of a broadcast too large for one invocation's subrequests. */
  relay(rooms: ListedName[], items: RoomPushItem[], label: string): Promise<BroadcastTally[]> {
    return this.fanOut(rooms, items, label);
  }

  /** The daily check (rooms not heard from in a day are asked, names gone for a day dropped), due offlines, webhooks. */
  async alarm(): Promise<void> {
    meterEntry(this.env, "Directory", "alarm");
    try {
      this.alarmAt = null;
      const now = Date.now();
      const index = this.idx();
      if (now - this.checkedAt >= DAY_MS) {
        this.checkedAt = now;
        await this.askStale(now - DAY_MS);
        this.write(index.sweep(now - DAY_MS));
      }
      this.presence?.alarm((uid) => index.roomsCount(uid));
      await this.hooks.alarm();
      if (index.size > 0) this.scheduleAlarm(this.checkedAt + DAY_MS);
    } catch (err) {
      this.log("alarm", { error: errorText(err) });
    }
  }

  /** Asks every room that may have changed since `since` what it holds now. */
  private async askStale(since: number): Promise<void> {
    while (this.asking) await this.asking;
    const stale = this.idx().stale(since);
    if (stale.length === 0) return;
    this.asking = mapLimit(stale, CONCURRENCY, (room) => this.ask(room)).then(() => undefined).finally(() => (this.asking = null));
    await this.asking;
  }

  private async ask(room: ListedName): Promise<void> {
    const now = Date.now();
    try {
      const listing = await listedStub(this.env, room).listing();
      const own = (key: string) => shardOf(key, this.config.shards) === this.shard;
      this.write(this.idx().listing(room, listing, own(room), (uid) => own(`uid:${uid}`), now));
    } catch (err) {
      this.idx().unanswered(room, now);
      this.log("listing", { room, error: errorText(err) });
    }
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
      const results = await listedStub(this.env, room).push(room, items);
      // A shard (not a relay) learns from the answer that the room has emptied.
      if (this.index && results[0]?.empty) this.write(this.index.noSockets(room, Date.now()));
      return results;
    } catch (err) {
      this.log("broadcast", { room, error: errorText(err) });
      return null;
    }
  }

  private idx(): ShardIndex {
    if (this.index) return this.index;
    this.sql.exec("CREATE TABLE IF NOT EXISTS rooms (room TEXT PRIMARY KEY, connections INTEGER NOT NULL, seen INTEGER NOT NULL, gateways INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID");
    this.sql.exec("CREATE TABLE IF NOT EXISTS members (uid TEXT NOT NULL, room TEXT NOT NULL, PRIMARY KEY (uid, room)) WITHOUT ROWID");
    const index = new ShardIndex(this.presence !== null);
    index.onTransition = (t) => this.presenceEvent(t, index);
    const rooms = this.sql.exec<{ room: ListedName }>("SELECT room FROM rooms").toArray().map((r) => r.room);
    const members = this.sql.exec<{ uid: string; room: ListedName }>("SELECT uid, room FROM members").toArray();
    // A uid's own room is its membership: rows of it that earlier versions wrote go.
    const own = members.filter((m) => m.room === `uid:${m.uid}`);
    for (const m of own) this.sql.exec("DELETE FROM members WHERE uid = ? AND room = ?", m.uid, m.room);
    index.load(rooms, members.filter((m) => m.room !== `uid:${m.uid}`).map((m) => [m.uid, m.room]));
    return (this.index = index);
  }

  /** Storage keeps names only (a row when one first comes, a delete when it has been gone a day). */
  private write(rows: RowChange[]): void {
    for (const r of rows) {
      if (r.uid === undefined) {
        if (r.add) this.sql.exec("INSERT OR IGNORE INTO rooms (room, connections, seen, gateways) VALUES (?, 0, ?, 0)", r.room, Date.now());
        else this.sql.exec("DELETE FROM rooms WHERE room = ?", r.room);
      } else if (r.add) this.sql.exec("INSERT OR IGNORE INTO members (uid, room) VALUES (?, ?)", r.uid, r.room);
      else this.sql.exec("DELETE FROM members WHERE uid = ? AND room = ?", r.uid, r.room);
    }
  }

  // Webhooks: what came and went, as presence events (a uid's own room is one of its rooms).
  private presenceEvent(t: Transition, index: ShardIndex): void {
    const presence = this.presence;
    if (!presence) return;
    const uid = t.uid ?? (t.room.startsWith("uid:") ? t.room.slice("uid:".length) : null);
    if (t.uid === undefined) presence.roomChanged(t.room, t.live);
    if (uid === null) return;
    if (t.live) presence.memberAdded(uid, t.room, index.roomsCount(uid));
    else presence.memberRemoved(uid, t.room, index.roomsCount(uid));
  }

  private async alarmKnown(): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
  }

  // One alarm serves the daily check, pending offlines and the webhook outbox: keep the earliest.
  private scheduleAlarm(at: number): void {
    if (this.alarmAt !== undefined && this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  private log(method: string, fields: Record<string, unknown>): void {
    logEvent("directory_error", { class: "Directory", method, shard: shardName(this.shard), ...fields }, "error");
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
