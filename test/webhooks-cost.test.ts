/**
 * What webhooks cost in SQLite rows, measured with the cursor's `rowsWritten` in workerd for the
 * statements each happening runs (the README's "Webhooks: cost" table quotes these). Alarms are
 * counted apart: each batch sets one alarm and is sent by one alarm invocation (a DO request).
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../src/env";
import { PresenceEvents } from "../src/webhooks/presence";
import { Webhooks } from "../src/webhooks/webhooks";
import { countingSql } from "./webhook-helpers";

const HOOKS_ENV = { WEBHOOK_URL: "https://hooks.example/in", WEBHOOK_SECRET: "s", WEBHOOK_BATCH_MS: "0" } as Env;
const ok = (async () => new Response(null, { status: 204 })) as typeof fetch;

/** Runs `fn` with a real Durable Object's SQLite whose writes are counted, and the alarms asked for. */
function measured<T>(name: string, fn: (m: { sql: SqlStorage; ctx: DurableObjectState; rows: () => number; alarms: number[] }) => Promise<T>) {
  return runInDurableObject(env.DIRECTORY.getByName(`webhook-cost:${name}`), async (_i, state) => {
    const { sql, written } = countingSql(state.storage.sql);
    const ctx = { storage: { sql } } as unknown as DurableObjectState;
    return fn({ sql, ctx, rows: written, alarms: [] });
  });
}

describe("webhook cost per happening", () => {
  it("Should write 2 rows when a /ws connection opens, 2 when it closes, and 1 per delivered batch", async () => {
    await measured("connection", async ({ ctx, rows, alarms }) => {
      const live = ["c1"];
      const hooks = new Webhooks(ctx, HOOKS_ENV, (at) => alarms.push(at), () => live, { fetch: ok });
      hooks.opened({ client_id: "c1", uid: "u1", group: null, protocol: "ws" });
      expect(rows()).toBe(2); // ledger row + outbox batch
      await hooks.alarm();
      expect(rows()).toBe(3); // the delivered batch is deleted
      hooks.message({ client_id: "c1", uid: "u1", group: null, data: "hi" });
      await hooks.alarm();
      expect(rows()).toBe(5); // a message: its batch, then the delete
      hooks.closed("c1", 1000);
      hooks.closed("c1", 1000); // a repeat writes nothing
      expect(rows()).toBe(7);
      await hooks.alarm();
      expect(rows()).toBe(8);
      expect(alarms).toHaveLength(3); // one per batch
    });
  });

  it("Should write 1 row per event that joins an open batch", async () => {
    await measured("batched", async ({ ctx, rows }) => {
      const hooks = new Webhooks(ctx, { ...HOOKS_ENV, WEBHOOK_BATCH_MS: "1000" } as Env, () => {}, () => [], { fetch: ok });
      for (let i = 0; i < 10; i++) hooks.message({ client_id: "c1", uid: "u1", group: null, data: i });
      expect(rows()).toBe(10);
    });
  });

  it("Should write 1 row for a uid coming online, 3 for it going offline, and 2 (no event) for a reload", async () => {
    await measured("presence", async ({ sql, ctx, rows, alarms }) => {
      const hooks = new Webhooks(ctx, HOOKS_ENV, (at) => alarms.push(at), () => [], { fetch: ok });
      const presence = new PresenceEvents(sql, 0, (e) => hooks.emit(e), (at) => alarms.push(at));
      presence.memberAdded("u1", "uid:u1", 1);
      expect(rows()).toBe(1); // uid_online into the outbox
      const debounced = new PresenceEvents(sql, 5, (e) => hooks.emit(e), (at) => alarms.push(at));
      const before = rows();
      debounced.memberRemoved("u1", "uid:u1", 0);
      debounced.memberAdded("u1", "uid:u1", 1);
      expect(rows() - before).toBe(2); // pending offline written, then cancelled
      const start = rows();
      debounced.memberRemoved("u1", "uid:u1", 0);
      await new Promise((r) => setTimeout(r, 10));
      debounced.alarm(() => 0);
      expect(rows() - start).toBe(3); // pending row, its delete, uid_offline into the outbox
    });
  });
});
