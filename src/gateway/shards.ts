/** Which gateway shard a new connection goes to. Pure: no Workers or Node APIs. */
import { ApiError } from "../contract/errors";
import { gatewayName, type GatewayName } from "../contract/names";

export const DEFAULT_GATEWAY_SHARDS = 16;
const MAX_GATEWAY_SHARDS = 1000;

/**
 * Regions a shard may be placed in (Durable Object location hints). On Cloudflare a connection
 * goes to a shard of its own continent; shard numbers `r * shards … r * shards + shards - 1`
 * belong to region `r`, so the number alone (in the client id) still names the shard.
 */
const REGIONS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;
export type Region = (typeof REGIONS)[number];

/** Reads GATEWAY_SHARDS (shards per region); a bad value is a 500 naming the variable. */
export function gatewayShards(raw: string | undefined): number {
  if (raw === undefined || raw === "") return DEFAULT_GATEWAY_SHARDS;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_GATEWAY_SHARDS) {
    throw new ApiError(500, "misconfigured", `GATEWAY_SHARDS must be an integer from 1 to ${MAX_GATEWAY_SHARDS}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** The region of a request's `cf` data, or null where there is none (local dev, tests). */
export function regionOf(cf: { continent?: unknown; longitude?: unknown } | undefined): Region | null {
  switch (cf?.continent) {
    case "NA":
      return Number(cf.longitude) < -100 ? "wnam" : "enam";
    case "SA":
      return "sam";
    case "EU":
      return Number(cf.longitude) > 20 ? "eeur" : "weur";
    case "AS":
      return "apac";
    case "OC":
      return "oc";
    case "AF":
      return "afr";
    default:
      return null;
  }
}

/**
 * A shard for a new connection: uniform over the region's shards, so no shard holds more
 * than its part of the app. `random` is a number in [0, 1).
 * @example pickShard(16, null, Math.random()) // { name: "gw:7", shard: 7, region: null }
 */
export function pickShard(shards: number, region: Region | null, random: number): { name: GatewayName; shard: number; region: Region | null } {
  const offset = region === null ? 0 : REGIONS.indexOf(region) * shards;
  const shard = offset + Math.min(shards - 1, Math.floor(random * shards));
  return { name: gatewayName(shard), shard, region };
}

/** True when `shard` is one a connection can be on with `shards` per region (client ids name it). */
export function isLiveShardNumber(shard: number, shards: number): boolean {
  return Number.isSafeInteger(shard) && shard >= 0 && shard < REGIONS.length * shards;
}
