/**
 * GatewayWorker mode: the backend binds connections (bindUid, joinGroup … over HTTP); the seeds'
 * pages only receive. For edgepush's own client library, which holds one socket for the uid and
 * all its groups, a connection may also `join` (a group its token allows, or with a grant's join
 * token), `leave` and `publish`; with `format=envelope` it is told of each room it enters or
 * leaves (`joined`/`left`), so it can resume every room by `since`.
 *
 * A raw connection (the seeds' pages, whose `onmessage` alerts whatever it does not know) gets
 * nothing but its pushes and `pong`: a frame edgepush does not take goes to the backend instead,
 * as GatewayWorker handed every frame to `Events::onMessage` and answered nothing itself.
 */
import { roomName } from "../../contract/names";
import { CLOSE_POLICY, PING, PONG, errorFrame, type ClientErrorCode } from "../../contract/protocol";
import { requireSecret, roomStub, safeLimits } from "../../env";
import { verifyClientToken } from "../../contract/tokens";
import { RateLimiter } from "../../room/rate-limit";
import type { GatewayHost, ProtocolHandler } from "../protocol";
import type { GatewayAttachment } from "../types";
import { frameData, joinedFrame, leftFrame, parseGatewayFrame, type GatewayClientFrame } from "./client-frames";
import { initFrame, pushFrame } from "./codec";

// Per isolate, keyed weakly by socket: hibernation forgets the windows, which only forgives.
let limiter: RateLimiter<WebSocket> | null = null;

export const gatewayWorkerHandler: ProtocolHandler = {
  opened(host, ws, attachment) {
    host.send(ws, initFrame(attachment.id));
  },

  async message(host, ws, attachment, text) {
    // A text `ping` wakes the gateway (its free auto-response is Pusher's ping frame).
    if (text === PING) return void host.send(ws, PONG);
    const frame = parseGatewayFrame(text);
    const refuse: Refuse = (code, message) => refused(host, ws, attachment, text, code, message);
    if ("error" in frame) return refuse(frame.error, frame.message);
    // GatewayWorker's onMessage: the backend hears it through its webhook.
    if (frame.type === "message" || frame.type === "other") return host.tellBackend(ws, frame.data);
    if (frame.type === "join") return join(host, ws, attachment, frame, refuse);
    if (frame.type === "leave") {
      // Answered even when it was not in the group, so the client always hears back.
      if (!(await host.unsubscribe(ws, roomName("group", frame.group))) && attachment.format === "envelope") {
        host.send(ws, leftFrame(roomName("group", frame.group)));
      }
      return;
    }
    return publish(host, ws, attachment, frame, refuse);
  },

  refusal(attachment, code, message) {
    return attachment.format === "envelope" ? errorFrame(code, message) : null;
  },

  frame(attachment, sub, item) {
    return pushFrame(attachment, sub, item.seq, item.message);
  },

  subscribed(host, ws, attachment, sub, result) {
    if (attachment.format === "envelope") host.send(ws, joinedFrame(sub.room, result.seq));
  },

  unsubscribed(host, ws, attachment, room) {
    if (attachment.format === "envelope") host.send(ws, leftFrame(room));
  },
};

/** Says no to the frame being handled (see `refused`). */
type Refuse = (code: ClientErrorCode, message: string) => void;

/**
 * A frame edgepush does not take: an envelope connection (the client library) is told why; a raw
 * one gets nothing (its page would alert an error frame), and the backend gets the frame as a
 * `client_message`, as GatewayWorker's onMessage would have, with a log line saying why.
 */
function refused(host: GatewayHost, ws: WebSocket, attachment: GatewayAttachment, text: string, code: ClientErrorCode, message: string): void {
  host.refuse(ws, attachment, code, message);
  if (attachment.format !== "envelope") host.tellBackend(ws, frameData(text));
}

async function join(host: GatewayHost, ws: WebSocket, attachment: GatewayAttachment, frame: GatewayClientFrame & { type: "join" }, refuse: Refuse): Promise<void> {
  const refusal = await joinRefusal(host, attachment, frame);
  if (refusal) return refuse("not_allowed", refusal);
  try {
    await host.subscribe(ws, { room: roomName("group", frame.group) }, { since: frame.since });
  } catch (err) {
    refuse("unavailable", err instanceof RangeError ? err.message : `group ${frame.group} did not answer; join again`);
  }
}

/** Why this connection may not join the group, or null when it may. */
async function joinRefusal(host: GatewayHost, attachment: GatewayAttachment, frame: { group: string; token?: string }): Promise<string | null> {
  if (frame.token === undefined) {
    if (attachment.grants?.includes(frame.group)) return null;
    return `group ${frame.group} is not in this connection's token: send a token that allows it (a grant's join token)`;
  }
  let claims;
  try {
    claims = await verifyClientToken(frame.token, requireSecret(host.env, "TOKEN_SECRET"));
  } catch (err) {
    return `join token refused: ${err instanceof Error ? err.message : "invalid"}`;
  }
  if (!claims.groups.includes(frame.group)) return `the join token does not allow group ${frame.group}`;
  if (attachment.uid !== null && claims.uid !== attachment.uid) return `the join token is for uid ${claims.uid}, this connection is ${attachment.uid}`;
  return null;
}

/** `/ws`'s publish on a gateway connection: logged in the group, everyone gets `{from, data}`. */
async function publish(
  host: GatewayHost, ws: WebSocket, attachment: GatewayAttachment, frame: GatewayClientFrame & { type: "publish" }, refuse: Refuse,
): Promise<void> {
  const room = roomName("group", frame.group);
  if (attachment.uid === null) return refuse("not_allowed", "publish needs a connection bound to a uid");
  if (!host.connections.subscription(ws, room)) return refuse("not_allowed", `join group ${frame.group} before publishing to it`);
  const limit = safeLimits(host.env).publishRatePer10s;
  if (limiter?.limit !== limit) limiter = new RateLimiter(limit);
  const verdict = limiter.hit(ws, Date.now());
  if (verdict === "close") return host.closeSocket(ws, CLOSE_POLICY, "publish rate limit exceeded");
  if (verdict === "warn") return refuse("rate_limited", `at most ${limit} publishes per 10 s (PUBLISH_RATE_PER_10S)`);
  const dataJson = JSON.stringify({ from: attachment.uid, data: frame.data ?? null });
  const message = { id: crypto.randomUUID(), dataJson, raw: dataJson, ts: Date.now() };
  try {
    await roomStub(host.env, room).push(room, [{ message, dedupe: false, exclude: frame.echo ? undefined : [attachment.id] }]);
  } catch {
    refuse("unavailable", `group ${frame.group} did not answer; publish again`);
  }
}
