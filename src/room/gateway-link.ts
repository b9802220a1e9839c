/**
 * A room's side of the gateway tier: records which gateway connections subscribe to the room,
 * forwards the room's messages to those gateways (one RPC per gateway), and announces presence
 * members as they come and go. The room never learns which protocol a subscriber speaks.
 */
import { isCacheChannelName, type GatewayName, type RoomName } from "../contract/names";
import { gatewayStub, type Env } from "../env";
import type { GatewayItem, TrackChange } from "../gateway/types";
import { errorText, logEvent } from "../util/log";
import { RemoteSubscribers, type MemberChange } from "./remote";

/** Pusher presence channels: the room keeps one member per user_id for them. */
export function isPresenceRoom(room: RoomName): boolean {
  return room.startsWith("group:presence-");
}

/** Pusher cache channels (every kind, as the channel rules say): a new subscriber gets the room's last event. */
export function isCacheRoom(room: RoomName): boolean {
  return room.startsWith("group:") && isCacheChannelName(room.slice("group:".length));
}

export class GatewayLink {
  readonly subscribers: RemoteSubscribers;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    /** Called when the set of subscribers changed (the directory report follows). */
    private readonly onChange: () => void,
  ) {
    this.subscribers = new RemoteSubscribers(ctx.storage.sql);
  }

  get size(): number {
    return this.subscribers.size;
  }

  /** Applies a gateway's subscription changes; presence members that came or went are announced. */
  track(room: RoomName, gateway: GatewayName, changes: TrackChange[]): { id: string; info: string }[] | undefined {
    const presence = isPresenceRoom(room);
    const members = this.subscribers.apply(gateway, changes, presence);
    this.announce(room, members);
    this.onChange();
    if (!presence) return undefined;
    return [...this.subscribers.members()].map(([id, info]) => ({ id, info }));
  }

  /** Drops every subscriber of a gateway that lost its connections (it restarted). */
  forget(room: RoomName, gateway: GatewayName): void {
    this.announce(room, this.subscribers.forget(gateway, isPresenceRoom(room)));
    this.onChange();
  }

  /** Hands `items` to the gateways with subscribers; resolves with connections reached per item. */
  async forward(room: RoomName, items: GatewayItem[]): Promise<number[]> {
    if (items.length === 0 || this.subscribers.size === 0) return items.map(() => 0);
    return this.subscribers.deliver(this.env, room, items, isPresenceRoom(room), (gone) => {
      this.announce(room, gone);
      this.onChange();
    });
  }

  // Every gateway still holding subscribers hears of each change; the one whose last subscriber
  // left has nobody left to tell. Sent after the answer: a slow gateway never delays the caller.
  private announce(room: RoomName, changes: MemberChange[]): void {
    if (changes.length === 0 || !isPresenceRoom(room)) return;
    const gateways = this.subscribers.gateways();
    this.ctx.waitUntil(Promise.all(gateways.map(async (gateway) => {
      try {
        const stub = gatewayStub(this.env, gateway);
        for (const c of changes) await stub.announce({ room, added: c.added, member: { id: c.id, info: c.info } });
      } catch (err) {
        logEvent("room_error", { class: "RoomObject", room, method: "announce", gateway, error: errorText(err) }, "error");
      }
    })));
  }
}
