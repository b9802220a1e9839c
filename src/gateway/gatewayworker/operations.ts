/**
 * The backend's operations on GatewayWorker-mode connections (GatewayClient's bindUid,
 * joinGroup, setSession, closeClient …), run inside the gateway that holds the connection.
 * Sessions live in the gateway's SQLite (one row per connection that has one), not in the
 * attachment, whose 16 KiB the subscriptions need.
 */
import { roomName, type RoomName } from "../../contract/names";
import { LazyTable } from "../../util/lazy-table";
import { utf8Length } from "../../util/text";
import type { Connections } from "../connections";
import type { GatewayHost } from "../protocol";
import { MAX_SESSION_BYTES, type ClientInfo, type OpResult } from "../types";
import { replaceRecursive, type Session } from "./session";

export class ClientOperations {
  private readonly sessions: LazyTable;

  constructor(
    private readonly sql: SqlStorage,
    private readonly host: GatewayHost,
    private readonly sockets: (clientId: string) => WebSocket[],
  ) {
    this.sessions = new LazyTable(sql, "sessions", "CREATE TABLE IF NOT EXISTS sessions (client TEXT PRIMARY KEY, json TEXT NOT NULL) WITHOUT ROWID");
  }

  private get connections(): Connections {
    return this.host.connections;
  }

  info(clientId: string): ClientInfo {
    const ws = this.find(clientId);
    const attachment = ws && this.connections.get(ws);
    if (!attachment) return { client_id: clientId, online: false, uid: null, groups: [], session: null };
    const groups = attachment.subs.filter((s) => s.room.startsWith("group:")).map((s) => s.room.slice("group:".length));
    return { client_id: clientId, online: true, uid: attachment.uid, groups, session: this.session(clientId) };
  }

  async bindUid(clientId: string, uid: string): Promise<OpResult> {
    return this.withSocket(clientId, (ws) => this.host.bind(ws, uid));
  }

  /**
   * Unbinds whatever uid the connection holds: GatewayClient's unbindUid names a uid, but
   * GatewayWorker's gateway ignores it (CMD_UNBIND_UID clears the connection's uid), so edgepush does too.
   */
  async unbindUid(clientId: string): Promise<OpResult> {
    return this.withSocket(clientId, async (ws) => {
      if (this.connections.get(ws)?.uid != null) await this.host.bind(ws, null);
    });
  }

  async joinGroup(clientId: string, group: string): Promise<OpResult> {
    return this.withSocket(clientId, async (ws) => {
      if (!this.connections.subscription(ws, roomName("group", group))) await this.host.subscribe(ws, { room: roomName("group", group) });
    });
  }

  async leaveGroup(clientId: string, group: string): Promise<OpResult> {
    return this.withSocket(clientId, async (ws) => void (await this.host.unsubscribe(ws, roomName("group", group))));
  }

  /** Sets the connection's session, or with `merge` merges into it as GatewayWorker's updateSession (deeply). */
  async setSession(clientId: string, session: Session, merge: boolean): Promise<OpResult> {
    if (!this.find(clientId)) return notConnected(clientId);
    const next = merge ? replaceRecursive(this.session(clientId) ?? {}, session) : session;
    const text = JSON.stringify(next);
    if (utf8Length(text) > MAX_SESSION_BYTES) {
      return { ok: false, status: 413, code: "too_large", message: `session is over ${MAX_SESSION_BYTES} bytes of JSON` };
    }
    this.sessions.make();
    this.sql.exec("INSERT OR REPLACE INTO sessions (client, json) VALUES (?, ?)", clientId, text);
    return { ok: true };
  }

  /** Closes the connection, after sending `message` (raw) when given. */
  async closeClient(clientId: string, message?: string): Promise<OpResult> {
    return this.withSocket(clientId, async (ws) => {
      if (message !== undefined) this.host.send(ws, message);
      this.host.closeSocket(ws, 1000, "closed by the backend");
    });
  }

  /** The connections subscribed to `room` (every connection when null), with their sessions. */
  clients(room: RoomName | null): { clientIds: string[]; sessions: Record<string, Session | null> } {
    const sockets = room ? [...this.connections.inRoom(room).keys()] : [...this.connections.entries()].map(([ws]) => ws);
    const clientIds = sockets.map((ws) => this.connections.get(ws)!).filter((a) => a.protocol === "gateway").map((a) => a.id);
    const sessions: Record<string, Session | null> = {};
    for (const id of clientIds) sessions[id] = this.session(id);
    return { clientIds, sessions };
  }

  /** Removes every connection here (of `uid`, when given) from `room`; answers how many left it. */
  async ungroup(room: RoomName, uid?: string): Promise<number> {
    const sockets = [...this.connections.inRoom(room)]
      .filter(([ws, sub]) => uid === undefined || (sub.member?.id ?? this.connections.get(ws)!.uid) === uid)
      .map(([ws]) => ws);
    const left = await Promise.all(sockets.map((ws) => this.host.unsubscribe(ws, room)));
    return left.filter(Boolean).length;
  }

  /** Sends `frame` to the room's GatewayWorker connections that read frames (envelope format); answers how many. */
  notify(room: RoomName, frame: string): number {
    let n = 0;
    for (const ws of this.connections.inRoom(room).keys()) {
      const attachment = this.connections.get(ws);
      if (attachment?.protocol === "gateway" && attachment.format === "envelope" && this.host.send(ws, frame)) n++;
    }
    return n;
  }

  /** Forgets a closed connection's session. */
  drop(clientId: string): void {
    if (this.sessions.exists()) this.sql.exec("DELETE FROM sessions WHERE client = ?", clientId);
  }

  private session(clientId: string): Session | null {
    if (!this.sessions.exists()) return null;
    const row = this.sql.exec<{ json: string }>("SELECT json FROM sessions WHERE client = ?", clientId).toArray()[0];
    return row ? (JSON.parse(row.json) as Session) : null;
  }

  private find(clientId: string): WebSocket | undefined {
    return this.sockets(clientId).find((ws) => this.connections.get(ws)?.protocol === "gateway");
  }

  private async withSocket(clientId: string, fn: (ws: WebSocket) => Promise<void>): Promise<OpResult> {
    const ws = this.find(clientId);
    if (!ws) return notConnected(clientId);
    try {
      await fn(ws);
      return { ok: true };
    } catch (err) {
      if (err instanceof RangeError) return { ok: false, status: 413, code: "too_large", message: err.message };
      return { ok: false, status: 503, code: "unavailable", message: "a room did not answer; retry" };
    }
  }
}

function notConnected(clientId: string): OpResult {
  return { ok: false, status: 404, code: "not_found", message: `client ${clientId} is not connected` };
}
