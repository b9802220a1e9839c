import { Hono } from "hono";
import { z } from "zod";
import { ApiError } from "../../contract/errors";
import { roomName } from "../../contract/names";
import { readLimits, roomStub, type Env } from "../../env";
import { isJsonObject, jsonDepth, type Session } from "../../gateway/gatewayworker/session";
import { MAX_SESSION_DEPTH } from "../../gateway/types";
import { utf8Length } from "../../util/text";
import { allClients, clientWrite, gatewayOf, roomClients, rpc } from "../gateway-clients";
import { controlBody } from "../http";
import { checkName } from "../push-schema";

const uidSchema = z.object({ uid: z.string() });
const groupSchema = z.object({ group: z.string() });
// z.custom, not z.record: the parsed object itself, since z.record drops a `__proto__` key (data here).
const sessionSchema = z.object({
  session: z.custom<Session>(isJsonObject, "expected a JSON object")
    .refine((s) => jsonDepth(s) <= MAX_SESSION_DEPTH, `nested deeper than ${MAX_SESSION_DEPTH} levels`),
});
const closeSchema = z.object({ message: z.string().optional() });

/**
 * GatewayWorker mode (GatewayClient's model): the backend binds `/gateway` connections to uids
 * and groups by client_id, keeps their sessions, lists and closes them. Each route is one call
 * of the README's GatewayClient table; writes to a client that is not connected answer 404.
 */
export const clientRoutes = new Hono<{ Bindings: Env }>()
  .get("/clients", async (c) => c.json(await allClients(c.env)))
  .get("/clients/:id", async (c) => {
    const id = c.req.param("id");
    const gateway = gatewayOf(c.env, id);
    if (!gateway) return c.json({ client_id: id, online: false, uid: null, groups: [], session: null });
    return c.json(await rpc(() => gateway.clientInfo(id), "client_op_failed", { clientId: id }));
  })
  .post("/clients/:id/uid", async (c) => {
    const uid = checkName((await controlBody(c, uidSchema)).uid, "uid");
    await clientWrite(c.env, c.req.param("id"), (g) => g.bindUid(c.req.param("id"), uid));
    return c.json({ ok: true });
  })
  // GatewayClient's unbindUid($client_id, $uid): the uid, when the path has one, is not compared
  // (nor checked): GatewayWorker unbinds whatever uid the connection holds.
  .on("DELETE", ["/clients/:id/uid", "/clients/:id/uid/:uid"], async (c) => {
    await clientWrite(c.env, c.req.param("id"), (g) => g.unbindUid(c.req.param("id")));
    return c.json({ ok: true });
  })
  .post("/clients/:id/groups", async (c) => {
    const group = checkName((await controlBody(c, groupSchema)).group, "group");
    await clientWrite(c.env, c.req.param("id"), (g) => g.joinGroup(c.req.param("id"), group));
    return c.json({ ok: true });
  })
  .delete("/clients/:id/groups/:group", async (c) => {
    const group = checkName(c.req.param("group"), "group");
    await clientWrite(c.env, c.req.param("id"), (g) => g.leaveGroup(c.req.param("id"), group));
    return c.json({ ok: true });
  })
  .put("/clients/:id/session", async (c) => {
    const { session } = await controlBody(c, sessionSchema);
    await clientWrite(c.env, c.req.param("id"), (g) => g.setSession(c.req.param("id"), session, false));
    return c.json({ ok: true });
  })
  .patch("/clients/:id/session", async (c) => {
    const { session } = await controlBody(c, sessionSchema);
    await clientWrite(c.env, c.req.param("id"), (g) => g.setSession(c.req.param("id"), session, true));
    return c.json({ ok: true });
  })
  .post("/clients/:id/close", async (c) => {
    const { message } = await controlBody(c, closeSchema);
    const max = readLimits(c.env).maxPayloadBytes;
    if (message !== undefined && utf8Length(message) > max) {
      throw new ApiError(413, "too_large", `message is over MAX_PAYLOAD_BYTES (${max} bytes)`);
    }
    await clientWrite(c.env, c.req.param("id"), (g) => g.closeClient(c.req.param("id"), message));
    return c.json({ ok: true });
  })
  .get("/uids/:uid/clients", async (c) => {
    const uid = checkName(c.req.param("uid"), "uid");
    const { client_ids } = await roomClients(c.env, roomName("uid", uid));
    return c.json({ uid, client_ids });
  })
  .get("/groups/:group/clients", async (c) => {
    const group = checkName(c.req.param("group"), "group");
    return c.json({ group, ...(await roomClients(c.env, roomName("group", group))) });
  })
  .delete("/groups/:group", async (c) => {
    const group = checkName(c.req.param("group"), "group");
    const room = roomName("group", group);
    const removed = await rpc(() => roomStub(c.env, room).ungroup(room), "ungroup_failed", { room });
    return c.json({ ok: true, group, removed });
  });
