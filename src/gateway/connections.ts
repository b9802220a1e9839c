/**
 * A gateway's connections and who receives what, in memory: rebuilt from the sockets'
 * attachments after hibernation, written back to the attachment on every change.
 */
import type { RoomName } from "../contract/names";
import { MAX_ATTACHMENT_BYTES, type GatewayAttachment, type Subscription } from "./types";

export class Connections {
  private readonly attachments = new Map<WebSocket, GatewayAttachment>();
  private readonly byRoom = new Map<RoomName, Map<WebSocket, Subscription>>();
  private readonly byUid = new Map<string, Set<WebSocket>>();

  /** Rebuilds the index from the runtime's sockets (after a wake, every field is gone). */
  constructor(sockets: WebSocket[]) {
    for (const ws of sockets) {
      const attachment = ws.deserializeAttachment() as GatewayAttachment | null;
      // A socket already closed may linger as CLOSING until the peer answers: not ours.
      if (attachment && ws.readyState === WebSocket.OPEN) this.add(ws, attachment);
    }
  }

  get size(): number {
    return this.attachments.size;
  }

  entries(): IterableIterator<[WebSocket, GatewayAttachment]> {
    return this.attachments.entries();
  }

  get(ws: WebSocket): GatewayAttachment | undefined {
    return this.attachments.get(ws);
  }

  add(ws: WebSocket, attachment: GatewayAttachment): void {
    this.attachments.set(ws, attachment);
    for (const sub of attachment.subs) this.roomIndex(sub.room).set(ws, sub);
    if (attachment.uid !== null) this.uidIndex(attachment.uid).add(ws);
  }

  /** Forgets a connection; returns its attachment (its subscriptions are to be told to the rooms). */
  remove(ws: WebSocket): GatewayAttachment | undefined {
    const attachment = this.attachments.get(ws);
    if (!attachment) return undefined;
    this.attachments.delete(ws);
    for (const sub of attachment.subs) this.dropFromRoom(sub.room, ws);
    if (attachment.uid !== null) this.dropFromUid(attachment.uid, ws);
    return attachment;
  }

  /** Connections subscribed to `room`, with their subscription. */
  inRoom(room: RoomName): ReadonlyMap<WebSocket, Subscription> {
    return this.byRoom.get(room) ?? EMPTY;
  }

  /** Rooms with at least one subscriber here. */
  rooms(): RoomName[] {
    return [...this.byRoom.keys()];
  }

  ofUid(uid: string): WebSocket[] {
    return [...(this.byUid.get(uid) ?? [])];
  }

  subscription(ws: WebSocket, room: RoomName): Subscription | undefined {
    return this.byRoom.get(room)?.get(ws);
  }

  /**
   * Adds (or replaces) a subscription and stores the attachment; throws a RangeError when the
   * attachment would outgrow what the runtime keeps.
   */
  subscribe(ws: WebSocket, sub: Subscription): void {
    const attachment = this.attachments.get(ws);
    if (!attachment) return;
    const subs = [...attachment.subs.filter((s) => s.room !== sub.room), sub];
    this.store(ws, { ...attachment, subs });
    this.roomIndex(sub.room).set(ws, sub);
  }

  /** Removes a subscription; returns it, or undefined when there was none. */
  unsubscribe(ws: WebSocket, room: RoomName): Subscription | undefined {
    const attachment = this.attachments.get(ws);
    const sub = attachment?.subs.find((s) => s.room === room);
    if (!attachment || !sub) return undefined;
    this.store(ws, { ...attachment, subs: attachment.subs.filter((s) => s !== sub) });
    this.dropFromRoom(room, ws);
    return sub;
  }

  /** Binds the connection to `uid` (or unbinds it with null). */
  setUid(ws: WebSocket, uid: string | null, userData?: string): void {
    const attachment = this.attachments.get(ws);
    if (!attachment) return;
    if (attachment.uid !== null) this.dropFromUid(attachment.uid, ws);
    const next: GatewayAttachment = { ...attachment, uid };
    if (userData === undefined) delete next.userData;
    else next.userData = userData;
    this.store(ws, next);
    if (uid !== null) this.uidIndex(uid).add(ws);
  }

  private store(ws: WebSocket, attachment: GatewayAttachment): void {
    if (JSON.stringify(attachment).length > MAX_ATTACHMENT_BYTES) {
      throw new RangeError("too many subscriptions on one connection");
    }
    ws.serializeAttachment(attachment);
    this.attachments.set(ws, attachment);
  }

  private roomIndex(room: RoomName): Map<WebSocket, Subscription> {
    let index = this.byRoom.get(room);
    if (!index) this.byRoom.set(room, (index = new Map()));
    return index;
  }

  private uidIndex(uid: string): Set<WebSocket> {
    let index = this.byUid.get(uid);
    if (!index) this.byUid.set(uid, (index = new Set()));
    return index;
  }

  private dropFromRoom(room: RoomName, ws: WebSocket): void {
    const index = this.byRoom.get(room);
    if (index?.delete(ws) && index.size === 0) this.byRoom.delete(room);
  }

  private dropFromUid(uid: string, ws: WebSocket): void {
    const index = this.byUid.get(uid);
    if (index?.delete(ws) && index.size === 0) this.byUid.delete(uid);
  }
}

const EMPTY: ReadonlyMap<WebSocket, Subscription> = new Map();
