/**
 * The webhook outbox in workerd, on a real Durable Object's SQLite: batching, signatures, retries
 * and drops, several receivers, restarts. The receiver is a recording fetch and the clock is
 * the test's, so five minutes of retries take no time.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { Env } from "../src/env";
import type { WebhookConfig } from "../src/webhooks/config";
import type { WebhookEventInput } from "../src/contract/webhooks";
import { WebhookOutbox, retryDelay } from "../src/webhooks/outbox";
import { hmacHex } from "../src/webhooks/signature";
import { Webhooks } from "../src/webhooks/webhooks";
import { countingSql } from "./webhook-helpers";

const SECRET = "hook-secret";
const A = { format: "edgepush", url: "https://a.example/hooks", secret: SECRET } as const;
const B = { format: "edgepush", url: "https://b.example/hooks", secret: SECRET } as const;
const P = { format: "pusher", url: "https://a.example/pusher", key: "app-key", secret: "app-secret" } as const;

function config(over: Partial<WebhookConfig> = {}): WebhookConfig {
  return { destinations: [A], offlineDelayMs: 3000, batchEvents: 3, batchMs: 200, retryMs: 300_000, pusherClientEvents: false, ...over };
}

interface Sent {
  url: string;
  headers: Record<string, string>;
  body: string;
  json: { time_ms: number; events: Record<string, any>[] };
}

/** A receiver that answers each POST with the next status of `script` (200 once it runs out). */
function receiver(script: number[] = []) {
  const sent: Sent[] = [];
  const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    const body = String(init!.body);
    sent.push({ url: String(url), headers: init!.headers as Record<string, string>, body, json: JSON.parse(body) });
    return new Response("ok", { status: script.shift() ?? 200 });
  }) as unknown as typeof globalThis.fetch;
  return { sent, fetch };
}

/** The test's clock; `tick` moves it. */
function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, tick: (ms: number) => (now += ms) };
}

/** Runs `fn` with a fresh Durable Object's SQLite (each name is its own object). */
function withSql<T>(name: string, fn: (sql: SqlStorage) => Promise<T> | T): Promise<T> {
  return runInDurableObject(env.DIRECTORY.getByName(`webhook-test:${name}`), (_instance, state) => fn(state.storage.sql));
}

const opened = (n: number): WebhookEventInput => ({ name: "connection_opened", client_id: `c${n}`, uid: "u1", group: null, protocol: "ws" });

