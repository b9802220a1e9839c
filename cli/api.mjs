// The CLI's HTTP calls and client tokens. Plain ESM for Node 20 and 22 (no TypeScript build step).
import { createHmac } from "node:crypto";

/** The API answered with an error or could not be reached: exit code 1. */
export class ApiCallError extends Error {
  /** @param {number} status 0 when no answer arrived @param {string} code */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const HINTS = {
  unauthorized: "the secret does not match the server's PUSH_SECRET (check .dev.vars, or `wrangler secret put PUSH_SECRET` for a deployment)",
  not_found: "this server has no such endpoint: is EDGEPUSH_URL an edgepush deployment, and up to date?",
  misconfigured: "the server is missing a secret: `wrangler secret put …` (or .dev.vars in local dev), then retry",
};

/** One authenticated JSON call; returns the parsed answer or throws ApiCallError. */
export async function callApi(config, secret, method, path, body) {
  let response;
  let text;
  try {
    response = await fetch(`${config.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    text = await response.text();
  } catch (err) {
    const why = err?.name === "TimeoutError" ? "no answer in 15 s" : (err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(err));
    throw new ApiCallError(0, "network_error", `could not reach ${config.url} (${why}): is it running (npm start)? set EDGEPUSH_URL or --url`);
  }
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new ApiCallError(response.status, "bad_response", `${config.url} answered ${response.status} with non-JSON: is it an edgepush deployment?`);
  }
  if (!response.ok) {
    const code = answer?.error?.code ?? "bad_response";
    const hint = HINTS[code] ? `\n  hint: ${HINTS[code]}` : "";
    throw new ApiCallError(response.status, code, `${response.status} ${code}: ${answer?.error?.message ?? text}${hint}`);
  }
  return answer;
}

const NAME_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;

/** Signs an HS256 client token like the server's `POST /token` does. */
export function signToken({ uid, groups, ttl }, secret, now = Math.floor(Date.now() / 1000)) {
  const payload = { sub: uid, iat: now, exp: now + ttl, ...(groups.length > 0 ? { groups } : {}) };
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${part(payload)}`;
  const signature = createHmac("sha256", secret).update(unsigned).digest("base64url");
  return { token: `${unsigned}.${signature}`, expiresAt: now + ttl };
}

/** True when `value` is a valid uid or group name (1-128 chars of [A-Za-z0-9_.:@-]). */
export function isName(value) {
  return typeof value === "string" && NAME_PATTERN.test(value);
}
