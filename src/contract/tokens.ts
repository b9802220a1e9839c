/** Client tokens (HS256 JWTs): what the Worker checks at connect and the gateway checks on a `join` frame. Pure: hono/jwt only. */
import { sign, verify } from "hono/jwt";
import { ApiError } from "./errors";
import { isName } from "./names";

/** What a verified client token grants. */
export interface ClientClaims {
  uid: string;
  groups: string[];
  exp: number;
}

export const MAX_TOKEN_TTL_S = 30 * 24 * 3600;
export const MAX_TOKEN_GROUPS = 100;

/**
 * Verifies an HS256 client token; throws a 401 ApiError saying why it is refused.
 * @example const { uid, groups } = await verifyClientToken(token, env.TOKEN_SECRET)
 */
export async function verifyClientToken(token: string, secret: string): Promise<ClientClaims> {
  let payload: Record<string, unknown>;
  try {
    // iat is not checked: a backend clock a second ahead must not refuse its own fresh tokens.
    // exp is checked below, after the signature, so a malformed one is named as such.
    payload = await verify(token, secret, { alg: "HS256", iat: false, exp: false });
  } catch {
    throw new ApiError(401, "unauthorized", "token invalid");
  }
  if (!isName(payload.sub)) throw new ApiError(401, "unauthorized", "token sub must be a valid uid");
  const exp = payload.exp;
  if (exp === undefined) throw new ApiError(401, "unauthorized", "token has no exp");
  if (typeof exp !== "number" || !Number.isFinite(exp)) {
    throw new ApiError(401, "unauthorized", `token exp must be a number (unix seconds), got ${exp === null ? "null" : typeof exp}`);
  }
  if (exp <= Math.floor(Date.now() / 1000)) throw new ApiError(401, "unauthorized", "token expired");
  const groups = payload.groups ?? [];
  if (!Array.isArray(groups) || !groups.every(isName)) {
    throw new ApiError(401, "unauthorized", "token groups must be an array of group names");
  }
  return { uid: payload.sub, groups, exp };
}

/**
 * Signs a client token for `uid`, valid `ttl` seconds.
 * @example const { token, expiresAt } = await signClientToken({ uid: "u1", ttl: 3600 }, secret)
 */
export async function signClientToken(
  claims: { uid: string; groups?: string[]; ttl: number },
  secret: string,
  now = Math.floor(Date.now() / 1000),
): Promise<{ token: string; expiresAt: number }> {
  const expiresAt = now + claims.ttl;
  const payload: Record<string, unknown> = { sub: claims.uid, iat: now, exp: expiresAt };
  if (claims.groups && claims.groups.length > 0) payload.groups = claims.groups;
  return { token: await sign(payload, secret, "HS256"), expiresAt };
}
