/** Webhook delivery bodies and Pusher's webhook format. Pure: no Workers or Node APIs. */
import type { WebhookEventInput } from "../contract/webhooks";

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
