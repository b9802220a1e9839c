/**
 * A gateway connection's subscriptions, kept in two places: the connection's attachment (and the
 * gateway's index, through Connections) and the rooms (through RoomLinks). Subscribing writes the
 * index first, so a message the room sends while it answers already reaches the connection.
 */
import { roomName, type RoomName } from "../contract/names";
import type { Connections } from "./connections";
import type { RoomLinks } from "./room-links";
import type { GatewayAttachment, Subscription, TrackChange, TrackResult } from "./types";

export class Subscriptions {
  constructor(
    private readonly connections: Connections,
    private readonly links: RoomLinks,
    /** Background work the gateway must keep alive (ctx.waitUntil). */
    private readonly waitUntil: (work: Promise<unknown>) => void,
  ) {}

  /** Subscribes `ws` to `sub.room`; throws (and undoes it) when the room does not answer. */
  async subscribe(ws: WebSocket, sub: Subscription): Promise<TrackResult> {
    const attachment = this.connections.get(ws);
    if (!attachment) throw new Error("connection is gone");
    this.connections.subscribe(ws, sub);
    try {
      return await this.links.track(sub.room, [change(attachment, sub, true)], true);
    } catch (err) {
      this.connections.unsubscribe(ws, sub.room);
      throw err;
    }
  }

  /** Unsubscribes `ws` from `room`; false when it was not subscribed. */
  async unsubscribe(ws: WebSocket, room: RoomName): Promise<boolean> {
    const attachment = this.connections.get(ws);
    const sub = attachment && this.connections.unsubscribe(ws, room);
    if (!attachment || !sub) return false;
    await this.links.leave(room, [change(attachment, sub, false)], this.connections.inRoom(room).size > 0);
    return true;
  }

  /** Binds `ws` to `uid` (subscribing it to the uid's room) or, with null, unbinds it. */
  async bind(ws: WebSocket, uid: string | null, userData?: string): Promise<void> {
    const attachment = this.connections.get(ws);
    if (!attachment) return;
    if (attachment.uid !== null && attachment.uid !== uid) await this.unsubscribe(ws, roomName("uid", attachment.uid));
    this.connections.setUid(ws, uid, userData);
    if (uid !== null) await this.subscribe(ws, { room: roomName("uid", uid) });
    // The rooms it is in learn its new uid (presence members keep their own user_id).
    const bound = this.connections.get(ws)!;
    await Promise.all(bound.subs.filter((s) => !s.member && !s.room.startsWith("uid:")).map((s) =>
      this.links.track(s.room, [change(bound, s, true)], true)));
  }

  /** A connection that is gone leaves all its rooms, in the background. */
  leaveAll(attachment: GatewayAttachment): void {
    for (const sub of attachment.subs) {
      this.waitUntil(this.links.leave(sub.room, [change(attachment, sub, false)], this.connections.inRoom(sub.room).size > 0));
    }
  }
}

/** What a room records of a subscriber: its id, its uid (or presence user_id), on or off. */
function change(attachment: GatewayAttachment, sub: Subscription, on: boolean): TrackChange {
  const result: TrackChange = { clientId: attachment.id, uid: sub.member?.id ?? attachment.uid ?? "", on };
  if (sub.member) result.info = sub.member.info;
  return result;
}
