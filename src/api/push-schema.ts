/** Validation of `POST /push` bodies into push plans. Pure: zod only. */
import { z } from "zod";
import { ApiError } from "../contract/errors";
import {
  NAME_RULE, gatewayName, gatewayOfClientId, isClientId, isName, roomName, roomOfClientId,
  type GatewayName, type RoomName,
} from "../contract/names";
import type { OutboundMessage } from "../contract/protocol";
import { utf8Length } from "../util/text";
import { memberSpan } from "./json-spans";

export const MAX_BATCH = 1000;
const MAX_TARGETS = 1000;
const MAX_TTL_S = 30 * 24 * 3600;
const TARGETS = ["uid", "uids", "group", "groups", "all", "clientId"] as const;
/** Pusher's limit on event names. */
const MAX_EVENT_NAME = 200;
const EVENT_NAME = /^[^\u0000-\u001f]+$/;

const messageSchema = z
  .object({
    uid: z.string(),
    uids: z.array(z.string()).min(1).max(MAX_TARGETS),
    group: z.string(),
    groups: z.array(z.string()).min(1).max(MAX_TARGETS),
    all: z.literal(true),
    clientId: z.string(),
    data: z.unknown(),
    id: z.string().min(1).max(256),
    ttl: z.number().int().min(0).max(MAX_TTL_S),
    exclude: z.array(z.string()).max(MAX_TARGETS),
    event: z.string().min(1).max(MAX_EVENT_NAME).regex(EVENT_NAME, "expected an event name without control characters"),
  })
  .partial()
  .loose();

type Message = z.infer<typeof messageSchema>;

/** One validated message: where it goes and what it carries. */
export interface PushPlan {
  /** Target rooms; empty with `all` and with a gateway connection's clientId. */
  rooms: RoomName[];
  /** The gateway holding `clientId`, when it is a gateway connection. */
  gateway?: GatewayName;
  all: boolean;
  clientId?: string;
  exclude: string[];
  /** Seconds in the room log; undefined means the room's default. */
  ttl?: number;
  /** Given by the backend; dedupe only applies then. */
  givenId: boolean;
  message: OutboundMessage;
}

export type PlanResult = { ok: true; plan: PushPlan } | { ok: false; error: ApiError };

/**
 * Validates one message. `sourceText` is the message's exact JSON text: its `data` (or, for a
 * seed-style message with `uid` and no `data`, the whole text) is passed on byte for byte.
 */
export function planMessage(value: unknown, maxPayloadBytes: number, sourceText?: string): PlanResult {
  try {
    return { ok: true, plan: plan(value, maxPayloadBytes, sourceText) };
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, error: err };
    throw err;
  }
}

function plan(value: unknown, maxPayloadBytes: number, sourceText?: string): PushPlan {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiError(400, "bad_request", "a message must be a JSON object");
  }
  if (!("data" in value) && "uid" in value) return seedPlan(value as Record<string, unknown>, maxPayloadBytes, sourceText);
  const parsed = messageSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiError(400, "bad_request", `${issue.path.join(".") || "body"}: ${issue.message}`);
  }
  const msg = parsed.data;
  const targets = TARGETS.filter((t) => msg[t] !== undefined);
  if (targets.length === 0) {
    throw new ApiError(400, "bad_request", "message needs one target: uid, uids, group, groups, all or clientId");
  }
  if (targets.length > 1) {
    throw new ApiError(400, "bad_request", `one target per message, got ${targets.join(" and ")}`);
  }
  if (!("data" in msg)) throw new ApiError(400, "bad_request", "data: required");
  const exclude = msg.exclude ?? [];
  exclude.forEach((c, i) => checkClientId(c, `exclude.${i}`));

  const span = sourceText === undefined ? null : memberSpan(sourceText, "data");
  const dataJson = span ? sourceText!.slice(span[0], span[1]) : JSON.stringify(msg.data ?? null);
  const raw = typeof msg.data === "string" ? msg.data : dataJson;
  checkPayload(raw, maxPayloadBytes);
  return {
    rooms: targetRooms(msg),
    all: msg.all === true,
    clientId: msg.clientId === undefined ? undefined : (checkClientId(msg.clientId, "clientId"), msg.clientId),
    exclude,
    ttl: msg.ttl,
    givenId: msg.id !== undefined,
    message: withEvent({ id: msg.id ?? crypto.randomUUID(), dataJson, raw, ts: Date.now() }, msg.event),
    ...(gatewayTarget(msg.clientId) ?? {}),
  };
}

