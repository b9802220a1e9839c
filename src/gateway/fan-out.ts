/**
 * A gateway's deliveries: a room's messages to the room's subscribers here, pushes addressed
 * to single connections or to all, and presence announcements; each in its connection's protocol.
 */
import type { RoomName } from "../contract/names";
import type { RoomPushItem } from "../room/types";
import type { Connections } from "./connections";
import { gatewayWorkerHandler } from "./gatewayworker/handler";
import type { ProtocolHandler } from "./protocol";
import { pusherHandler } from "./pusher/handler";
import type { GatewayItem, GatewayProtocol, MemberEvent } from "./types";

export const HANDLERS: Record<GatewayProtocol, ProtocolHandler> = { pusher: pusherHandler, gateway: gatewayWorkerHandler };

/** Sends a frame; false when the socket is gone or broke (the sender closes it). */
export type Send = (ws: WebSocket, text: string) => boolean;

/** A live frame kept back while its subscription's replay goes out (see Subscriptions). */
export interface HeldFrame {
  seq: number;
  frame: string;
}

/**
 * Each item to `room`'s subscribers here; answers connections reached per item. A frame for a
 * connection whose replay of the room is under way goes to `held`'s list instead (it counts as reached).
 */
export function deliverToRoom(
  connections: Connections, room: RoomName, items: GatewayItem[], send: Send,
  held: (clientId: string, room: RoomName) => HeldFrame[] | undefined = () => undefined,
): number[] {
  const subscribers = connections.inRoom(room);
  return items.map((item) => {
    const exclude = toSet(item.exclude);
    let n = 0;
    for (const [ws, sub] of subscribers) {
      const attachment = connections.get(ws)!;
      if (exclude?.has(attachment.id)) continue;
      const frame = HANDLERS[attachment.protocol].frame(attachment, sub, item);
      if (frame === null) continue;
      const waiting = held(attachment.id, room);
      if (waiting) waiting.push({ seq: item.seq, frame });
      if (waiting || send(ws, frame)) n++;
    }
    return n;
  });
}

/** A push with no room (`all`, or a clientId): every given socket that has a frame for it. */
export function deliverDirect(connections: Connections, item: RoomPushItem, sockets: Iterable<WebSocket>, send: Send): number {
  const exclude = toSet(item.exclude);
  let n = 0;
  for (const ws of sockets) {
    const attachment = connections.get(ws);
    if (!attachment || exclude?.has(attachment.id)) continue;
    const frame = HANDLERS[attachment.protocol].frame(attachment, null, { seq: 0, message: item.message });
    if (frame !== null && send(ws, frame)) n++;
  }
  return n;
}

/** Tells the room's subscribers here that a presence member came or went, but not the member itself. */
export function announceMember(connections: Connections, event: MemberEvent, send: Send): void {
  for (const [ws, sub] of connections.inRoom(event.room)) {
    const attachment = connections.get(ws)!;
    if (sub.member?.id === event.member.id) continue;
    const frame = HANDLERS[attachment.protocol].memberFrame?.(sub, event.added, event.member) ?? null;
    if (frame !== null) send(ws, frame);
  }
}

function toSet(items: string[] | undefined): Set<string> | null {
  return items && items.length > 0 ? new Set(items) : null;
}