describe("webhook outbox batching and signatures", () => {
  it("Should send events made within the batch window in one signed delivery, after the window", async () => {
    await withSql("batch", async (sql) => {
      const r = receiver();
      const t = clock();
      const alarms: number[] = [];
      const box = new WebhookOutbox(sql, config(), (at) => alarms.push(at), { fetch: r.fetch, clock: t.now });
      box.emit([opened(1)]);
      t.tick(50);
      box.emit([opened(2)]);
      expect(alarms).toEqual([1_000_200]);
      await box.deliver();
      expect(r.sent).toHaveLength(0); // the window is still open
      t.tick(150);
      await box.deliver();
      expect(r.sent).toHaveLength(1);
      const [{ headers, body, json }] = r.sent;
      expect(json.events.map((e) => [e.name, e.client_id, e.time_ms])).toEqual([["connection_opened", "c1", 1_000_000], ["connection_opened", "c2", 1_000_050]]);
      expect(json.time_ms).toBe(1_000_200);
      expect(headers["Content-Type"]).toBe("application/json");
      expect(headers["X-Edgepush-Timestamp"]).toBe("1000200");
      expect(headers["X-Edgepush-Signature"]).toBe(`sha256=${await hmacHex(SECRET, `1000200.${body}`)}`);
      expect(new Set(json.events.map((e) => e.id)).size).toBe(2);
      expect(box.storedBatches()).toBe(0);
    });
  });

  it("Should ask for the alarm at once when a batch is full, and start a new batch after it", async () => {
    await withSql("full", async (sql) => {
      const r = receiver();
      const t = clock();
      const alarms: number[] = [];
      const box = new WebhookOutbox(sql, config(), (at) => alarms.push(at), { fetch: r.fetch, clock: t.now });
      box.emit([opened(1), opened(2), opened(3), opened(4)]);
      expect(alarms).toEqual([1_000_200, 1_000_000, 1_000_200]);
      await box.deliver();
      // The full batch goes now; the one event after it waits for its own window.
      expect(r.sent.map((s) => s.json.events.length)).toEqual([3]);
      t.tick(200);
      await box.deliver();
      expect(r.sent.map((s) => s.json.events.length)).toEqual([3, 1]);
    });
  });

  it("Should put an event made while a batch is being sent into the next batch, in order", async () => {
    await withSql("sealed", async (sql) => {
      const t = clock();
      const bodies: string[] = [];
      let box: WebhookOutbox;
      const fetch = (async (_url: RequestInfo | URL, init?: RequestInit) => {
        bodies.push(String(init!.body));
        if (bodies.length === 1) box.emit([opened(2)]); // arrives mid-delivery
        return new Response(null, { status: 204 });
      }) as typeof globalThis.fetch;
      box = new WebhookOutbox(sql, config({ batchMs: 0 }), () => {}, { fetch, clock: t.now });
      box.emit([opened(1)]);
      await box.deliver();
      await box.deliver();
      expect(bodies.map((b) => JSON.parse(b).events.map((e: any) => e.client_id))).toEqual([["c1"], ["c2"]]);
      expect(box.storedBatches()).toBe(0);
    });
  });

  it("Should write one row per event and one per delivered batch", async () => {
    await withSql("rows", async (raw) => {
      const { sql, written } = countingSql(raw);
      const t = clock();
      const box = new WebhookOutbox(sql, config({ batchEvents: 100 }), () => {}, { fetch: receiver().fetch, clock: t.now });
      box.emit([opened(0)]); // creates the tables
      const afterFirst = written();
      box.emit([opened(1), opened(2), opened(3)]);
      expect(written() - afterFirst).toBe(3);
      t.tick(200);
      const before = written();
      await box.deliver();
      expect(written() - before).toBe(1);
    });
  });
});

describe("webhook outbox retries", () => {
  it("Should retry a delivery answered 500 with backoff, with the same event ids, until a 200", async () => {
    await withSql("retry", async (sql) => {
      const r = receiver([500, 503]);
      const t = clock();
      const alarms: number[] = [];
      const box = new WebhookOutbox(sql, config({ batchMs: 0 }), (at) => alarms.push(at), { fetch: r.fetch, clock: t.now });
      box.emit([opened(1)]);
      await box.deliver();
      expect(alarms.at(-1)).toBe(t.now() + 1000);
      t.tick(500);
      await box.deliver(); // too early: nothing sent
      t.tick(500);
      await box.deliver();
      expect(alarms.at(-1)).toBe(t.now() + 2000);
      t.tick(2000);
      await box.deliver();
      expect(r.sent).toHaveLength(3);
      const ids = r.sent.map((s) => s.json.events[0].id);
      expect(new Set(ids).size).toBe(1);
      expect(r.sent.map((s) => s.headers["X-Edgepush-Timestamp"])).toEqual(["1000000", "1001000", "1003000"]);
      expect(box.storedBatches()).toBe(0);
    });
  });

  it("Should back off 1, 2, 4 … seconds up to a minute", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map(retryDelay)).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });

  it("Should count a receiver that never answers as failed after 10 s", async () => {
    await withSql("timeout", async (sql) => {
      const signals: AbortSignal[] = [];
      const fetch = ((_u: RequestInfo | URL, init?: RequestInit) => {
        signals.push(init!.signal!);
        return Promise.reject(new DOMException("timed out", "TimeoutError"));
      }) as typeof globalThis.fetch;
      const box = new WebhookOutbox(sql, config({ batchMs: 0 }), () => {}, { fetch });
      box.emit([opened(1)]);
      await box.deliver();
      expect(signals).toHaveLength(1);
      expect(box.storedBatches()).toBe(1);
    });
  });

  it("Should keep retrying for the whole retry window, then drop with one log line and go on", async () => {
    await withSql("drop", async (sql) => {
      const r = receiver(Array(100).fill(500));
      const t = clock();
      const errors = vi.spyOn(console, "error").mockImplementation(() => {});
      const box = new WebhookOutbox(sql, config({ batchMs: 0 }), () => {}, { fetch: r.fetch, clock: t.now });
      box.emit([opened(1)]);
      let attempts = 0;
      while (t.now() - 1_000_000 < 300_000) {
        await box.deliver();
        attempts++;
        expect(box.storedBatches()).toBe(1);
        t.tick(60_000);
      }
      await box.deliver();
      expect(box.storedBatches()).toBe(0);
      const lines = errors.mock.calls.map((c) => JSON.parse(String(c[0])));
      errors.mockRestore();
      expect(lines.map((l) => l.event)).toEqual(["webhook_failing", "webhook_dropped"]);
      expect(lines[1]).toMatchObject({ destination: "edgepush https://a.example", events: 1 });
      expect(r.sent.length).toBe(attempts + 1);
      // The receiver is back: the next event goes out.
      box.emit([opened(2)]);
      r.sent.length = 0;
      (r.fetch as any).mockImplementation(async () => new Response(null, { status: 200 }));
      t.tick(60_000);
      await box.deliver();
      expect(box.storedBatches()).toBe(0);
    });
  });
});

