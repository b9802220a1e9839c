import { Hono } from "hono";
import { ApiError } from "../../contract/errors";
import { legacyHandshakeEnabled, requireSecret, type Env } from "../../env";
import { checkName } from "../push-schema";
import { MAX_TOKEN_GROUPS, signClientToken } from "../../contract/tokens";

/** Lifetime of a dev token: long enough for a demo session, short enough to show refresh. */
const DEV_TOKEN_TTL_S = 3600;

/**
 * `GET /dev/token?uid=U[&groups=a,b]`: a client token with no backend credential, for the demo
 * page in local dev. It exists only with `LEGACY_UID_HANDSHAKE=true` (like the seed's tokenless
 * handshake, anyone who can reach it is anyone); otherwise it is the plain 404 of any unknown path.
 * @example fetch("/dev/token?uid=alice&groups=lobby").then((r) => r.json()) // {token, expiresAt, uid, groups}
 */
export const devRoutes = new Hono<{ Bindings: Env }>().get("/dev/token", async (c) => {
  if (!legacyHandshakeEnabled(c.env)) {
    throw new ApiError(404, "not_found", "no such endpoint; see the README's API reference");
  }
  const uid = checkName(c.req.query("uid") ?? "", "uid");
  const list = c.req.query("groups");
  const groups = list ? list.split(",").map((g, i) => checkName(g.trim(), `groups.${i}`)) : [];
  if (groups.length > MAX_TOKEN_GROUPS) throw new ApiError(400, "bad_request", `groups: at most ${MAX_TOKEN_GROUPS}`);
  const signed = await signClientToken({ uid, groups, ttl: DEV_TOKEN_TTL_S }, requireSecret(c.env, "TOKEN_SECRET"));
  c.header("Cache-Control", "no-store");
  return c.json({ ...signed, uid, groups });
});
