import { ApiError } from "./contract/errors";
import { isGatewayName, type GatewayName, type ListedName, type RoomName } from "./contract/names";
import type { DirectoryVars } from "./directory/config";
import type { Listing } from "./directory/types";
import type { MeterVars } from "./util/meter";
import type { RoomPushItem, RoomPushResult } from "./room/types";
import type { DirectoryApi, GatewayApi, RoomApi } from "./rpc";
import type { WebhookVars } from "./webhooks/config";

/** Bindings and variables of the Worker (wrangler.toml `vars`, secrets, `.dev.vars`). */
export interface Env extends DirectoryVars, WebhookVars, MeterVars {
  ROOMS: DurableObjectNamespace<RoomApi>;
  /** Shards of the room directory (`shard:<i>`) and broadcast relays; see src/directory/directory.ts. */
  DIRECTORY: DurableObjectNamespace<DirectoryApi>;
  /** Gateway shards (`gw:<n>`): multiplexed sockets of the Pusher and GatewayWorker protocols. */
  GATEWAYS: DurableObjectNamespace<GatewayApi>;
  GATEWAY_SHARDS?: string;
  GATEWAY_ANONYMOUS?: string;
  PUSHER_APP_ID?: string;
  PUSHER_APP_KEY?: string;
  PUSHER_APP_SECRET?: string;
  PUSHER_ACTIVITY_TIMEOUT_S?: string;
  PUSH_SECRET?: string;
  TOKEN_SECRET?: string;
  LEGACY_UID_HANDSHAKE?: string;
  ALLOWED_ORIGINS?: string;
  MAX_PAYLOAD_BYTES?: string;
  MAX_BODY_BYTES?: string;
  MAX_FRAME_BYTES?: string;
  LOG_MAX_ROWS?: string;
  LOG_MAX_BYTES?: string;
  MAX_SOCKETS_PER_ROOM?: string;
  MAX_SOCKETS_PER_UID?: string;
  PUBLISH_RATE_PER_10S?: string;
  CLIENT_FRAMES_PER_10S?: string;
  CLIENT_BYTES_PER_10S?: string;
  OUTBOUND_MAX_BYTES?: string;
  FD_BUDGET?: string;
}

/** The Durable Object stub of a room. */
export function roomStub(env: Env, room: RoomName): DurableObjectStub<RoomApi> {
  return env.ROOMS.getByName(room);
}

/** The Durable Object stub of a gateway shard. */
export function gatewayStub(env: Env, name: GatewayName): DurableObjectStub<GatewayApi> {
  return env.GATEWAYS.getByName(name);
}

/** The stub of a listed name: both kinds answer `push`, `close` and `listing` alike. */
export function listedStub(env: Env, name: ListedName): Pick<DurableObjectStub<RoomApi>, "close"> & {
  push(name: ListedName, items: RoomPushItem[]): Promise<RoomPushResult[]>;
  listing(): Promise<Listing>;
} {
  if (isGatewayName(name)) {
    const stub = gatewayStub(env, name);
    return { push: (n, items) => stub.push(n as GatewayName, items), close: (t, c, r) => stub.close(t, c, r), listing: () => stub.listing() };
  }
  const stub = roomStub(env, name);
  return { push: (n, items) => stub.push(n as RoomName, items), close: (t, c, r) => stub.close(t, c, r), listing: () => stub.listing() };
}

/** The secret named `name`, or a 500 `misconfigured` that names the variable to set. */
export function requireSecret(env: Env, name: "PUSH_SECRET" | "TOKEN_SECRET"): string {
  const value = env[name];
  if (typeof value !== "string" || value.length === 0) {
    throw new ApiError(
      500,
      "misconfigured",
      `${name} is not set: run \`wrangler secret put ${name}\` (or add it to .dev.vars)`,
    );
  }
  return value;
}

export function legacyHandshakeEnabled(env: Env): boolean {
  return env.LEGACY_UID_HANDSHAKE === "true";
}

/** Tunable limits; each is a wrangler var with the default shown. */
export interface Limits {
  maxPayloadBytes: number;
  maxBodyBytes: number;
  maxFrameBytes: number;
  logMaxRows: number;
  logMaxBytes: number;
  maxSocketsPerRoom: number;
  maxSocketsPerUid: number;
  publishRatePer10s: number;
  clientFramesPer10s: number;
  clientBytesPer10s: number;
  outboundMaxBytes: number;
  /** File descriptors this process's WebSockets and their rooms may use (`npm run serve` sets it); unset: no cap. */
  fdBudget: number;
}

const DEFAULTS: Record<keyof Limits, [keyof Env, number]> = {
  maxPayloadBytes: ["MAX_PAYLOAD_BYTES", 64 * 1024],
  maxBodyBytes: ["MAX_BODY_BYTES", 1024 * 1024],
  maxFrameBytes: ["MAX_FRAME_BYTES", 64 * 1024],
  logMaxRows: ["LOG_MAX_ROWS", 5000],
  logMaxBytes: ["LOG_MAX_BYTES", 16 * 1024 * 1024],
  maxSocketsPerRoom: ["MAX_SOCKETS_PER_ROOM", 10000],
  maxSocketsPerUid: ["MAX_SOCKETS_PER_UID", 100],
  publishRatePer10s: ["PUBLISH_RATE_PER_10S", 1000],
  clientFramesPer10s: ["CLIENT_FRAMES_PER_10S", 2000],
  clientBytesPer10s: ["CLIENT_BYTES_PER_10S", 16 * 1024 * 1024],
  outboundMaxBytes: ["OUTBOUND_MAX_BYTES", 4 * 1024 * 1024],
  fdBudget: ["FD_BUDGET", Infinity],
};

/** Reads the limits; a var that is set but not a positive integer is a 500 naming it. */
export function readLimits(env: Env): Limits {
  const out = {} as Limits;
  for (const [key, [variable, fallback]] of Object.entries(DEFAULTS) as [keyof Limits, [keyof Env, number]][]) {
    const raw = env[variable];
    if (raw === undefined || raw === "") {
      out[key] = fallback;
      continue;
    }
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new ApiError(500, "misconfigured", `${variable} must be a positive integer, got ${JSON.stringify(raw)}`);
    }
    out[key] = value;
  }
  return out;
}

/** Like `readLimits`, but a bad var falls back to the defaults: a Durable Object cannot answer 500 (the Worker names the var). */
export function safeLimits(env: Env): Limits {
  try {
    return readLimits(env);
  } catch {
    return readLimits({} as Env);
  }
}
