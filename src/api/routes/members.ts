import { Hono } from "hono";
import { z } from "zod";
import { ApiError } from "../../contract/errors";
import { gatewayName, gatewayOfClientId, roomName, roomOfClientId, type ListedName } from "../../contract/names";
import { CLOSE_KICKED, type JoinFrame } from "../../contract/protocol";
import { roomsOfUid } from "../../directory/client";
import { listedStub, requireSecret, roomStub, type Env } from "../../env";
import type { SocketTarget } from "../../room/types";
import { logEvent } from "../../util/log";
import { utf8Length } from "../../util/text";
import { controlBody } from "../http";
import { checkName } from "../push-schema";
import { signClientToken } from "../../contract/tokens";

/** How long the token in a `join` frame is valid: long enough to connect, short enough to expire. */
const JOIN_TOKEN_TTL_S = 3600;
/** RFC 6455: a close reason is at most 123 bytes of UTF-8. */
const MAX_REASON_BYTES = 123;

const grantSchema = z.object({ uid: z.string() });
const kickSchema = z.object({ uid: z.string().optional(), clientId: z.string().optional(), reason: z.string().optional() });

/** Group membership and kicks: GatewayWorker's joinGroup/leaveGroup and closeClient. */
export const memberRoutes = new Hono<{ Bindings: Env }>()
  .post("/groups/:group/members", async (c) => {
    const group = checkName(c.req.param("group"), "group");
    const uid = checkName((await controlBody(c, grantSchema)).uid, "uid");
    const { token } = await signClientToken({ uid, groups: [group], ttl: JOIN_TOKEN_TTL_S }, requireSecret(c.env, "TOKEN_SECRET"));
    const frame = JSON.stringify({ type: "join", group, token } satisfies JoinFrame);
    const notified = await roomStub(c.env, roomName("uid", uid)).notify(frame);
    return c.json({ ok: true, uid, group, notified });
  })
  .delete("/groups/:group/members/:uid", async (c) => {
    const group = checkName(c.req.param("group"), "group");
    const uid = checkName(c.req.param("uid"), "uid");
    const closed = await roomStub(c.env, roomName("group", group)).revoke(roomName("group", group), uid);
    return c.json({ ok: true, uid, group, closed });
  })
  .post("/kick", async (c) => {
    const body = await controlBody(c, kickSchema);
    const reason = body.reason ?? "kicked";
    if (utf8Length(reason) > MAX_REASON_BYTES) {
      throw new ApiError(400, "bad_request", `reason: at most ${MAX_REASON_BYTES} bytes of UTF-8 (a WebSocket close reason)`);
    }
    if ((body.uid === undefined) === (body.clientId === undefined)) {
      throw new ApiError(400, "bad_request", "body: kick needs exactly one of uid or clientId");
    }
    if (body.clientId !== undefined) {
      const shard = gatewayOfClientId(body.clientId);
      const room = shard === null ? roomOfClientId(body.clientId) : gatewayName(shard);
      if (!room) throw new ApiError(400, "invalid_name", `clientId: ${JSON.stringify(body.clientId)} is not a clientId issued by edgepush`);
      const closed = await closeIn(c.env, [room], { clientId: body.clientId }, CLOSE_KICKED, reason);
      return c.json({ ok: true, clientId: body.clientId, closed });
    }
    const uid = checkName(body.uid, "uid");
    // Its own room always; the groups it is in, from the directory's uid index.
    const rooms = [...new Set([roomName("uid", uid), ...(await roomsOfUid(c.env, uid))])];
    const closed = await closeIn(c.env, rooms, { uid }, CLOSE_KICKED, reason);
    return c.json({ ok: true, uid, closed });
  });

async function closeIn(env: Env, rooms: ListedName[], target: SocketTarget, code: number, reason: string): Promise<number> {
  const counts = await Promise.allSettled(rooms.map((room) => listedStub(env, room).close(target, code, reason)));
  let closed = 0;
  for (const [i, result] of counts.entries()) {
    if (result.status === "fulfilled") closed += result.value;
    else logEvent("close_failed", { room: rooms[i], error: String(result.reason) });
  }
  if (counts.some((r) => r.status === "rejected")) {
    throw new ApiError(503, "unavailable", "a room did not answer; retry (closing is idempotent)");
  }
  return closed;
}
