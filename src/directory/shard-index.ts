/**
 * A directory shard's index, in memory: the rooms that hash to the shard and the (uid, room)
 * pairs of the uids that hash to it, each live, gone or unknown (read back from storage after a
 * restart, not yet confirmed). Storage keeps only which names exist, so a connect of a returning
 * user writes no row; counts live here and are re-learned from the rooms when unknown or old.
 * Pure: no Workers APIs.
 */
import type { ListedName } from "../contract/names";
import type { DirectoryStats, Listing, ShardReport } from "./types";

type State = "unknown" | "live" | "gone";

interface Entry {
  state: State;
  /** Last heard from the room (a report or an answer); -Infinity when never since the shard started. */
  heard: number;
  /** When it was last seen going (state `gone`). */
  goneSince: number;
  /** A row of it is in storage. */
  stored: boolean;
}

interface RoomEntry extends Entry {
  /** The room's own sockets; null when unknown. */
  connections: number | null;
  gateways: number;
}

interface MemberEntry extends Entry {
  /** The uid's sockets in the room (0: through gateways only). */
  sockets: number;
}

/** A room, or a uid in a room (`uid` set), that came (`live`) or went. */
export interface Transition {
  room: ListedName;
  uid?: string;
  live: boolean;
}

/** A row to add to or drop from storage (`uid` set: a `members` row; else a `rooms` row). */
export interface RowChange {
  add: boolean;
  room: ListedName;
  uid?: string;
}

const isUidRoom = (room: string) => room.startsWith("uid:");
const isGroup = (room: string) => room.startsWith("group:");
const isGateway = (room: string) => room.startsWith("gw:");
/** Known and holding something, or not yet known: a listing must ask, a broadcast must try. */
const maybeLive = (e: Entry) => e.state !== "gone";

export class ShardIndex {
  private readonly rooms = new Map<ListedName, RoomEntry>();
  private readonly members = new Map<ListedName, Map<string, MemberEntry>>();
  private readonly byUid = new Map<string, Set<ListedName>>();
  /** Told of every room or (uid, room) that came or went; a name read back from storage counts as there. */
  onTransition: ((t: Transition) => void) | null = null;

  /**
   * @param exactRows a name's row goes as soon as it is gone (webhooks, which read storage as
   *   the truth after a restart); otherwise it stays a day, so a returning user writes no row
   */
  constructor(private readonly exactRows = false) {}

  /** Names read back from storage: unknown until their rooms report or answer. */
  load(rooms: ListedName[], members: [string, ListedName][]): void {
    for (const room of rooms) this.rooms.set(room, { state: "unknown", heard: -Infinity, goneSince: 0, stored: true, connections: null, gateways: 0 });
    for (const [uid, room] of members) this.memberEntry(room, uid, true);
  }

  /** Applies a room's report; returns the rows to write. */
  report(r: ShardReport, now: number): RowChange[] {
    const rows: RowChange[] = [];
    if (r.connections !== undefined) this.setRoom(r.room, r.connections, r.gateways ?? 0, now, rows);
    for (const [uid, sockets] of Object.entries(r.uids ?? {})) this.setMember(r.room, uid, sockets, now, rows);
    return rows;
  }

  /**
   * Applies a room's whole listing: its own entry when `ownRoom`, and the uids of it that
   * `ownUid` says this shard indexes (those it no longer has are gone).
   */
  listing(room: ListedName, listing: Listing, ownRoom: boolean, ownUid: (uid: string) => boolean, now: number): RowChange[] {
    const rows: RowChange[] = [];
    // A room that hashes elsewhere now (DIRECTORY_SHARDS changed) is gone from here.
    if (ownRoom) this.setRoom(room, listing.connections, listing.gateways, now, rows);
    else if (this.rooms.has(room)) this.setRoom(room, 0, 0, now, rows);
    if (isUidRoom(room)) return rows;
    for (const [uid, sockets] of Object.entries(listing.uids)) if (ownUid(uid)) this.setMember(room, uid, sockets, now, rows);
    for (const uid of [...(this.members.get(room)?.keys() ?? [])]) {
      if (!(uid in listing.uids) || !ownUid(uid)) this.setMember(room, uid, null, now, rows);
    }
    return rows;
  }

  /** A room could not be asked: it is not asked again until it is old again. */
  unanswered(room: ListedName, now: number): void {
    const entry = this.rooms.get(room);
    if (entry) entry.heard = now;
    for (const m of this.members.get(room)?.values() ?? []) m.heard = now;
  }

  /** A broadcast found the room without sockets of its own. */
  noSockets(room: ListedName, now: number): RowChange[] {
    const entry = this.rooms.get(room);
    if (!entry) return [];
    if (entry.state === "unknown") {
      entry.connections = 0;
      return [];
    }
    const rows: RowChange[] = [];
    this.setRoom(room, 0, entry.gateways, now, rows);
    return rows;
  }

  /** Rooms to ask before a listing is right: unknown ones, and live ones not heard from since `since`. */
  stale(since: number): ListedName[] {
    const out = new Set<ListedName>();
    const old = (e: Entry) => (e.state === "unknown" || e.state === "live") && e.heard < since;
    for (const [room, e] of this.rooms) if (old(e)) out.add(room);
    for (const [room, entries] of this.members) for (const e of entries.values()) if (old(e)) out.add(room);
    return [...out];
  }

  stats(): DirectoryStats {
    let connections = 0;
    let rooms = 0;
    let groups = 0;
    for (const [room, e] of this.rooms) {
      if (e.state !== "live") continue;
      if (!isGateway(room)) rooms++;
      if (isGroup(room)) groups++;
      // A group room's sockets are counted by uid, below: its own count is only reported when it empties or fills.
      else connections += e.connections ?? 0;
    }
    for (const [room, entries] of this.members) {
      if (!isGroup(room)) continue;
      for (const m of entries.values()) if (m.state === "live") connections += m.sockets;
    }
    return { connections, rooms, groups, uids: this.liveUids().length };
  }

