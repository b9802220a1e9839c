import { Hono } from "hono";
import { ApiError } from "../../contract/errors";
import { isGatewayName, isName, roomName } from "../../contract/names";
import { listAll, roomsOfUid } from "../../directory/client";
import { gatewayStub, readLimits, roomStub, type Env } from "../../env";
import { PUSHER_CODES } from "../../gateway/pusher/frames";
import { classifyChannel, isChannelName } from "../../gateway/pusher/channels";
import {
  parseBatchBody, parseChannelQuery, parseChannelsQuery, parseEventsBody, type InfoAttribute, type SchemaResult, type TriggerEvent,
} from "../../gateway/pusher/rest-schema";
import { mapLimit } from "../../util/async";
import { errorText, logEvent } from "../../util/log";
import { deliver } from "../deliver";
import { parseJsonText, type AppContext } from "../http";
import { MAX_BATCH } from "../push-schema";
import { channelAttributes, requirePusherApp, signedRequest, triggerPlans, withoutOccupied, type ChannelAttributes } from "../pusher-app";

/** Pages of the directory's group listing read for one `GET /apps/:id/channels`. */
const LIST_PAGE = 1000;
const MAX_LIST_PAGES = 100;
/** Rooms asked for their counts at once when a listing confirms its channels or wants `user_count`. */
const COUNT_CONCURRENCY = 50;
/** Up to this many listed channels, each is confirmed by its room (a request each: Workers cap subrequests). */
const MAX_CONFIRMED = 500;
/** What a terminated connection is told; pusher-js does not reconnect after 4009 (soketi's choice). */
const TERMINATED_REASON = "You got disconnected by the app.";

/**
 * Pusher's REST API (library_auth_reference/rest-api.md) for the deployment's one app: every
 * request is signed with `PUSHER_APP_KEY` / `PUSHER_APP_SECRET` instead of carrying PUSH_SECRET,
 * so these routes are mounted before the backend's Bearer check. Answers are Pusher's shapes,
 * status 200 exactly (pusher-http-php refuses any other success status).
 */
export const pusherRestRoutes = new Hono<{ Bindings: Env }>()
  .post("/apps/:id/events", async (c) => {
    const limits = readLimits(c.env);
    const body = await signedRequest(c, limits.maxBodyBytes);
    const event = valid(parseEventsBody(parseJsonText(body), limits.maxPayloadBytes));
    await trigger(c, [event]);
    if (event.info.length === 0) return c.json({});
    const channels: Record<string, object> = {};
    await Promise.all([...new Set(event.channels)].map(async (name) => {
      channels[name] = withoutOccupied(await attributes(c.env, name, event.info));
    }));
    return c.json({ channels });
  })
  .post("/apps/:id/batch_events", async (c) => {
    const limits = readLimits(c.env);
    const body = await signedRequest(c, limits.maxBodyBytes);
    const events = valid(parseBatchBody(parseJsonText(body), limits.maxPayloadBytes, MAX_BATCH));
    await trigger(c, events);
    if (events.every((e) => e.info.length === 0)) return c.json({});
    const batch = await Promise.all(events.map(async (e) =>
      (e.info.length === 0 ? {} : withoutOccupied(await attributes(c.env, e.channels[0], e.info)))));
    return c.json({ batch });
  })
  .get("/apps/:id/channels", async (c) => {
    await signedRequest(c, 0);
    const { prefix, info } = valid(parseChannelsQuery(new URL(c.req.url).searchParams));
    const names = await occupiedChannels(c.env, prefix);
    const channels: Record<string, { user_count?: number }> = {};
    for (const name of names) channels[name] = {};
    // The directory may still list a channel that emptied a moment ago (it learns of closes when it
    // checks): a listing small enough is confirmed by each channel's room, which is exact.
    if (info.includes("user_count") || names.length <= MAX_CONFIRMED) {
      await mapLimit(names, COUNT_CONCURRENCY, async (name) => {
        const attrs = info.includes("user_count") ? await attributes(c.env, name, info) : await confirmed(c.env, name);
        if (attrs === null) return; // its room did not answer: the directory's word stands
        if (attrs.occupied) channels[name] = withoutOccupied(attrs);
        else delete channels[name];
      });
    }
    return c.json({ channels });
  })
  .get("/apps/:id/channels/:channel", async (c) => {
    await signedRequest(c, 0);
    const channel = c.req.param("channel");
    const info = valid(parseChannelQuery(channel, new URL(c.req.url).searchParams));
    if (info.includes("cache")) {
      throw new ApiError(400, "bad_request", "info: cache is not available on edgepush (subscribe to the cache channel to get its last event)");
    }
    return c.json(await attributes(c.env, channel, info));
  })
  .get("/apps/:id/channels/:channel/users", async (c) => {
    await signedRequest(c, 0);
    const channel = c.req.param("channel");
    const kind = classifyChannel(channel);
    if (!kind.ok) throw new ApiError(400, "bad_request", kind.reason);
    if (kind.channel.kind !== "presence") throw new ApiError(400, "bad_request", "users are only available on presence channels");
    const { uids } = await unavailableOnThrow(() => roomStub(c.env, roomName("group", channel)).presence());
    return c.json({ users: uids.map((id) => ({ id })) });
  })
  .post("/apps/:id/users/:user_id/terminate_connections", async (c) => {
    await signedRequest(c, readLimits(c.env).maxBodyBytes);
    const uid = c.req.param("user_id");
    if (!isName(uid)) throw new ApiError(400, "bad_request", "user_id: a signed-in user id is 1-128 chars of [A-Za-z0-9_.:@-]");
    await terminate(c.env, uid);
    return c.json({});
  })
  .all("/apps/*", (c) => {
    // Unset Pusher variables are the answer on every /apps/ path, not only the known endpoints'.
    requirePusherApp(c.env);
    throw new ApiError(404, "not_found", "no such Pusher REST endpoint; see the README's HTTP API reference");
  });

