import { Hono } from "hono";
import { z } from "zod";
import { ApiError } from "../../contract/errors";
import { roomName } from "../../contract/names";
import { deploymentStats, listAll } from "../../directory/client";
import { requireSecret, roomStub, type Env } from "../../env";
import { controlBody } from "../http";
import { checkName } from "../push-schema";
import { MAX_TOKEN_GROUPS, MAX_TOKEN_TTL_S, signClientToken } from "../../contract/tokens";

const tokenSchema = z.object({
  uid: z.string(),
  groups: z.array(z.string()).max(MAX_TOKEN_GROUPS).optional(),
  ttl: z.number().int().min(1).max(MAX_TOKEN_TTL_S).optional(),
});

/** Presence and control: who is online, tokens for backends that do not sign JWTs. */
export const controlRoutes = new Hono<{ Bindings: Env }>()
  .get("/online/:uid", async (c) => {
    const uid = checkName(c.req.param("uid"), "uid");
    const { connections } = await roomStub(c.env, roomName("uid", uid)).presence();
    return c.json({ uid, online: connections > 0, connections });
  })
  .get("/groups/:group", async (c) => {
    const group = checkName(c.req.param("group"), "group");
    const { connections, uids } = await roomStub(c.env, roomName("group", group)).presence();
    return c.json({ group, connections, uids });
  })
  .get("/stats", async (c) => {
    const { connections, rooms, uids, groups } = await deploymentStats(c.env);
    return c.json({ connections, rooms, uids, groups });
  })
  .get("/uids", async (c) => {
    const { items, cursor } = await listAll(c.env, "uids", listCursor(c.req.query("cursor")), listLimit(c.req.query("limit")));
    return c.json({ uids: items, cursor });
  })
  .get("/groups", async (c) => {
    const { items, cursor } = await listAll(c.env, "groups", listCursor(c.req.query("cursor")), listLimit(c.req.query("limit")));
    return c.json({ groups: items, cursor });
  })
  .post("/token", async (c) => {
    const body = await controlBody(c, tokenSchema);
    const uid = checkName(body.uid, "uid");
    const groups = (body.groups ?? []).map((g, i) => checkName(g, `groups.${i}`));
    const signed = await signClientToken({ uid, groups, ttl: body.ttl ?? 3600 }, requireSecret(c.env, "TOKEN_SECRET"));
    return c.json(signed);
  });

const MAX_LIST = 1000;

function listLimit(raw: string | undefined): number {
  if (raw === undefined) return MAX_LIST;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > MAX_LIST) {
    throw new ApiError(400, "bad_request", `limit: expected an integer from 1 to ${MAX_LIST}`);
  }
  return limit;
}

// A cursor is the last name of the previous page.
function listCursor(raw: string | undefined): string {
  return raw === undefined ? "" : checkName(raw, "cursor");
}