  /** Up to `limit` live uids in name order after `cursor`. */
  listUids(cursor: string, limit: number): string[] {
    return this.liveUids().filter((u) => u > cursor).sort().slice(0, limit);
  }

  /** Up to `limit` live group names in order after `cursor`. */
  listGroups(cursor: string, limit: number): string[] {
    const names: string[] = [];
    for (const [room, e] of this.rooms) if (e.state === "live" && isGroup(room)) names.push(room.slice("group:".length));
    return names.filter((g) => g > cursor).sort().slice(0, limit);
  }

  /** Rooms where `uid` may have a socket (its own room first); a gone one is left out. */
  roomsOf(uid: string): ListedName[] {
    const own = `uid:${uid}` as ListedName;
    const out: ListedName[] = [];
    const entry = this.rooms.get(own);
    if (entry && maybeLive(entry)) out.push(own);
    for (const room of this.byUid.get(uid) ?? []) {
      const m = this.members.get(room)?.get(uid);
      if (m && maybeLive(m) && room !== own) out.push(room);
    }
    return out;
  }

  gateways(): ListedName[] {
    return [...this.rooms].filter(([room, e]) => isGateway(room) && maybeLive(e)).map(([room]) => room);
  }

  /** Rooms an `all` push goes to: those that may hold sockets of their own. */
  broadcastTargets(): ListedName[] {
    return [...this.rooms].filter(([, e]) => maybeLive(e) && (e.connections === null || e.connections > 0)).map(([room]) => room);
  }

  /** Drops what has been gone since before `before`; returns the rows to delete. */
  sweep(before: number): RowChange[] {
    const rows: RowChange[] = [];
    for (const [room, e] of this.rooms) {
      if (e.state !== "gone" || e.goneSince >= before) continue;
      this.rooms.delete(room);
      if (e.stored) rows.push({ add: false, room });
    }
    for (const [room, entries] of this.members) {
      for (const [uid, m] of entries) {
        if (m.state !== "gone" || m.goneSince >= before) continue;
        this.dropMember(room, uid);
        if (m.stored) rows.push({ add: false, room, uid });
      }
    }
    return rows;
  }

  /** How many rooms `uid` is (or may be) in here: its own room and its member entries. */
  roomsCount(uid: string): number {
    const own = this.rooms.get(`uid:${uid}` as ListedName);
    let n = own && maybeLive(own) ? 1 : 0;
    for (const room of this.byUid.get(uid) ?? []) {
      const m = this.members.get(room)?.get(uid);
      if (m && maybeLive(m)) n++;
    }
    return n;
  }

  /** Whether the shard holds any name at all (its daily alarm runs while it does). */
  get size(): number {
    return this.rooms.size + this.members.size;
  }

  private liveUids(): string[] {
    const uids = new Set<string>();
    for (const [room, e] of this.rooms) if (e.state === "live" && isUidRoom(room)) uids.add(room.slice("uid:".length));
    for (const [uid, rooms] of this.byUid) {
      if (uids.has(uid)) continue;
      for (const room of rooms) if (this.members.get(room)?.get(uid)?.state === "live") uids.add(uid);
    }
    return [...uids];
  }

  private setRoom(room: ListedName, connections: number, gateways: number, now: number, rows: RowChange[]): void {
    let entry = this.rooms.get(room);
    if (!entry) this.rooms.set(room, (entry = { state: "gone", heard: now, goneSince: now, stored: false, connections, gateways }));
    this.settle(entry, connections > 0 || gateways > 0, now, rows, { add: true, room });
    entry.connections = connections;
    entry.gateways = gateways;
  }

  private setMember(room: ListedName, uid: string, sockets: number | null, now: number, rows: RowChange[]): void {
    if (sockets === null && !this.members.get(room)?.has(uid)) return;
    const entry = this.memberEntry(room, uid, false);
    this.settle(entry, sockets !== null, now, rows, { add: true, room, uid });
    entry.sockets = sockets ?? 0;
  }

  // Moves an entry to live or gone; a live one gets its storage row the first time.
  private settle(entry: Entry, live: boolean, now: number, rows: RowChange[], row: RowChange): void {
    const was = entry.state !== "gone";
    if (!live && was) entry.goneSince = now;
    entry.state = live ? "live" : "gone";
    entry.heard = now;
    if (live && !entry.stored) {
      entry.stored = true;
      rows.push(row);
    } else if (!live && entry.stored && this.exactRows) {
      entry.stored = false;
      rows.push({ ...row, add: false });
    }
    if (was !== live) this.onTransition?.({ room: row.room, uid: row.uid, live });
  }

  private memberEntry(room: ListedName, uid: string, stored: boolean): MemberEntry {
    let entries = this.members.get(room);
    if (!entries) this.members.set(room, (entries = new Map()));
    let entry = entries.get(uid);
    if (!entry) {
      entries.set(uid, (entry = { state: stored ? "unknown" : "gone", heard: -Infinity, goneSince: 0, stored, sockets: 0 }));
      let rooms = this.byUid.get(uid);
      if (!rooms) this.byUid.set(uid, (rooms = new Set()));
      rooms.add(room);
    }
    return entry;
  }

  private dropMember(room: ListedName, uid: string): void {
    const entries = this.members.get(room);
    entries?.delete(uid);
    if (entries?.size === 0) this.members.delete(room);
    const rooms = this.byUid.get(uid);
    rooms?.delete(room);
    if (rooms?.size === 0) this.byUid.delete(uid);
  }
}
