/**
 * A room's (or gateway shard's) reports to the directory. The caller says what changed (its own
 * counts, a uid); the report carries those parts of the room's listing as they are when it is
 * sent, one request per shard concerned. Nothing is stored: a room that lost its memory has
 * nothing to undo, since a shard asks a room it has not heard from (see Directory).
 */
import type { ListedName } from "../contract/names";
import type { Env } from "../env";
import { errorText, logEvent } from "../util/log";
import { shardName, shardOf, type DirectoryConfig } from "./config";
import { ReportLoop } from "./report-loop";
import type { ShardReport } from "./types";

/** What a report reads from the room when it is sent. */
export interface ReportSource {
  /** The room's own sockets, and the gateways holding subscribers of it. */
  own(): { connections: number; gateways: number };
  /** The room's sockets of `uid` (0: only through gateways), or null when it has none. */
  uid(uid: string): number | null;
}

export class Reporter {
  private entry = false;
  private readonly uids = new Set<string>();
  private readonly loop: ReportLoop;
  /**
   * What the shards were last told (or last asked and answered): a change that brings the room
   * back to it needs no report. A page reload closes a socket (not reported) and opens one: the
   * shard's count is right again, so the reconnect costs no request.
   */
  private told: { own: string | null; uids: Map<string, number | null> } = { own: null, uids: new Map() };

  constructor(
    private readonly env: Env,
    private readonly config: DirectoryConfig,
    private readonly name: () => ListedName | null,
    private readonly source: ReportSource,
    /** A shard did not answer: the caller retries (`retry()`) from its alarm. */
    onMissed: () => void,
  ) {
    this.loop = new ReportLoop(() => this.send(), onMissed);
  }

  /** The room's own counts changed (`entry`), and/or these uids' sockets here did. */
  changed(entry: boolean, uids: Iterable<string> = []): Promise<void> {
    this.entry ||= entry;
    for (const uid of uids) if (uid !== "") this.uids.add(uid);
    if (!this.entry && this.uids.size === 0) return this.loop.settled();
    return this.loop.sync();
  }

  /** Sends what a missed report left behind. */
  retry(): Promise<void> {
    return this.entry || this.uids.size > 0 ? this.loop.sync() : Promise.resolve();
  }

  /** A shard asked the room (or learned from it) what it holds: what it was told before no longer counts. */
  forget(): void {
    this.told = { own: null, uids: new Map() };
  }

  /** Resolves once every change so far reached the directory (or was left to the retry). */
  settled(): Promise<void> {
    return this.loop.settled();
  }

  private async send(): Promise<boolean> {
    const name = this.name();
    if (!name) return true;
    const entry = this.entry;
    const uids = [...this.uids];
    this.entry = false;
    this.uids.clear();
    const reports = new Map<number, ShardReport>();
    const at = (key: string) => {
      const shard = shardOf(key, this.config.shards);
      let report = reports.get(shard);
      if (!report) reports.set(shard, (report = { room: name as ShardReport["room"] }));
      return report;
    };
    const own = this.source.own();
    if (entry && JSON.stringify(own) !== this.told.own) Object.assign(at(name), own);
    // A uid's own room needs no member entry: the room is its membership.
    for (const uid of name.startsWith("uid:") ? [] : uids) {
      const sockets = this.source.uid(uid);
      if (this.told.uids.has(uid) && this.told.uids.get(uid) === sockets) continue;
      (at(`uid:${uid}`).uids ??= {})[uid] = sockets;
    }
    let ok = true;
    await Promise.all([...reports].map(async ([shard, report]) => {
      try {
        await this.env.DIRECTORY.getByName(shardName(shard)).report(report);
        if (report.connections !== undefined) this.told.own = JSON.stringify({ connections: report.connections, gateways: report.gateways });
        for (const [uid, sockets] of Object.entries(report.uids ?? {})) this.told.uids.set(uid, sockets);
      } catch (err) {
        ok = false;
        // What this shard missed goes with the next report.
        if (report.connections !== undefined) this.entry = true;
        for (const uid of Object.keys(report.uids ?? {})) this.uids.add(uid);
        logEvent("room_error", { class: "Reporter", room: name, shard, error: errorText(err) }, "error");
      }
    }));
    return ok;
  }
}
