/**
 * Verification of Pusher REST API request signatures (library_auth_reference/rest-api.md,
 * "Authentication"), exactly as the server SDKs sign: pusher-http-node lib/requests.js
 * createSignedQueryString, pusher-http-php Pusher::build_auth_query_params. Needs the runtime's
 * `crypto.subtle.digest("MD5")`: workerd has it, Node's WebCrypto does not.
 */
import { toHex, verifyHmacHex, type Check } from "./auth";

/** "The server will only accept requests where the timestamp is within 600s of the current time". */
export const MAX_CLOCK_SKEW_S = 600;
export const AUTH_VERSION = "1.0";

/** What the signature covers, as received. */
export interface RestRequest {
  method: string;
  /** The URL's pathname, e.g. `/apps/3/events`. */
  path: string;
  /** The URL's query string, with or without its leading `?`. */
  query: string;
  /** The raw body; empty for GET. */
  body: string | Uint8Array;
}

type Pair = [key: string, value: string];

/**
 * Checks `auth_key`, `auth_version`, `auth_timestamp`, `body_md5` and `auth_signature` (hex
 * HMAC-SHA256 of `METHOD\nPATH\n<query sorted by lowercased key, not URL-escaped, without
 * auth_signature>`). The reason says which check failed; every failure is a 401.
 * @example await verifyRestRequest({ method: "POST", path, query: url.search, body }, { key, secret })
 */
export async function verifyRestRequest(
  request: RestRequest,
  app: { key: string; secret: string },
  nowS = Date.now() / 1000,
): Promise<Check> {
  const pairs = parseQuery(request.query, true);
  if (!pairs) return { ok: false, reason: "query string is not valid percent-encoding" };
  const params = new Map(pairs);
  const signature = params.get("auth_signature");
  if (!signature) return { ok: false, reason: "auth_signature is missing" };
  if (params.get("auth_key") !== app.key) return { ok: false, reason: "auth_key is missing or not this app's key" };
  if (params.get("auth_version") !== AUTH_VERSION) return { ok: false, reason: `auth_version must be ${AUTH_VERSION}` };
  const timestamp = params.get("auth_timestamp") ?? "";
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "auth_timestamp must be unix seconds" };
  if (Math.abs(nowS - Number(timestamp)) > MAX_CLOCK_SKEW_S) {
    return { ok: false, reason: `auth_timestamp is more than ${MAX_CLOCK_SKEW_S} s from the server's clock` };
  }
  const bodyCheck = await checkBodyMd5(request.body, params.get("body_md5"));
  if (!bodyCheck.ok) return bodyCheck;
  for (const signed of stringsToSign(request, pairs)) {
    if (await verifyHmacHex(app.secret, signed, signature)) return { ok: true };
  }
  return { ok: false, reason: "auth_signature does not match the request" };
}

async function checkBodyMd5(body: string | Uint8Array, bodyMd5: string | undefined): Promise<Check> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  if (bodyMd5 === undefined) {
    return bytes.length === 0 ? { ok: true } : { ok: false, reason: "body_md5 is missing for a non-empty body" };
  }
  const digest = toHex(new Uint8Array(await crypto.subtle.digest("MD5", bytes)));
  return digest === bodyMd5.toLowerCase() ? { ok: true } : { ok: false, reason: "body_md5 does not match the body" };
}

/**
 * The strings a genuine client may have signed. SDKs sign values unescaped but escape them
 * differently on the wire: Node's does not escape at all (a `+` is a plus), PHP's Guzzle writes
 * `%20`, Python's urlencode writes `+` for a space. Each candidate is a full HMAC check.
 */
function stringsToSign(request: RestRequest, spaced: Pair[]): string[] {
  const method = request.method.toUpperCase();
  const queries = new Set([canonicalQuery(spaced)]);
  const literal = parseQuery(request.query, false);
  if (literal) queries.add(canonicalQuery(literal));
  const paths = new Set([request.path]);
  try {
    paths.add(decodeURIComponent(request.path));
  } catch {
    // A path that does not decode can only have been signed as it is.
  }
  const out: string[] = [];
  for (const path of paths) for (const query of queries) out.push(`${method}\n${path}\n${query}`);
  return out;
}

function canonicalQuery(pairs: Pair[]): string {
  return pairs
    .filter(([key]) => key !== "auth_signature")
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
}

/** Decoded `[lowercased key, value]` pairs in order; null when the escaping is broken. */
function parseQuery(query: string, plusIsSpace: boolean): Pair[] | null {
  const text = query.startsWith("?") ? query.slice(1) : query;
  const pairs: Pair[] = [];
  for (const part of text.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? "" : part.slice(eq + 1);
    try {
      pairs.push([decode(rawKey, plusIsSpace).toLowerCase(), decode(rawValue, plusIsSpace)]);
    } catch {
      return null;
    }
  }
  return pairs;
}

function decode(text: string, plusIsSpace: boolean): string {
  return decodeURIComponent(plusIsSpace ? text.replace(/\+/g, " ") : text);
}
