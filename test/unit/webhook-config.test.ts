import { describe, expect, it, vi } from "vitest";
import { loadWebhookConfig, readWebhookConfig } from "../../src/webhooks/config";
import { eventJson, pusherBody, toPusherEvent } from "../../src/webhooks/events";

describe("webhook config", () => {
  it("Should be off without a URL, and on with a URL and a secret, with the documented defaults", () => {
    expect(readWebhookConfig({})).toBeNull();
    expect(readWebhookConfig({ WEBHOOK_SECRET: "s" })).toBeNull();
    expect(readWebhookConfig({ WEBHOOK_URL: "https://a.example/h", WEBHOOK_SECRET: "s" })).toEqual({
      destinations: [{ format: "edgepush", url: "https://a.example/h", secret: "s" }],
      offlineDelayMs: 3000, batchEvents: 100, batchMs: 200, retryMs: 300_000, pusherClientEvents: false,
    });
  });

  it("Should send every event to each URL of a comma list", () => {
    const config = readWebhookConfig({ WEBHOOK_URL: " https://a.example/h , http://127.0.0.1:9000/x,", WEBHOOK_SECRET: "s" });
    expect(config!.destinations.map((d) => d.url)).toEqual(["https://a.example/h", "http://127.0.0.1:9000/x"]);
  });

  it("Should add Pusher-format receivers when the Pusher app is set: WEBHOOK_URL, or PUSHER_WEBHOOK_URL instead", () => {
    const app = { PUSHER_APP_KEY: "k", PUSHER_APP_SECRET: "ps", WEBHOOK_SECRET: "s" };
    expect(readWebhookConfig({ ...app, WEBHOOK_URL: "https://a.example/h" })!.destinations).toEqual([
      { format: "edgepush", url: "https://a.example/h", secret: "s" },
      { format: "pusher", url: "https://a.example/h", key: "k", secret: "ps" },
    ]);
    expect(readWebhookConfig({ ...app, WEBHOOK_URL: "https://a.example/h", PUSHER_WEBHOOK_URL: "https://a.example/pusher" })!.destinations[1])
      .toEqual({ format: "pusher", url: "https://a.example/pusher", key: "k", secret: "ps" });
    // Pusher's own receivers need no WEBHOOK_SECRET.
    expect(readWebhookConfig({ PUSHER_APP_KEY: "k", PUSHER_APP_SECRET: "ps", PUSHER_WEBHOOK_URL: "https://a.example/p" })!.destinations)
      .toEqual([{ format: "pusher", url: "https://a.example/p", key: "k", secret: "ps" }]);
  });

  it("Should refuse a URL without a secret, a bad URL and a bad number, naming the variable", () => {
    for (const [vars, variable] of [
      [{ WEBHOOK_URL: "https://a.example/h" }, "WEBHOOK_SECRET"],
      [{ WEBHOOK_URL: "ftp://a.example/h", WEBHOOK_SECRET: "s" }, "WEBHOOK_URL"],
      [{ WEBHOOK_URL: "https://a.example/h", WEBHOOK_SECRET: "s", WEBHOOK_RETRY_S: "60" }, "WEBHOOK_RETRY_S"],
      [{ WEBHOOK_URL: "https://a.example/h", WEBHOOK_SECRET: "s", WEBHOOK_OFFLINE_DELAY_S: "x" }, "WEBHOOK_OFFLINE_DELAY_S"],
    ] as const) {
      expect(() => readWebhookConfig(vars)).toThrow(expect.objectContaining({ variable, message: expect.stringContaining(variable) }));
    }
  });

  it("Should log misconfigured once and send nothing when WEBHOOK_SECRET is missing", () => {
    const log = vi.fn();
    const vars = { WEBHOOK_URL: "https://once.example/h" };
    expect(loadWebhookConfig(vars, log)).toBeNull();
    expect(loadWebhookConfig(vars, log)).toBeNull();
    expect(log).toHaveBeenCalledTimes(1);
    expect(log.mock.calls[0][0]).toMatchObject({ variable: "WEBHOOK_SECRET" });
  });
});

describe("webhook events", () => {
  it("Should put id, name and time_ms first, then the event's fields", () => {
    const text = eventJson({ name: "member_added", group: "g", uid: "u" }, "id-1", 5);
    expect(text).toBe('{"id":"id-1","name":"member_added","time_ms":5,"group":"g","uid":"u"}');
  });

  it("Should map groups to Pusher channels: member events on presence channels, client events with user_id on presence only", () => {
    expect(toPusherEvent({ name: "group_vacated", group: "orders" })).toEqual({ name: "channel_vacated", channel: "orders" });
    expect(toPusherEvent({ name: "member_removed", group: "presence-a", uid: "u" })).toEqual({ name: "member_removed", channel: "presence-a", user_id: "u" });
    expect(toPusherEvent({ name: "member_removed", group: "orders", uid: "u" })).toBeNull();
    expect(toPusherEvent({ name: "client_message", client_id: "1.2", uid: "u", group: "private-a", data: "x", event: "client-e" }))
      .toEqual({ name: "client_event", channel: "private-a", event: "client-e", data: "x", socket_id: "1.2" });
    expect(toPusherEvent({ name: "client_message", client_id: "c", uid: "u", group: "g", data: 1 })).toBeNull();
    for (const name of ["uid_online", "uid_offline"] as const) expect(toPusherEvent({ name, uid: "u" })).toBeNull();
    expect(pusherBody(7, [{ name: "uid_online", uid: "u" }])).toBeNull();
    expect(JSON.parse(pusherBody(7, [{ name: "group_occupied", group: "g" }])!)).toEqual({ time_ms: 7, events: [{ name: "channel_occupied", channel: "g" }] });
  });
});
