/** Validation of `POST /push` bodies into push plans. Pure: zod only. */
import { z } from "zod";
import { ApiError } from "./errors";
import { NAME_RULE, isName, roomName, roomOfClientId, type RoomName } from "./names";
import { rawText, type OutboundMessage } from "./protocol";

export const MAX_BATCH = 1000;
export const MAX_TARGETS = 1000;
export const MAX_TTL_S = 30 * 24 * 3600;
const TARGETS = ["uid", "uids", "group", "groups", "all", "clientId"] as const;

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
  })
  .partial()
  .loose();

type Message = z.infer<typeof messageSchema>;

/** One validated message: where it goes and what it carries. */
export interface PushPlan {
  /** Target rooms; empty with `all`. */
  rooms: RoomName[];
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
 * Validates one message. `bodyText` is the exact text of a single-message body, used as the
 * payload of a seed-style message (`uid` and no `data`).
 */
export function planMessage(value: unknown, maxPayloadBytes: number, bodyText?: string): PlanResult {
  try {
    return { ok: true, plan: plan(value, maxPayloadBytes, bodyText) };
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, error: err };
    throw err;
  }
}

function plan(value: unknown, maxPayloadBytes: number, bodyText?: string): PushPlan {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiError(400, "bad_request", "a message must be a JSON object");
  }
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
  const exclude = msg.exclude ?? [];
  exclude.forEach((c, i) => checkClientId(c, `exclude.${i}`));
  const seedStyle = !("data" in msg) && msg.uid !== undefined;
  if (!("data" in msg) && !seedStyle) throw new ApiError(400, "bad_request", "data: required");

  const seedText = seedStyle ? (bodyText ?? JSON.stringify(value)) : undefined;
  const dataJson = seedText ?? JSON.stringify(msg.data ?? null);
  const raw = seedText ?? rawText(msg.data ?? null);
  // A UTF-16 unit is at most 3 UTF-8 bytes: small payloads skip the encode.
  if (dataJson.length * 3 > maxPayloadBytes && utf8Length(dataJson) > maxPayloadBytes) {
    throw new ApiError(413, "too_large", `payload is over MAX_PAYLOAD_BYTES (${maxPayloadBytes} bytes)`);
  }
  return {
    rooms: targetRooms(msg),
    all: msg.all === true,
    clientId: msg.clientId === undefined ? undefined : (checkClientId(msg.clientId, "clientId"), msg.clientId),
    exclude,
    ttl: msg.ttl,
    givenId: msg.id !== undefined,
    message: { id: msg.id ?? crypto.randomUUID(), dataJson, raw, ts: Date.now() },
  };
}

function targetRooms(msg: Message): RoomName[] {
  if (msg.uid !== undefined) return [roomName("uid", checkName(msg.uid, "uid"))];
  if (msg.group !== undefined) return [roomName("group", checkName(msg.group, "group"))];
  if (msg.uids) return unique(msg.uids.map((u, i) => roomName("uid", checkName(u, `uids.${i}`))));
  if (msg.groups) return unique(msg.groups.map((g, i) => roomName("group", checkName(g, `groups.${i}`))));
  if (msg.clientId !== undefined) return [roomOfClientId(msg.clientId)!];
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
  if (!roomOfClientId(value)) {
    throw new ApiError(400, "invalid_name", `${field}: ${JSON.stringify(value)} is not a clientId issued by edgepush`);
  }
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

const encoder = new TextEncoder();
/** Byte length of `text` as UTF-8. */
export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}
