/** The webhook events, their delivery bodies, and Pusher's webhook format. Pure: no Workers or Node APIs. */

/** How a connection reached edgepush. */
export type ConnectionProtocol = "ws" | "gateway" | "pusher";

/** Who a connection is: what connection_opened / connection_closed carry. */
export interface ConnectionFields {
  client_id: string;
  /** The token's uid, a bound uid, a signed-in Pusher user; null while anonymous. */
  uid: string | null;
  /** The group of a `/ws?group=` socket; null for a uid room socket and for gateway connections. */
  group: string | null;
  protocol: ConnectionProtocol;
  /** Gateway connections: the groups they are in when the event is made (an addition to the contract). */
  groups?: string[];
}

/** A message a client sent for the backend: a `{"type":"message"}` frame, or a Pusher client event. */
export interface MessageFields {
  client_id: string;
  uid: string | null;
  group: string | null;
  data: unknown;
  /** Pusher client events: the event name (`client-…`); the group is the channel. */
  event?: string;
}

/** An event as an emitter states it; the outbox adds `id` and `time_ms`. */
export type WebhookEventInput =
  | ({ name: "connection_opened" } & ConnectionFields)
  | ({ name: "connection_closed"; code: number } & ConnectionFields)
  | ({ name: "client_message" } & MessageFields)
  | { name: "uid_online" | "uid_offline"; uid: string }
  | { name: "group_occupied" | "group_vacated"; group: string }
  | { name: "member_added" | "member_removed"; group: string; uid: string };

/** An event as delivered: its id is the same on every retry. */
export type WebhookEvent = WebhookEventInput & { id: string; time_ms: number };

export type WebhookEventName = WebhookEventInput["name"];

/** Every event name, in the order the README documents them. */
export const EVENT_NAMES: readonly WebhookEventName[] = [
  "connection_opened", "connection_closed", "client_message", "uid_online", "uid_offline",
  "group_occupied", "group_vacated", "member_added", "member_removed",
];

/** The JSON text of one event, fields in a stable order: id, name, time_ms, then the event's own. */
export function eventJson(input: WebhookEventInput, id: string, timeMs: number): string {
  const { name, ...fields } = input;
  return JSON.stringify({ id, name, time_ms: timeMs, ...fields });
}

/** A delivery body from events' JSON texts (spliced, never re-serialized). */
export function deliveryBody(timeMs: number, eventTexts: string): string {
  return `{"time_ms":${timeMs},"events":[${eventTexts}]}`;
}

/** One event of Pusher's webhook format. */
export interface PusherWebhookEvent {
  name: "channel_occupied" | "channel_vacated" | "member_added" | "member_removed" | "client_event";
  channel: string;
  user_id?: string;
  event?: string;
  data?: string;
  socket_id?: string;
}

/**
 * The same happening as Pusher reports it, or null when Pusher has no such webhook: a group is
 * the channel of the same name; member events exist on presence channels only, client events
 * only for Pusher connections' `client-*` events (with `user_id` on presence channels).
 */
export function toPusherEvent(event: WebhookEventInput): PusherWebhookEvent | null {
  switch (event.name) {
    case "group_occupied":
      return { name: "channel_occupied", channel: event.group };
    case "group_vacated":
      return { name: "channel_vacated", channel: event.group };
    case "member_added":
    case "member_removed":
      return isPresence(event.group) ? { name: event.name, channel: event.group, user_id: event.uid } : null;
    case "client_message": {
      if (event.event === undefined || event.group === null) return null;
      const out: PusherWebhookEvent = {
        name: "client_event", channel: event.group, event: event.event,
        data: typeof event.data === "string" ? event.data : JSON.stringify(event.data ?? null),
        socket_id: event.client_id,
      };
      if (isPresence(event.group) && event.uid !== null) out.user_id = event.uid;
      return out;
    }
    default:
      return null;
  }
}

/** A Pusher-format delivery body for `events` (JSON texts as stored), or null when none maps. */
export function pusherBody(timeMs: number, events: WebhookEventInput[]): string | null {
  const mapped = events.map(toPusherEvent).filter((e): e is PusherWebhookEvent => e !== null);
  return mapped.length === 0 ? null : JSON.stringify({ time_ms: timeMs, events: mapped });
}

function isPresence(channel: string): boolean {
  return channel.startsWith("presence-");
}

/** The group of a room name (`group:g` → `g`), or null for a uid room. */
export function groupOfRoom(room: string): string | null {
  return room.startsWith("group:") ? room.slice("group:".length) : null;
}
