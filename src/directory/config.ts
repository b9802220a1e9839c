/** Settings and shard arithmetic of the room directory. Pure: no Workers or Node APIs. */
import { ApiError } from "../contract/errors";

/** The wrangler vars this module reads (a subset of `Env`). */
export interface DirectoryVars {
  DIRECTORY_SHARDS?: string;
  PRESENCE_CHECK_S?: string;
  BROADCAST_FANOUT?: string;
  HEARTBEAT_TIMEOUT_S?: string;
  /** Webhooks need every close reported at once (see `reportCloses`). */
  WEBHOOK_URL?: string;
}

export interface DirectoryConfig {
  /** Directory shards; a room registers with exactly one, by hash of its name. */
  shards: number;
  /**
   * `/stats`, `/uids` and `/groups` first ask each room the shard has not heard from for this
   * long (closes are not reported, and a room may have crashed): they are right within it.
   */
  presenceCheckMs: number;
  /** Rooms one invocation calls directly in a broadcast; more go through relays. */
  fanout: number;
  /** Sockets silent (no `ping`) for longer are closed by the room's alarm; 0 = off. */
  heartbeatMs: number;
  /** Rooms report each close at once (one more request per connection): webhooks need it. */
  reportCloses: boolean;
}

type Numeric = Exclude<keyof DirectoryConfig, "reportCloses">;

const SETTINGS: Record<Numeric, { variable: keyof DirectoryVars; fallback: number; min: number; max: number; scale: number }> = {
  shards: { variable: "DIRECTORY_SHARDS", fallback: 16, min: 1, max: 1000, scale: 1 },
  presenceCheckMs: { variable: "PRESENCE_CHECK_S", fallback: 60, min: 0, max: 86400, scale: 1000 },
  fanout: { variable: "BROADCAST_FANOUT", fallback: 500, min: 2, max: 5000, scale: 1 },
  heartbeatMs: { variable: "HEARTBEAT_TIMEOUT_S", fallback: 0, min: 0, max: 86400, scale: 1000 },
};

/** Reads the directory settings; a var out of range is a 500 `misconfigured` naming it. */
export function readDirectoryConfig(vars: DirectoryVars): DirectoryConfig {
  const out = { reportCloses: Boolean(vars.WEBHOOK_URL) } as DirectoryConfig;
  for (const [key, s] of Object.entries(SETTINGS) as [Numeric, (typeof SETTINGS)[Numeric]][]) {
    const raw = vars[s.variable];
    const value = raw === undefined || raw === "" ? s.fallback : Number(raw);
    if (!Number.isSafeInteger(value) || value < s.min || value > s.max) {
      throw new ApiError(500, "misconfigured", `${s.variable} must be an integer from ${s.min} to ${s.max}, got ${JSON.stringify(raw)}`);
    }
    out[key] = value * s.scale;
  }
  return out;
}

/** Like `readDirectoryConfig`, but a bad var falls back to the defaults (rooms cannot answer 500). */
export function safeDirectoryConfig(vars: DirectoryVars): DirectoryConfig {
  try {
    return readDirectoryConfig(vars);
  } catch {
    return readDirectoryConfig({ WEBHOOK_URL: vars.WEBHOOK_URL });
  }
}

/**
 * The shard of `key` (FNV-1a, 32 bit). A room registers with `shardOf(room)`; the uid index
 * row of a uid lives with `shardOf("uid:" + uid)`, the shard of that uid's own room.
 * @example shardOf("group:lobby", 16) // a number in 0..15
 */
export function shardOf(key: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/** The Durable Object name of shard `index`. */
export function shardName(index: number): string {
  return `shard:${index}`;
}
