import { Hono } from "hono";
import { ApiError } from "../../contract/errors";
import { isName, roomName, type RoomName } from "../../contract/names";
import { CLOSE_INTERNAL, CLOSE_POLICY } from "../../contract/protocol";
import { legacyHandshakeEnabled, requireSecret, roomStub, type Env } from "../../env";
import { ROOM_HEADER } from "../../room/types";
import { logEvent } from "../../util/log";
import type { AppContext } from "../http";
import { checkCapacity, checkOrigin, requireUpgrade } from "../upgrade";
import { checkName } from "../push-schema";
import { verifyClientToken } from "../../contract/tokens";

/**
 * `GET /ws`: authenticates, picks the room and forwards the raw upgrade to it. Hono's
 * `upgradeWebSocket` would accept the socket in the Worker, where it cannot hibernate.
 */
export const connectRoutes = new Hono<{ Bindings: Env }>().get("/ws", async (c) => {
  try {
    return await connect(c);
  } catch (err) {
    if (err instanceof ApiError) logEvent("connection_rejected", { status: err.status, code: err.code, reason: err.message });
    throw err;
  }
});

async function connect(c: AppContext): Promise<Response> {
  // Credentials are judged before the Upgrade header, so a plain GET learns why it is refused.
  const isUpgrade = c.req.header("Upgrade")?.toLowerCase() === "websocket";
  checkOrigin(c.env, c.req.header("Origin"));
  const format = c.req.query("format") ?? "envelope";
  if (format !== "envelope" && format !== "raw") {
    throw new ApiError(400, "bad_request", "format: expected envelope or raw");
  }
  const since = c.req.query("since");
  if (since !== undefined && !/^\d{1,15}$/.test(since)) {
    throw new ApiError(400, "bad_request", "since: expected a non-negative integer seq");
  }
  const token = c.req.query("token");
  if (!token) {
    if (!legacyHandshakeEnabled(c.env)) throw new ApiError(401, "unauthorized", "missing token: connect to /ws?token=JWT");
    requireUpgrade(isUpgrade, "/ws");
    checkCapacity(c.env);
    return legacyRelay(c.env);
  }
  const claims = await verifyClientToken(token, requireSecret(c.env, "TOKEN_SECRET"));
  const group = c.req.query("group");
  let room: RoomName = roomName("uid", claims.uid);
  if (group !== undefined) {
    checkName(group, "group");
    if (!claims.groups.includes(group)) throw new ApiError(403, "forbidden", `token does not allow group ${group}`);
    room = roomName("group", group);
  }
  requireUpgrade(isUpgrade, "/ws");
  checkCapacity(c.env);
  const headers = new Headers(c.req.raw.headers);
  headers.set(ROOM_HEADER.room, room);
  headers.set(ROOM_HEADER.uid, claims.uid);
  headers.set(ROOM_HEADER.format, format);
  headers.set(ROOM_HEADER.exp, String(claims.exp));
  if (since !== undefined) headers.set(ROOM_HEADER.since, since);
  else headers.delete(ROOM_HEADER.since);
  headers.delete(ROOM_HEADER.legacy);
  return roomStub(c.env, room).fetch(new Request(c.req.raw, { headers }));
}

/**
 * The seed's handshake (local dev only): the room is unknown until the client's first frame names
 * its uid, so the Worker holds the socket and relays it to the uid's room once it knows.
 */
function legacyRelay(env: Env): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  let upstream: WebSocket | null = null;
  let started = false;
  let closed = false;

  server.addEventListener("message", async (event) => {
    if (started) return;
    started = true;
    const uid = typeof event.data === "string" ? event.data : "";
    if (!isName(uid)) return server.close(CLOSE_POLICY, "invalid uid");
    const room = roomName("uid", uid);
    const ws = await roomStub(env, room)
      .fetch("https://room/ws", {
        headers: { Upgrade: "websocket", [ROOM_HEADER.room]: room, [ROOM_HEADER.uid]: uid, [ROOM_HEADER.legacy]: "1" },
      })
      .then((response) => response.webSocket, () => null);
    if (!ws) return server.close(CLOSE_INTERNAL, "room refused the connection");
    ws.accept();
    upstream = ws;
    ws.addEventListener("message", (e) => safe(() => server.send(e.data)));
    ws.addEventListener("close", (e) => safe(() => server.close(closeCode(e.code), e.reason)));
    if (closed) safe(() => ws.close(1000, "client left"));
  });
  server.addEventListener("close", (e) => {
    closed = true;
    safe(() => upstream?.close(closeCode(e.code), e.reason));
  });
  server.addEventListener("error", () => safe(() => upstream?.close(CLOSE_INTERNAL, "client error")));
  return new Response(null, { status: 101, webSocket: client });
}

// 1005/1006/1015 describe a close; they may not be sent in one.
function closeCode(code: number): number {
  return code === 1005 || code === 1006 || code === 1015 ? 1000 : code;
}

function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // the other side is already gone
  }
}
