/** A room's (or gateway's) side of the directory: what it last told the shards, and the diff it sends next. */
import type { ListedName } from "../contract/names";
import { shardName, shardOf, type DirectoryConfig } from "./config";
import type { RemoteSummary, ShardReport } from "./types";
import type { Env } from "../env";
import { errorText, logEvent } from "../util/log";

/** What the shards have acknowledged, mirrored in the room's own storage. */
interface Reported {
  shards: number;
  connections: number;
  gateways: number;
  uids: Set<string>;
}

/**
 * Sends each shard only what changed since it last acknowledged, and records the
 * acknowledgement in the room's SQLite. The record survives hibernation and crashes, so a room
 * woken by its alarm with no sockets left withdraws everything it had reported: no ghosts.
 * Rows written per change: one in the room, one in a shard.
 */
export class RoomReporter {
  private reported: Reported | null = null;

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    private readonly config: DirectoryConfig,
  ) {}

  /**
   * Reports `sockets` of `room`; `force` re-sends the connection count even when unchanged
   * (a shard checking on a quiet room). Returns false when a shard did not answer; what it missed goes next time.
   */
  async report(room: ListedName, sockets: Iterable<{ uid: string | null }>, remote: RemoteSummary, force: boolean): Promise<boolean> {
    const state = this.load();
    if (state.shards !== this.config.shards) {
      // DIRECTORY_SHARDS changed: withdraw everything from the old layout, then report afresh.
      const withdraw = new Reports(room, state.shards);
      for (const uid of state.uids) withdraw.forUid(uid).remove.push(uid);
      if (state.connections > 0 || state.gateways > 0) Object.assign(withdraw.forRoom(), { connections: 0, gateways: 0 });
      if (!(await this.send(withdraw, state))) return false;
      state.shards = this.config.shards;
      this.save("shards", state.shards);
    }
    let connections = 0;
    const uids = new Set<string>(remote.uids);
    for (const socket of sockets) {
      connections++;
      if (socket.uid !== null) uids.add(socket.uid);
    }
    const reports = new Reports(room, this.config.shards);
    for (const uid of uids) if (!state.uids.has(uid)) reports.forUid(uid).add.push(uid);
    for (const uid of state.uids) if (!uids.has(uid)) reports.forUid(uid).remove.push(uid);
    if (force || connections !== state.connections || remote.gateways !== state.gateways) {
      Object.assign(reports.forRoom(), { connections, gateways: remote.gateways });
    }
    return this.send(reports, state);
  }

  private async send(reports: Reports, state: Reported): Promise<boolean> {
    let ok = true;
    await Promise.all(
      [...reports.byShard].map(async ([shard, report]) => {
        try {
          await this.env.DIRECTORY.getByName(shardName(shard)).report(report);
        } catch (err) {
          ok = false;
          logEvent("room_error", { class: "RoomReporter", room: report.room, shard, error: errorText(err) }, "error");
          return;
        }
        this.acknowledge(report, state);
      }),
    );
    return ok;
  }

  private acknowledge(report: ShardReport, state: Reported): void {
    for (const uid of report.remove) {
      state.uids.delete(uid);
      this.sql.exec("DELETE FROM directory_uids WHERE uid = ?", uid);
    }
    for (const uid of report.add) {
      state.uids.add(uid);
      this.sql.exec("INSERT OR IGNORE INTO directory_uids (uid) VALUES (?)", uid);
    }
    if (report.connections !== undefined && report.connections !== state.connections) {
      state.connections = report.connections;
      this.save("connections", state.connections);
    }
    if (report.gateways !== undefined && report.gateways !== state.gateways) {
      state.gateways = report.gateways;
      this.save("gateways", state.gateways);
    }
  }

  private load(): Reported {
    if (this.reported) return this.reported;
    // Created on first use: a room that only ever receives pushes never touches these tables.
    this.sql.exec("CREATE TABLE IF NOT EXISTS directory_uids (uid TEXT PRIMARY KEY) WITHOUT ROWID");
    this.sql.exec("CREATE TABLE IF NOT EXISTS directory_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID");
    const meta = new Map(
      this.sql.exec<{ key: string; value: number }>("SELECT key, value FROM directory_meta").toArray().map((r) => [r.key, r.value]),
    );
    const uids = this.sql.exec<{ uid: string }>("SELECT uid FROM directory_uids").toArray().map((r) => r.uid);
    this.reported = {
      shards: meta.get("shards") ?? this.config.shards,
      connections: meta.get("connections") ?? 0,
      gateways: meta.get("gateways") ?? 0,
      uids: new Set(uids),
    };
    if (!meta.has("shards")) this.save("shards", this.reported.shards);
    return this.reported;
  }

  private save(key: string, value: number): void {
    this.sql.exec("INSERT OR REPLACE INTO directory_meta (key, value) VALUES (?, ?)", key, value);
  }
}

/** Reports under construction, one per shard. */
class Reports {
  readonly byShard = new Map<number, ShardReport>();

  constructor(
    private readonly room: ListedName,
    private readonly shards: number,
  ) {}

  forUid(uid: string): ShardReport {
    return this.at(shardOf(`uid:${uid}`, this.shards));
  }

  forRoom(): ShardReport {
    return this.at(shardOf(this.room, this.shards));
  }

  private at(shard: number): ShardReport {
    let report = this.byShard.get(shard);
    if (!report) this.byShard.set(shard, (report = { room: this.room, add: [], remove: [] }));
    return report;
  }
}
