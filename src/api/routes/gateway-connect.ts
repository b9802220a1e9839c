import { Hono } from "hono";
import { ApiError } from "../../contract/errors";
import { requireSecret, type Env } from "../../env";
import { GATEWAY_HEADER, type GatewayProtocol } from "../../gateway/types";
import { gatewayShards, pickShard, regionOf } from "../../gateway/shards";
import { PUSHER_CODES, errorFrame } from "../../gateway/pusher/frames";
import { logEvent } from "../../util/log";
import type { AppContext } from "../http";
import { verifyClientToken } from "../../contract/tokens";
import { checkCapacity, checkOrigin, requireUpgrade } from "../upgrade";

/** Pusher protocol versions pusher-js and the other clients speak. */
const PUSHER_PROTOCOLS = new Set(["5", "6", "7"]);

/**
 * The gateway tier's upgrades: `GET /app/<key>` (Pusher Channels) and `GET /gateway`
 * (GatewayWorker mode). Each connection goes to one gateway shard; the raw upgrade is forwarded
 * so the socket hibernates there.
 */
export const gatewayConnectRoutes = new Hono<{ Bindings: Env }>()
  .get("/app/:key", async (c) => {
    const isUpgrade = c.req.header("Upgrade")?.toLowerCase() === "websocket";
    requireUpgrade(isUpgrade, "/app/<key>");
    checkOrigin(c.env, c.req.header("Origin"));
    const refusal = pusherRefusal(c.env, c.req.param("key"), c.req.query("protocol"));
    // Pusher clients read the reason from the close code: accept, say why, close.
    if (refusal) return refuseWithClose(refusal.code, refusal.message);
    return forward(c, "pusher", null, []);
  })
  .get("/gateway", async (c) => {
    try {
      return await gatewayUpgrade(c);
    } catch (err) {
      if (err instanceof ApiError) logEvent("connection_rejected", { path: "/gateway", status: err.status, code: err.code, reason: err.message });
      throw err;
    }
  });

async function gatewayUpgrade(c: AppContext): Promise<Response> {
  const isUpgrade = c.req.header("Upgrade")?.toLowerCase() === "websocket";
  checkOrigin(c.env, c.req.header("Origin"));
  const format = c.req.query("format") ?? "raw";
  if (format !== "envelope" && format !== "raw") throw new ApiError(400, "bad_request", "format: expected raw or envelope");
  const since = c.req.query("since");
  if (since !== undefined && !/^\d{1,15}$/.test(since)) throw new ApiError(400, "bad_request", "since: expected a non-negative integer seq");
  const autojoin = c.req.query("autojoin") ?? "true";
  if (autojoin !== "true" && autojoin !== "false") throw new ApiError(400, "bad_request", "autojoin: expected true or false");
  const token = c.req.query("token");
  if (!token) {
    if (c.env.GATEWAY_ANONYMOUS !== "true") {
      throw new ApiError(401, "unauthorized", "missing token: connect to /gateway?token=JWT (or set GATEWAY_ANONYMOUS=true)");
    }
    requireUpgrade(isUpgrade, "/gateway");
    return forward(c, "gateway", null, [], format);
  }
  const claims = await verifyClientToken(token, requireSecret(c.env, "TOKEN_SECRET"));
  requireUpgrade(isUpgrade, "/gateway");
  return forward(c, "gateway", claims.uid, claims.groups, format, { since, autojoin: autojoin === "true" });
}

function pusherRefusal(env: Env, key: string, protocol: string | undefined): { code: number; message: string } | null {
  if (!env.PUSHER_APP_ID || !env.PUSHER_APP_KEY || !env.PUSHER_APP_SECRET) {
    const missing = ["PUSHER_APP_ID", "PUSHER_APP_KEY", "PUSHER_APP_SECRET"].filter((v) => !env[v as keyof Env]);
    logEvent("misconfigured", { path: "/app", missing }, "error");
    return { code: PUSHER_CODES.APP_NOT_FOUND, message: `Pusher app not configured: set ${missing.join(", ")}` };
  }
  if (key !== env.PUSHER_APP_KEY) return { code: PUSHER_CODES.APP_NOT_FOUND, message: `App key ${key} not in this cluster` };
  if (protocol === undefined) return { code: PUSHER_CODES.NO_PROTOCOL, message: "No protocol version supplied" };
  if (!PUSHER_PROTOCOLS.has(protocol)) return { code: PUSHER_CODES.UNSUPPORTED_PROTOCOL, message: `Unsupported protocol version ${protocol}` };
  return null;
}

function refuseWithClose(code: number, message: string): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.send(errorFrame(code, message));
  server.close(code, message.slice(0, 120));
  return new Response(null, { status: 101, webSocket: client });
}

async function forward(
  c: AppContext, protocol: GatewayProtocol, uid: string | null, groups: string[], format = "raw",
  options: { since?: string; autojoin?: boolean } = {},
): Promise<Response> {
  // Under `npm run serve` a process out of file descriptors refuses with 503, never exits.
  checkCapacity(c.env);
  const shards = gatewayShards(c.env.GATEWAY_SHARDS);
  const cf = (c.req.raw as Request & { cf?: { continent?: unknown; longitude?: unknown } }).cf;
  const { name, region } = pickShard(shards, regionOf(cf), Math.random());
  const headers = new Headers(c.req.raw.headers);
  headers.set(GATEWAY_HEADER.protocol, protocol);
  headers.set(GATEWAY_HEADER.format, format);
  if (uid === null) headers.delete(GATEWAY_HEADER.uid);
  else headers.set(GATEWAY_HEADER.uid, uid);
  headers.set(GATEWAY_HEADER.groups, JSON.stringify(groups));
  // `since` resumes the token's uid room (envelope connections); never a client's own header.
  if (options.since === undefined) headers.delete(GATEWAY_HEADER.since);
  else headers.set(GATEWAY_HEADER.since, options.since);
  headers.set(GATEWAY_HEADER.autojoin, options.autojoin === false ? "0" : "1");
  const id = c.env.GATEWAYS.idFromName(name);
  const stub = region ? c.env.GATEWAYS.get(id, { locationHint: region }) : c.env.GATEWAYS.get(id);
  return stub.fetch(new Request(c.req.raw, { headers }));
}
