/** The backend webhooks' events, as the contract names them (README: "Webhooks"). Pure: no Workers or Node APIs. */

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
