/**
 * The connections an object reported open, in its SQLite: so that each gets exactly one
 * connection_closed, and a connection lost without a close handler (a crash, a deploy) gets it
 * too, from the next alarm. Rows written: one when a connection opens, one when it closes.
 */
import type { ConnectionFields, ConnectionProtocol } from "../contract/webhooks";

type Row = {
  client_id: string;
  uid: string | null;
  grp: string | null;
  protocol: ConnectionProtocol;
};

export class ConnectionLedger {
  private state: "unknown" | "absent" | "ready" = "unknown";

  constructor(private readonly sql: SqlStorage) {}

  /** Records an open connection. */
  open(fields: ConnectionFields): void {
    this.table();
    this.sql.exec("INSERT OR REPLACE INTO webhook_connections (client_id, uid, grp, protocol) VALUES (?, ?, ?, ?)",
      fields.client_id, fields.uid, fields.group, fields.protocol);
  }

  /** Forgets a connection; returns what was recorded of it, or null when it was not open (already closed). */
  close(clientId: string): ConnectionFields | null {
    if (!this.table(false)) return null;
    const row = this.sql
      .exec<Row>("DELETE FROM webhook_connections WHERE client_id = ? RETURNING client_id, uid, grp, protocol", clientId)
      .toArray()[0];
    return row ? { client_id: row.client_id, uid: row.uid, group: row.grp, protocol: row.protocol } : null;
  }

  /** Recorded connections whose id is not in `live`: lost without a close. */
  lost(live: Set<string>): string[] {
    if (!this.table(false)) return [];
    return this.sql.exec<{ client_id: string }>("SELECT client_id FROM webhook_connections").toArray()
      .map((r) => r.client_id).filter((id) => !live.has(id));
  }

  // Made on the first connection: an object that never had one reads nothing.
  private table(create = true): boolean {
    if (this.state === "ready") return true;
    if (this.state === "unknown") {
      const exists = this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'webhook_connections'").toArray().length > 0;
      this.state = exists ? "ready" : "absent";
    }
    if (this.state === "absent" && !create) return false;
    this.sql.exec("CREATE TABLE IF NOT EXISTS webhook_connections (client_id TEXT PRIMARY KEY, uid TEXT, grp TEXT, protocol TEXT NOT NULL) WITHOUT ROWID");
    this.state = "ready";
    return true;
  }
}