function withEvent(message: OutboundMessage, event: string | undefined): OutboundMessage {
  if (event !== undefined) message.event = event;
  return message;
}

// A gateway connection's clientId is pushed to its gateway, not to a room.
function gatewayTarget(clientId: string | undefined): { gateway: GatewayName } | null {
  const shard = gatewayOfClientId(clientId);
  return shard === null ? null : { gateway: gatewayName(shard) };
}

/**
 * The seed's push.php read only `$data['uid']` and sent the whole line on, so a seed-style
 * message is judged by its uid alone (PHP's integer ids included); a well-formed `id` or `ttl`
 * is honoured, anything else in it is payload.
 */
function seedPlan(record: Record<string, unknown>, maxPayloadBytes: number, sourceText?: string): PushPlan {
  const uid = Number.isSafeInteger(record.uid) && (record.uid as number) >= 0 ? String(record.uid) : record.uid;
  const text = sourceText ?? JSON.stringify(record);
  checkPayload(text, maxPayloadBytes);
  const id = typeof record.id === "string" && record.id.length > 0 && record.id.length <= 256 ? record.id : undefined;
  const ttl = Number.isInteger(record.ttl) && (record.ttl as number) >= 0 && (record.ttl as number) <= MAX_TTL_S
    ? (record.ttl as number) : undefined;
  return {
    rooms: [roomName("uid", checkName(uid, "uid"))],
    all: false,
    exclude: [],
    ttl,
    givenId: id !== undefined,
    message: { id: id ?? crypto.randomUUID(), dataJson: text, raw: text, ts: Date.now() },
  };
}

// A lone UTF-16 surrogate cannot be sent as UTF-8 text: a raw client would be cut off (1006).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The payload is what a raw client receives: its UTF-8 size is what the limit counts. */
export function checkPayload(raw: string, maxPayloadBytes: number): void {
  // A UTF-16 unit is at most 3 UTF-8 bytes: small payloads skip the encode.
  if (raw.length * 3 > maxPayloadBytes && utf8Length(raw) > maxPayloadBytes) {
    throw new ApiError(413, "too_large", `payload is over MAX_PAYLOAD_BYTES (${maxPayloadBytes} bytes)`);
  }
  if (LONE_SURROGATE.test(raw)) {
    throw new ApiError(400, "bad_request", "data: string holds a lone surrogate (\\uD800-\\uDFFF), which is not valid Unicode");
  }
}

function targetRooms(msg: Message): RoomName[] {
  if (msg.uid !== undefined) return [roomName("uid", checkName(msg.uid, "uid"))];
  if (msg.group !== undefined) return [roomName("group", checkName(msg.group, "group"))];
  if (msg.uids) return unique(msg.uids.map((u, i) => roomName("uid", checkName(u, `uids.${i}`))));
  if (msg.groups) return unique(msg.groups.map((g, i) => roomName("group", checkName(g, `groups.${i}`))));
  if (msg.clientId !== undefined) {
    const room = roomOfClientId(msg.clientId);
    return room ? [room] : [];
  }
  return [];
}

/** Returns `value` when it is a valid name, else throws 400 `invalid_name` naming `field`. */
export function checkName(value: unknown, field: string): string {
  if (!isName(value)) {
    throw new ApiError(400, "invalid_name", `${field}: ${JSON.stringify(value)} is not a valid name (${NAME_RULE})`);
  }
  return value;
}

function checkClientId(value: string, field: string): void {
  if (!isClientId(value)) {
    throw new ApiError(400, "invalid_name", `${field}: ${JSON.stringify(value)} is not a clientId issued by edgepush`);
  }
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