describe("webhook outbox receivers", () => {
  it("Should give each URL every event: a failing one neither blocks nor repeats to the other", async () => {
    await withSql("two", async (sql) => {
      const a = receiver([500]);
      const b = receiver();
      const fetch = ((url: RequestInfo | URL, init?: RequestInit) =>
        (String(url).startsWith("https://a.") ? a.fetch : b.fetch)(url, init)) as typeof globalThis.fetch;
      const t = clock();
      const box = new WebhookOutbox(sql, config({ destinations: [A, B], batchMs: 0 }), () => {}, { fetch, clock: t.now });
      box.emit([opened(1)]);
      await box.deliver();
      expect([a.sent.length, b.sent.length]).toEqual([1, 1]);
      expect(box.storedBatches()).toBe(1); // A has not got it yet
      t.tick(1000);
      await box.deliver();
      expect([a.sent.length, b.sent.length]).toEqual([2, 1]);
      expect(a.sent[1].json.events[0].id).toBe(b.sent[0].json.events[0].id);
      expect(box.storedBatches()).toBe(0);
    });
  });

  it("Should resume after a restart where each receiver stood, and never reuse a batch number", async () => {
    await withSql("restart", async (sql) => {
      const a = receiver([500, 500]);
      const b = receiver();
      const fetch = ((url: RequestInfo | URL, init?: RequestInit) =>
        (String(url).startsWith("https://a.") ? a.fetch : b.fetch)(url, init)) as typeof globalThis.fetch;
      const cfg = config({ destinations: [A, B], batchMs: 0 });
      const first = new WebhookOutbox(sql, cfg, () => {}, { fetch });
      first.emit([opened(1)]);
      await first.deliver(); // B has batch 1, A does not
      const second = new WebhookOutbox(sql, cfg, () => {}, { fetch });
      second.emit([opened(2)]);
      await second.deliver(); // A fails again, B gets only the new event
      expect(b.sent.map((s) => s.json.events.map((e) => e.client_id))).toEqual([["c1"], ["c2"]]);
      const third = new WebhookOutbox(sql, cfg, () => {}, { fetch });
      await third.deliver();
      expect(a.sent.map((s) => s.json.events.map((e) => e.client_id))).toEqual([["c1"], ["c1"], ["c1"], ["c2"]]);
      expect(third.storedBatches()).toBe(0);
    });
  });

  it("Should send Pusher's format, signed with the app secret, and skip batches Pusher has no event for", async () => {
    await withSql("pusher", async (sql) => {
      const r = receiver();
      const box = new WebhookOutbox(sql, config({ destinations: [P], batchMs: 0, batchEvents: 10, pusherClientEvents: true }), () => {}, { fetch: r.fetch });
      box.emit([opened(1)]);
      await box.deliver();
      expect(r.sent).toHaveLength(0);
      box.emit([
        { name: "group_occupied", group: "presence-room" },
        { name: "member_added", group: "presence-room", uid: "alice" },
        { name: "member_added", group: "lobby", uid: "alice" },
        { name: "client_message", client_id: "1.23", uid: "alice", group: "presence-room", data: { x: 1 }, event: "client-typing" },
      ]);
      await box.deliver();
      expect(r.sent).toHaveLength(1);
      const [{ headers, body, json }] = r.sent;
      expect(headers["X-Pusher-Key"]).toBe("app-key");
      expect(headers["X-Pusher-Signature"]).toBe(await hmacHex("app-secret", body));
      expect(json.events).toEqual([
        { name: "channel_occupied", channel: "presence-room" },
        { name: "member_added", channel: "presence-room", user_id: "alice" },
        { name: "client_event", channel: "presence-room", event: "client-typing", data: '{"x":1}', socket_id: "1.23", user_id: "alice" },
      ]);
      expect(box.storedBatches()).toBe(0);
    });
  });

  it("Should leave Pusher client events out unless the app asks for them", async () => {
    await withSql("no-client-events", async (sql) => {
      const r = receiver();
      const box = new WebhookOutbox(sql, config({ batchMs: 0 }), () => {}, { fetch: r.fetch });
      box.emit([
        { name: "client_message", client_id: "1.23", uid: null, group: "private-x", data: "hi", event: "client-typing" },
        { name: "client_message", client_id: "c1", uid: "u1", group: null, data: "hi" },
      ]);
      await box.deliver();
      expect(r.sent[0].json.events.map((e) => e.client_id)).toEqual(["c1"]);
    });
  });
});

