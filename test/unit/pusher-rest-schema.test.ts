import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  parseBatchBody,
  parseChannelQuery,
  parseChannelsQuery,
  parseEventsBody,
  parseInfo,
} from "../../src/gateway/pusher/rest-schema";

const event = { name: "foo", data: '{"some":"data"}' };
const failure = (result: { ok: boolean; status?: number; message?: string }) =>
  result.ok ? "ok" : `${result.status} ${result.message}`;

describe("pusher REST schema: events", () => {
  it("Should take Pusher's example body and a single channel", () => {
    expect(parseEventsBody({ ...event, channels: ["project-3"] })).toEqual({
      ok: true,
      value: { name: "foo", data: '{"some":"data"}', channels: ["project-3"], info: [] },
    });
    expect(parseEventsBody({ ...event, channel: "project-3", socket_id: "123.456", info: "user_count, subscription_count" })).toEqual({
      ok: true,
      value: { ...event, channels: ["project-3"], socketId: "123.456", info: ["user_count", "subscription_count"] },
    });
  });

  it("Should take a user channel and Laravel's event names and channel names", () => {
    expect(parseEventsBody({ ...event, channels: ["#server-to-user-42"] }).ok).toBe(true);
    expect(parseEventsBody({ name: "App\\Events\\OrderShipped", data: "{}", channels: ["private-orders.1"] }).ok).toBe(true);
  });

  it("Should refuse a wrong shape with 400 and a message naming the field", () => {
    expect(failure(parseEventsBody({ ...event }))).toBe("400 give either channel or channels");
    expect(failure(parseEventsBody({ ...event, channel: "a", channels: ["b"] }))).toBe("400 give either channel or channels");
    expect(failure(parseEventsBody({ ...event, channels: [] }))).toBe("400 channels: at least one channel");
    expect(failure(parseEventsBody({ ...event, channels: Array.from({ length: 101 }, (_, i) => `c${i}`) }))).toBe(
      "400 channels: at most 100 channels",
    );
    expect(failure(parseEventsBody({ ...event, channels: ["ok", "a b"] }))).toMatch(/^400 channels\.1: invalid channel name/);
    expect(failure(parseEventsBody({ ...event, channel: "#other" }))).toMatch(/^400 channel: invalid/);
    expect(failure(parseEventsBody({ name: "foo", data: { some: "data" }, channel: "a" }))).toBe(
      "400 data: must be a string (JSON-encode objects)",
    );
    expect(failure(parseEventsBody({ data: "x", channel: "a" }))).toMatch(/^400 name: /);
    expect(failure(parseEventsBody({ name: "", data: "x", channel: "a" }))).toBe("400 name: required");
    expect(failure(parseEventsBody({ name: "x".repeat(201), data: "x", channel: "a" }))).toBe("400 name: at most 200 characters");
    expect(failure(parseEventsBody({ ...event, channel: "a", socket_id: "abc" }))).toBe("400 socket_id: must look like 123.456");
    expect(failure(parseEventsBody({ ...event, channel: "a", info: "colour" }))).toBe('400 info: unknown attribute "colour"');
    expect(failure(parseEventsBody([]))).toMatch(/^400 body: /);
    expect(failure(parseEventsBody(null))).toMatch(/^400 body: /);
  });

  it("Should refuse data over the limit with 413, 10 KB unless told otherwise, counting UTF-8 bytes", () => {
    expect(parseEventsBody({ name: "e", channel: "a", data: "x".repeat(10 * 1024) }).ok).toBe(true);
    expect(failure(parseEventsBody({ name: "e", channel: "a", data: "x".repeat(10 * 1024 + 1) }))).toBe(
      "413 data: over the 10240-byte limit",
    );
    expect(failure(parseEventsBody({ name: "e", channel: "a", data: "é".repeat(5121) }))).toMatch(/^413/);
    expect(parseEventsBody({ name: "e", channel: "a", data: "x".repeat(20_000) }, 64 * 1024).ok).toBe(true);
  });

  it("Should answer a result, never throw, whatever the body", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything()), (body) => {
        const result = parseEventsBody(body);
        if (!result.ok) expect([400, 413]).toContain(result.status);
      }),
      { numRuns: 300 },
    );
  });
});

describe("pusher REST schema: batch_events", () => {
  it("Should take up to 10 events, one channel each", () => {
    const batch = Array.from({ length: 10 }, (_, i) => ({ name: `e${i}`, data: "{}", channel: `c${i}` }));
    const result = parseBatchBody({ batch });
    expect(result.ok && result.value.map((e) => e.channels)).toEqual(batch.map((e) => [e.channel]));
  });

  it("Should refuse a batch that is empty, too long or has a bad item, naming the item", () => {
    const item = { name: "e", data: "{}", channel: "c" };
    expect(failure(parseBatchBody({ batch: [] }))).toBe("400 batch: at least one event");
    expect(failure(parseBatchBody({ batch: Array(11).fill(item) }))).toBe("400 batch: at most 10 events");
    expect(parseBatchBody({ batch: Array(11).fill(item) }, undefined, 20).ok).toBe(true);
    expect(failure(parseBatchBody({ batch: [item, { name: "e", data: "{}" }] }))).toMatch(/^400 batch\.1\.channel: /);
    expect(failure(parseBatchBody({ batch: [item, { ...item, channels: ["a"], channel: undefined }] }))).toMatch(/^400 batch\.1\.channel/);
    expect(failure(parseBatchBody({ batch: [item, { ...item, data: "x".repeat(11) }] }, 10))).toBe(
      "413 batch.1.data: over the 10-byte limit",
    );
    expect(failure(parseBatchBody({ events: [item] }))).toMatch(/^400 batch: /);
  });
});

describe("pusher REST schema: queries", () => {
  it("Should parse info lists, without repeats", () => {
    expect(parseInfo(undefined)).toEqual({ ok: true, value: [] });
    expect(parseInfo("user_count,,user_count,cache")).toEqual({ ok: true, value: ["user_count", "cache"] });
  });

  it("Should allow user_count when listing channels only with a presence- prefix", () => {
    const q = (s: string) => parseChannelsQuery(new URLSearchParams(s));
    expect(q("")).toEqual({ ok: true, value: { prefix: "", info: [] } });
    expect(q("filter_by_prefix=presence-&info=user_count")).toEqual({
      ok: true,
      value: { prefix: "presence-", info: ["user_count"] },
    });
    expect(failure(q("info=user_count"))).toBe("400 info: user_count needs filter_by_prefix=presence-");
    expect(failure(q("filter_by_prefix=presence-&info=subscription_count"))).toMatch(/^400 info: subscription_count/);
  });

  it("Should allow per-channel attributes only where they exist", () => {
    const q = (channel: string, s: string) => parseChannelQuery(channel, new URLSearchParams(s));
    expect(q("presence-a", "info=user_count,subscription_count")).toEqual({ ok: true, value: ["user_count", "subscription_count"] });
    expect(failure(q("private-a", "info=user_count"))).toBe("400 info: user_count is only available on presence channels");
    expect(q("cache-a", "info=cache")).toEqual({ ok: true, value: ["cache"] });
    expect(failure(q("a", "info=cache"))).toBe("400 info: cache is only available on cache channels");
    expect(failure(q("a b", ""))).toMatch(/^400 invalid channel name/);
  });
});
