/**
 * Bodies and queries of the Pusher REST API (library_auth_reference/rest-api.md) validated into
 * typed values, with Pusher's limits. Pure: zod only.
 */
import { z } from "zod";
import { classifyChannel } from "./channels";
import { DEFAULT_MAX_EVENT_BYTES, MAX_EVENT_NAME_LENGTH } from "./frames";
import { utf8Length } from "../../util/text";

/** "limited to 100 channels". */
export const MAX_TRIGGER_CHANNELS = 100;
/** "up to 10 per call on the multi-tenant clusters". */
export const DEFAULT_MAX_BATCH = 10;
export const INFO_ATTRIBUTES = ["user_count", "subscription_count", "cache"] as const;
export type InfoAttribute = (typeof INFO_ATTRIBUTES)[number];

/** One event to trigger on one or more channels. */
export interface TriggerEvent {
  name: string;
  data: string;
  channels: string[];
  /** A socket that must not receive the event (the sender's, usually). */
  socketId?: string;
  /** Attributes to answer per channel; empty when none were asked. */
  info: InfoAttribute[];
}

/** 400 for a wrong shape, 413 for data over the limit ("you will receive a 413 error code"). */
export type SchemaResult<T> = { ok: true; value: T } | { ok: false; status: 400 | 413; message: string };

const channelName = z.string().superRefine((name, ctx) => {
  const result = classifyChannel(name);
  if (!result.ok) ctx.addIssue({ code: "custom", message: result.reason });
});

const eventFields = {
  name: z.string().min(1, "required").max(MAX_EVENT_NAME_LENGTH, `at most ${MAX_EVENT_NAME_LENGTH} characters`),
  // The SDKs JSON-encode object data themselves: the API takes a string only.
  data: z.string({ error: "must be a string (JSON-encode objects)" }),
  socket_id: z.string().regex(/^\d+\.\d+$/, "must look like 123.456").optional(),
  info: z.string().optional(),
};

const eventsBody = z.looseObject({
  ...eventFields,
  channel: channelName.optional(),
  channels: z
    .array(channelName)
    .min(1, "at least one channel")
    .max(MAX_TRIGGER_CHANNELS, `at most ${MAX_TRIGGER_CHANNELS} channels`)
    .optional(),
});

const batchItem = z.looseObject({ ...eventFields, channel: channelName });

/**
 * Validates a `POST /apps/:id/events` body: `name`, `data` (a string of at most `maxDataBytes`),
 * `channel` or `channels` (1-100), optional `socket_id` and `info`.
 * @example parseEventsBody({ name: "foo", channels: ["project-3"], data: '{"some":"data"}' })
 */
export function parseEventsBody(body: unknown, maxDataBytes = DEFAULT_MAX_EVENT_BYTES): SchemaResult<TriggerEvent> {
  const parsed = eventsBody.safeParse(body);
  if (!parsed.success) return badRequest(parsed.error);
  const { channel, channels } = parsed.data;
  if ((channel === undefined) === (channels === undefined)) {
    return { ok: false, status: 400, message: "give either channel or channels" };
  }
  return toEvent(parsed.data, channels ?? [channel!], maxDataBytes, "");
}

/**
 * Validates a `POST /apps/:id/batch_events` body: `batch`, 1 to `maxBatch` events each with
 * one `channel`. Messages name the item: `batch.3.channel: …`.
 */
export function parseBatchBody(
  body: unknown,
  maxDataBytes = DEFAULT_MAX_EVENT_BYTES,
  maxBatch = DEFAULT_MAX_BATCH,
): SchemaResult<TriggerEvent[]> {
  const schema = z.object({
    batch: z.array(batchItem).min(1, "at least one event").max(maxBatch, `at most ${maxBatch} events`),
  });
  const parsed = schema.safeParse(body);
  if (!parsed.success) return badRequest(parsed.error);
  const events: TriggerEvent[] = [];
  for (const [i, item] of parsed.data.batch.entries()) {
    const result = toEvent(item, [item.channel], maxDataBytes, `batch.${i}.`);
    if (!result.ok) return result;
    events.push(result.value);
  }
  return { ok: true, value: events };
}

