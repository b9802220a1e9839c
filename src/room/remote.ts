/**
 * A room's gateway subscribers: which connections of which gateway receive this room. Kept in
 * the room's SQLite (one row per connection) and mirrored in memory; a room's fan-out is its own
 * sockets plus one RPC per gateway listed here, never one per subscriber.
 */
import type { GatewayName, RoomName } from "../contract/names";
import type { Env } from "../env";
import type { GatewayItem, TrackChange } from "../gateway/types";
import { errorText, logEvent } from "../util/log";

interface Entry {
  uid: string;
  info?: string;
}

/** A presence member that appeared or went away with a change. */
export interface MemberChange {
  id: string;
  info: string;
  added: boolean;
}

export class RemoteSubscribers {
  private readonly byGateway = new Map<GatewayName, Map<string, Entry>>();
  private tableReady = false;

  constructor(private readonly sql: SqlStorage) {
    // A room that never had a gateway subscriber has no table: reading it costs nothing more.
    const exists = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'remote'").toArray().length > 0;
    if (!exists) return;
    this.tableReady = true;
    const rows = sql.exec<{ gateway: GatewayName; client: string; uid: string; info: string | null }>(
      "SELECT gateway, client, uid, info FROM remote").toArray();
    for (const r of rows) this.entries(r.gateway).set(r.client, r.info === null ? { uid: r.uid } : { uid: r.uid, info: r.info });
  }

  /** Connections across all gateways. */
  get size(): number {
    let n = 0;
    for (const m of this.byGateway.values()) n += m.size;
    return n;
  }

  /** Every subscriber's clientId. */
  clientIds(): string[] {
    const out: string[] = [];
    for (const m of this.byGateway.values()) out.push(...m.keys());
    return out;
  }

  /** Gateways holding a subscriber of `uid`. */
  gatewaysOf(uid: string): GatewayName[] {
    return [...this.byGateway].filter(([, m]) => [...m.values()].some((e) => e.uid === uid)).map(([g]) => g);
  }

  /** Gateways holding at least one subscriber. */
  gateways(): GatewayName[] {
    return [...this.byGateway.keys()];
  }

  /** Distinct non-anonymous uids of the subscribers. */
  uids(): Set<string> {
    const out = new Set<string>();
    for (const m of this.byGateway.values()) for (const e of m.values()) if (e.uid !== "") out.add(e.uid);
    return out;
  }

  /** One member per uid (the first connection's info), for presence channels. */
  members(): Map<string, string> {
    const out = new Map<string, string>();
    for (const m of this.byGateway.values()) {
      for (const e of m.values()) if (e.uid !== "" && !out.has(e.uid)) out.set(e.uid, e.info ?? "{}");
    }
    return out;
  }

  /** Applies a gateway's changes; with `presence`, returns the members that came or went. */
  apply(gateway: GatewayName, changes: TrackChange[], presence: boolean): MemberChange[] {
    const before = presence ? this.members() : null;
    this.table();
    for (const change of changes) {
      const entries = this.entries(gateway);
      if (change.on) {
        entries.set(change.clientId, change.info === undefined ? { uid: change.uid } : { uid: change.uid, info: change.info });
        this.sql.exec("INSERT OR REPLACE INTO remote (gateway, client, uid, info) VALUES (?, ?, ?, ?)",
          gateway, change.clientId, change.uid, change.info ?? null);
      } else if (entries.delete(change.clientId)) {
        this.sql.exec("DELETE FROM remote WHERE gateway = ? AND client = ?", gateway, change.clientId);
      }
      if (entries.size === 0) this.byGateway.delete(gateway);
    }
    return before ? diffMembers(before, this.members()) : [];
  }

  /** Drops every subscriber of `gateway` (it said it holds none: it restarted or crashed). */
  forget(gateway: GatewayName, presence: boolean): MemberChange[] {
    if (!this.byGateway.has(gateway)) return [];
    const before = presence ? this.members() : null;
    this.byGateway.delete(gateway);
    this.sql.exec("DELETE FROM remote WHERE gateway = ?", gateway);
    return before ? diffMembers(before, this.members()) : [];
  }

  /**
   * Hands `items` to every gateway with subscribers, one RPC each, in parallel; returns how many
   * connections each item reached. A gateway that answers it holds none is forgotten.
   */
  async deliver(
    env: Env, room: RoomName, items: GatewayItem[], presence: boolean, onForget: (changes: MemberChange[]) => void,
  ): Promise<number[]> {
    const delivered = items.map(() => 0);
    await Promise.all(this.gateways().map(async (gateway) => {
      try {
        const result = await env.GATEWAYS.getByName(gateway).deliver(room, items);
        if (!result.subscribed) return onForget(this.forget(gateway, presence));
        result.delivered.forEach((n, i) => (delivered[i] += n));
      } catch (err) {
        logEvent("room_error", { class: "RoomObject", room, method: "deliver", gateway, error: errorText(err) }, "error");
      }
    }));
    return delivered;
  }

  private entries(gateway: GatewayName): Map<string, Entry> {
    let entries = this.byGateway.get(gateway);
    if (!entries) this.byGateway.set(gateway, (entries = new Map()));
    return entries;
  }

  private table(): void {
    if (this.tableReady) return;
    this.sql.exec("CREATE TABLE IF NOT EXISTS remote (gateway TEXT NOT NULL, client TEXT NOT NULL, uid TEXT NOT NULL, info TEXT, PRIMARY KEY (gateway, client)) WITHOUT ROWID");
    this.tableReady = true;
  }
}

function diffMembers(before: Map<string, string>, after: Map<string, string>): MemberChange[] {
  const out: MemberChange[] = [];
  for (const [id, info] of after) if (!before.has(id)) out.push({ id, info, added: true });
  for (const [id, info] of before) if (!after.has(id)) out.push({ id, info, added: false });
  return out;
}