describe("webhook emitter (Webhooks)", () => {
  it("Should close connections lost without a close handler (a crash) with 1006, once, at the first alarm", async () => {
    await runInDurableObject(env.DIRECTORY.getByName("webhook-test:lost"), async (_i, state) => {
      const r = receiver();
      const live = ["c2"];
      const hooksEnv = { WEBHOOK_URL: A.url, WEBHOOK_SECRET: SECRET, WEBHOOK_BATCH_MS: "0" } as Env;
      const before = new Webhooks(state, hooksEnv, () => {}, () => live, { fetch: r.fetch });
      before.opened({ client_id: "c1", uid: "u1", group: null, protocol: "ws" });
      before.opened({ client_id: "c2", uid: "u2", group: "g", protocol: "ws" });
      // A fresh instance (after a crash) finds c1 recorded but not held.
      const after = new Webhooks(state, hooksEnv, () => {}, () => live, { fetch: r.fetch });
      await after.alarm();
      await after.alarm();
      const names = r.sent.flatMap((s) => s.json.events).map((e) => [e.name, e.client_id, e.code]);
      expect(names).toEqual([["connection_opened", "c1", undefined], ["connection_opened", "c2", undefined], ["connection_closed", "c1", 1006]]);
      after.closed("c1", 1000); // the real close handler, late: nothing more
      after.closed("c2", 4000);
      await after.alarm();
      expect(r.sent.at(-1)!.json.events).toEqual([expect.objectContaining({ name: "connection_closed", client_id: "c2", uid: "u2", group: "g", code: 4000 })]);
    });
  });

  it("Should touch no storage and send nothing when webhooks are off", async () => {
    await runInDurableObject(env.DIRECTORY.getByName("webhook-test:off"), async (_i, state) => {
      const r = receiver();
      const hooks = new Webhooks(state, {} as Env, () => {}, () => [], { fetch: r.fetch });
      hooks.opened({ client_id: "c1", uid: "u1", group: null, protocol: "ws" });
      hooks.message({ client_id: "c1", uid: "u1", group: null, data: 1 });
      await hooks.alarm();
      expect(r.sent).toHaveLength(0);
      expect(state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name LIKE 'webhook%'").toArray()).toEqual([]);
    });
  });
});