type EventFields = { name: string; data: string; socket_id?: string; info?: string };

function toEvent(
  fields: EventFields,
  channels: string[],
  maxDataBytes: number,
  at: string,
): SchemaResult<TriggerEvent> {
  if (utf8Length(fields.data) > maxDataBytes) {
    return { ok: false, status: 413, message: `${at}data: over the ${maxDataBytes}-byte limit` };
  }
  const info = parseInfo(fields.info);
  if (!info.ok) return { ok: false, status: 400, message: `${at}info: ${info.message}` };
  const event: TriggerEvent = { name: fields.name, data: fields.data, channels, info: info.value };
  if (fields.socket_id !== undefined) event.socketId = fields.socket_id;
  return { ok: true, value: event };
}

/**
 * Parses an `info` list ("a comma-separated list of attributes"); unknown attributes are refused.
 * @example parseInfo("user_count,subscription_count")
 */
export function parseInfo(info: string | null | undefined): SchemaResult<InfoAttribute[]> {
  const value: InfoAttribute[] = [];
  for (const part of (info ?? "").split(",")) {
    const attribute = part.trim();
    if (attribute === "") continue;
    if (!(INFO_ATTRIBUTES as readonly string[]).includes(attribute)) {
      return { ok: false, status: 400, message: `unknown attribute ${JSON.stringify(attribute)}` };
    }
    if (!value.includes(attribute as InfoAttribute)) value.push(attribute as InfoAttribute);
  }
  return { ok: true, value };
}

/** The query of `GET /apps/:id/channels`. */
export interface ChannelsQuery {
  prefix: string;
  info: InfoAttribute[];
}

/**
 * Validates `filter_by_prefix` and `info` of `GET /apps/:id/channels`: only `user_count` may be
 * asked, and only with a `presence-` prefix ("the API will return an error (400 code)").
 */
export function parseChannelsQuery(query: URLSearchParams): SchemaResult<ChannelsQuery> {
  const prefix = query.get("filter_by_prefix") ?? "";
  const info = parseInfo(query.get("info"));
  if (!info.ok) return { ok: false, status: 400, message: `info: ${info.message}` };
  const other = info.value.find((a) => a !== "user_count");
  if (other) return { ok: false, status: 400, message: `info: ${other} is not available when listing channels` };
  if (info.value.includes("user_count") && !prefix.startsWith("presence-")) {
    return { ok: false, status: 400, message: "info: user_count needs filter_by_prefix=presence-" };
  }
  return { ok: true, value: { prefix, info: info.value } };
}

/**
 * Validates `info` of `GET /apps/:id/channels/:channel`: `user_count` on presence channels,
 * `cache` on cache channels, `subscription_count` on any ("Requesting an attribute which is not
 * available for the requested channel will return an error"). Pusher keeps subscription_count
 * off presence channels and behind a dashboard switch; edgepush always has the number.
 */
export function parseChannelQuery(channel: string, query: URLSearchParams): SchemaResult<InfoAttribute[]> {
  const kind = classifyChannel(channel);
  if (!kind.ok) return { ok: false, status: 400, message: kind.reason };
  const info = parseInfo(query.get("info"));
  if (!info.ok) return { ok: false, status: 400, message: `info: ${info.message}` };
  if (info.value.includes("user_count") && kind.channel.kind !== "presence") {
    return { ok: false, status: 400, message: "info: user_count is only available on presence channels" };
  }
  if (info.value.includes("cache") && !kind.channel.cache) {
    return { ok: false, status: 400, message: "info: cache is only available on cache channels" };
  }
  return info;
}

function badRequest(error: z.ZodError): SchemaResult<never> {
  const issue = error.issues[0];
  const at = issue.path.join(".") || "body";
  return { ok: false, status: 400, message: `${at}: ${issue.message}` };
}