function valid<T>(result: SchemaResult<T>): T {
  if (result.ok) return result.value;
  throw new ApiError(result.status, result.status === 413 ? "too_large" : "bad_request", result.message);
}

/** Delivers the triggers like `POST /push` does; a room that did not answer is a 503. */
async function trigger(c: AppContext, events: TriggerEvent[]): Promise<void> {
  const { maxPayloadBytes } = readLimits(c.env);
  const results = await deliver(c.env, events.flatMap((e) => triggerPlans(e, maxPayloadBytes)));
  const failed = results.find((r) => !r.ok);
  if (failed && !failed.ok) throw failed.error;
}

function attributes(env: Env, channel: string, info: readonly InfoAttribute[]) {
  return unavailableOnThrow(() => channelAttributes(env, channel, info));
}

/** A listed channel's attributes from its room, or null (logged) when the room does not answer. */
async function confirmed(env: Env, channel: string): Promise<ChannelAttributes | null> {
  try {
    return await channelAttributes(env, channel, []);
  } catch (err) {
    logEvent("pusher_rest_failed", { channel, error: errorText(err) }, "error");
    return null;
  }
}

async function unavailableOnThrow<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    logEvent("pusher_rest_failed", { error: errorText(err) }, "error");
    throw new ApiError(503, "unavailable", "a channel's room did not answer; retry");
  }
}

/**
 * Occupied channels whose name starts with `prefix`, from the directory's listing of live groups
 * (a group room is live while it has sockets or gateway subscribers). Names are sorted, so the
 * walk starts just before the prefix and stops after its last match.
 */
async function occupiedChannels(env: Env, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = prefix.slice(0, -1);
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const { items, cursor: next } = await listAll(env, "groups", cursor, LIST_PAGE);
    for (const name of items) {
      if (!name.startsWith(prefix)) {
        if (name > prefix) return out;
        continue;
      }
      // A native group whose name is no channel (`a:b`) is not listed to Pusher clients.
      if (isChannelName(name)) out.push(name);
    }
    if (next === null) return out;
    cursor = next;
  }
  logEvent("pusher_channels_truncated", { prefix, listed: out.length });
  return out;
}

/**
 * Closes every gateway connection of `uid` (its signed-in Pusher connections, and GatewayWorker
 * connections bound to it) with 4009 after a `pusher:error` saying why, as soketi does: pusher-js
 * then stays disconnected until the app calls `connect()`. The uid's native `/ws` sockets stay
 * (`POST /kick` closes those).
 */
async function terminate(env: Env, uid: string): Promise<void> {
  const gateways = (await roomsOfUid(env, uid)).filter(isGatewayName);
  await unavailableOnThrow(() =>
    Promise.all(gateways.map((g) => gatewayStub(env, g).close({ uid }, PUSHER_CODES.UNAUTHORIZED, TERMINATED_REASON))));
}
