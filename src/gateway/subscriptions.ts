/**
 * A gateway connection's subscriptions, kept in two places: the connection's attachment (and the
 * gateway's index, through Connections) and the rooms (through RoomLinks). Subscribing writes the
 * index first, so a message the room sends while it answers already reaches the connection.
 */
import { roomName, type RoomName } from "../contract/names";
import type { Connections } from "./connections";
import { HANDLERS, type HeldFrame, type Send } from "./fan-out";
import type { GatewayHost } from "./protocol";
import type { RoomLinks } from "./room-links";
import type { GatewayAttachment, Subscription, TrackChange, TrackReplay, TrackResult } from "./types";

export class Subscriptions {
  /** Live frames held per `<clientId> <room>` while that subscription's replay is on its way. */
  private readonly holding = new Map<string, HeldFrame[]>();

  constructor(
    private readonly connections: Connections,
    private readonly links: RoomLinks,
    /** Background work the gateway must keep alive (ctx.waitUntil). */
    private readonly waitUntil: (work: Promise<unknown>) => void,
    /** The gateway's services, for the protocol's `subscribed`/`unsubscribed` hooks and replays. */
    private readonly host: () => GatewayHost,
  ) {}

  /**
   * Subscribes `ws` to `sub.room`; throws (and undoes it) when the room does not answer. With
   * `replay`, the room's rows go to `ws` first and its live messages wait until they have.
   */
  async subscribe(ws: WebSocket, sub: Subscription, replay?: TrackReplay): Promise<TrackResult> {
    const attachment = this.connections.get(ws);
    if (!attachment) throw new Error("connection is gone");
    this.connections.subscribe(ws, sub);
    const key = `${attachment.id} ${sub.room}`;
    if (replay) this.holding.set(key, []);
    try {
      const result = await this.links.track(sub.room, [change(attachment, sub, true)], true, replay);
      HANDLERS[attachment.protocol].subscribed?.(this.host(), ws, attachment, sub, result);
      if (replay) flush(ws, attachment, sub, result.rows ?? [], this.holding.get(key)!, this.host().send);
      return result;
    } catch (err) {
      this.connections.unsubscribe(ws, sub.room);
      throw err;
    } finally {
      this.holding.delete(key);
    }
  }

  /** Where a live frame for this connection and room waits instead of going out, if it must. */
  held(clientId: string, room: RoomName): HeldFrame[] | undefined {
    return this.holding.size === 0 ? undefined : this.holding.get(`${clientId} ${room}`);
  }

  /** Unsubscribes `ws` from `room`; false when it was not subscribed. */
  async unsubscribe(ws: WebSocket, room: RoomName): Promise<boolean> {
    const attachment = this.connections.get(ws);
    const sub = attachment && this.connections.unsubscribe(ws, room);
    if (!attachment || !sub) return false;
    await this.links.leave(room, [change(attachment, sub, false)], this.connections.inRoom(room).size > 0);
    HANDLERS[attachment.protocol].unsubscribed?.(this.host(), ws, attachment, room);
    return true;
  }

  /** Binds `ws` to `uid` (subscribing it to the uid's room, with `replay` as in subscribe) or, with null, unbinds it. */
  async bind(ws: WebSocket, uid: string | null, userData?: string, replay?: TrackReplay): Promise<void> {
    const attachment = this.connections.get(ws);
    if (!attachment) return;
    if (attachment.uid !== null && attachment.uid !== uid) await this.unsubscribe(ws, roomName("uid", attachment.uid));
    this.connections.setUid(ws, uid, userData);
    if (uid !== null) await this.subscribe(ws, { room: roomName("uid", uid) }, replay);
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

/** A replay's rows, then what arrived live meanwhile and is not among them. */
function flush(ws: WebSocket, attachment: GatewayAttachment, sub: Subscription, rows: NonNullable<TrackResult["rows"]>, held: HeldFrame[], send: Send): void {
  const replayed = new Set<number>();
  for (const row of rows) {
    replayed.add(row.seq);
    const frame = HANDLERS[attachment.protocol].frame(attachment, sub, row);
    if (frame !== null) send(ws, frame);
  }
  for (const live of held) if (!replayed.has(live.seq)) send(ws, live.frame);
}

/** What a room records of a subscriber: its id, its uid (or presence user_id), on or off. */
function change(attachment: GatewayAttachment, sub: Subscription, on: boolean): TrackChange {
  const result: TrackChange = { clientId: attachment.id, uid: sub.member?.id ?? attachment.uid ?? "", on };
  if (sub.member) result.info = sub.member.info;
  return result;
}
