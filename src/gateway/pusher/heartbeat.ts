/**
 * Pusher's server-side liveness check: a connection silent for `activity_timeout` gets a
 * `pusher:ping`; one still silent `PONG_WAIT_MS` later is closed with 4201. The gateway runs
 * it from one alarm for all its connections (not one timer per socket), so an idle gateway
 * wakes once per activity timeout, and pings answered by the runtime still count as activity.
 */
import type { GatewayAttachment } from "../types";
import { PUSHER_CODES, pingFrame } from "./frames";

/** How long a pinged connection has to answer (Pusher: 30 s). */
export const PONG_WAIT_MS = 30_000;

export interface HeartbeatDeps {
  connections: { entries(): Iterable<[WebSocket, Pick<GatewayAttachment, "protocol">]> };
  /** Last time the client was heard from (a frame, or a ping the runtime answered). */
  lastSeen(ws: WebSocket): number;
  send(ws: WebSocket, text: string): boolean;
  close(ws: WebSocket, code: number, reason: string): void;
}

/**
 * Pings silent Pusher connections and closes those that did not answer; `pinged` remembers
 * when each was pinged (lost on hibernation, which only delays a close by one round).
 * Returns when the gateway should look again, or null when no Pusher connection is left.
 */
export function sweepPusher(deps: HeartbeatDeps, pinged: Map<WebSocket, number>, now: number, activityMs: number): number | null {
  let next: number | null = null;
  for (const [ws, attachment] of deps.connections.entries()) {
    if (attachment.protocol !== "pusher") continue;
    const seen = deps.lastSeen(ws);
    const pingedAt = pinged.get(ws);
    if (pingedAt !== undefined && seen < pingedAt && now - pingedAt >= PONG_WAIT_MS) {
      pinged.delete(ws);
      deps.close(ws, PUSHER_CODES.PONG_NOT_RECEIVED, "Pong reply not received");
      continue;
    }
    if (pingedAt !== undefined && seen >= pingedAt) pinged.delete(ws);
    if (!pinged.has(ws) && now - seen >= activityMs) {
      pinged.set(ws, now);
      deps.send(ws, pingFrame());
    }
    const due = pinged.has(ws) ? pinged.get(ws)! + PONG_WAIT_MS : seen + activityMs;
    next = Math.min(next ?? Infinity, due);
  }
  return next === null ? null : Math.max(next, now + 1000);
}
