/**
 * A Durable Object's webhook outbox: events are written to its own SQLite in the same step as
 * the change they report, and sent from its alarm, in order, one delivery at a time per
 * receiver. A slow or dead receiver only ever delays the alarm, never a push or a connect.
 *
 * Storage: one row per batch, not per event. An event joins the newest batch while it is not yet
 * sent, under `batchEvents` and BATCH_MAX_BYTES (one row written: an UPDATE), or starts a new one
 * (an INSERT and an alarm). A batch is deleted once every receiver has it (one row written);
 * with several receivers each one's position is a `webhook_cursor` row (one write per batch each).
 */
import { errorText, logEvent } from "../util/log";
import { utf8Length } from "../util/text";
import { BATCH_MAX_BYTES, DELIVERY_TIMEOUT_MS, destinationLabel, type Destination, type WebhookConfig } from "./config";
import type { WebhookEventInput } from "../contract/webhooks";
import { deliveryBody, eventJson, pusherBody } from "./events";
import { deliveryHeaders } from "./signature";

/** Deliveries one receiver gets from one alarm; past it the alarm comes back at once. */
const POSTS_PER_ALARM = 20;
/** First retry after this; doubling up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 60_000;

type Batch = {
  batch: number;
  events: string;
  n: number;
  bytes: number;
  created: number;
};

/** Where one receiver stands: in memory, but for the cursor (in SQLite when there are several receivers). */
interface Receiver {
  destination: Destination;
  key: string;
  cursor: number;
  failures: number;
  failingSince: number | null;
  nextAt: number;
}

/** The wait before retry number `failures` (1, 2, 4 … 60 s). */
export function retryDelay(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.max(0, failures - 1));
}

export interface OutboxOptions {
  /** The fetch deliveries go out with (tests pass their own). */
  fetch?: typeof fetch;
  clock?: () => number;
}

export class WebhookOutbox {
  private loaded = false;
  private tableExists = false;
  private newest: Batch | null = null;
  private nextBatch = 1;
  /** Batches up to this one were handed to a receiver: no event may join them any more. */
  private sealed = 0;
  private readonly receivers: Receiver[];
  private running: Promise<void> | null = null;
  private readonly fetcher: typeof fetch;
  private readonly clock: () => number;

  constructor(
    private readonly sql: SqlStorage,
    private readonly config: WebhookConfig,
    /** Asks the owner's alarm to run at `at` or earlier (the owner keeps the earliest). */
    private readonly scheduleAlarm: (at: number) => void,
    options: OutboxOptions = {},
  ) {
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
    this.clock = options.clock ?? Date.now;
    this.receivers = config.destinations.map((destination) => ({
      destination, key: `${destination.format} ${destination.url}`, cursor: 0, failures: 0, failingSince: null, nextAt: 0,
    }));
  }

  /** Queues `events` (each gets its id and time now); the alarm sends them. */
  emit(events: WebhookEventInput[]): void {
    const now = this.clock();
    for (const event of events) {
      if (event.name === "client_message" && event.event !== undefined && !this.config.pusherClientEvents) continue;
      this.append(eventJson(event, crypto.randomUUID(), now), now);
    }
  }

  /** Sends what is due to every receiver; call it from the owner's alarm. Never throws. */
  deliver(): Promise<void> {
    return (this.running ??= this.run().finally(() => (this.running = null)));
  }

  /** Batches still stored (tests and the cost figures read it). */
  storedBatches(): number {
    this.load(false);
    if (!this.tableExists) return 0;
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_outbox").one().n;
  }

  private append(text: string, now: number): void {
    this.load(true);
    const bytes = utf8Length(text);
    const open = this.newest;
    if (open && open.batch > this.sealed && open.n < this.config.batchEvents && open.bytes + 1 + bytes <= BATCH_MAX_BYTES) {
      this.sql.exec("UPDATE webhook_outbox SET events = events || ',' || ?, n = n + 1, bytes = bytes + ? WHERE batch = ?",
        text, bytes + 1, open.batch);
      open.events += `,${text}`;
      open.n++;
      open.bytes += bytes + 1;
    } else {
      const batch = this.nextBatch++;
      this.sql.exec("INSERT INTO webhook_outbox (batch, events, n, bytes, created) VALUES (?, ?, 1, ?, ?)", batch, text, bytes, now);
      this.newest = { batch, events: text, n: 1, bytes, created: now };
      this.scheduleAlarm(now + this.config.batchMs);
    }
    if (this.newest!.n >= this.config.batchEvents) this.scheduleAlarm(now);
  }

  private async run(): Promise<void> {
    try {
      this.load(false);
      if (!this.tableExists) return;
      await Promise.all(this.receivers.map((r) => this.deliverTo(r)));
      if (this.receivers.length > 1) {
        const floor = Math.min(...this.receivers.map((r) => r.cursor));
        this.sql.exec("DELETE FROM webhook_outbox WHERE batch <= ?", floor);
      }
      this.reschedule();
    } catch (err) {
      logEvent("webhook_error", { method: "deliver", error: errorText(err) }, "error");
      this.scheduleAlarm(this.clock() + RETRY_FIRST_MS);
    }
  }

  private async deliverTo(r: Receiver): Promise<void> {
    for (let posts = 0; posts < POSTS_PER_ALARM && r.nextAt <= this.clock(); posts++) {
      const batch = this.after(r.cursor);
      if (!batch || !this.isDue(batch)) return;
      this.sealed = Math.max(this.sealed, batch.batch);
      const sentAt = this.clock();
      const body = r.destination.format === "pusher"
        ? pusherBody(sentAt, JSON.parse(`[${batch.events}]`) as WebhookEventInput[])
        : deliveryBody(sentAt, batch.events);
      if (body === null || (await this.post(r, body, sentAt))) {
        this.advance(r, batch.batch);
        r.failures = 0;
        r.failingSince = null;
        continue;
      }
      r.failures++;
      r.failingSince ??= sentAt;
      if (this.clock() - r.failingSince >= this.config.retryMs) this.dropExpired(r);
      r.nextAt = this.clock() + retryDelay(r.failures);
    }
  }

  /** POSTs one delivery; true on a 2xx within the timeout. */
  private async post(r: Receiver, body: string, sentAt: number): Promise<boolean> {
    let failure: Record<string, unknown>;
    try {
      const res = await this.fetcher(r.destination.url, {
        method: "POST",
        headers: await deliveryHeaders(r.destination, body, sentAt),
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 300) return true;
      failure = { status: res.status };
    } catch (err) {
      failure = { error: errorText(err) };
    }
    // One line when a receiver starts failing, one when events are dropped: not one per retry.
    if (r.failures === 0) logEvent("webhook_failing", { destination: destinationLabel(r.destination), ...failure }, "error");
    return false;
  }

  /** The receiver has failed for the whole retry window: drop every batch that waited that long. */
  private dropExpired(r: Receiver): void {
    const cutoff = this.clock() - this.config.retryMs;
    const expired = this.sql
      .exec<{ batch: number; n: number }>("SELECT batch, n FROM webhook_outbox WHERE batch > ? AND created <= ? ORDER BY batch", r.cursor, cutoff)
      .toArray();
    if (expired.length === 0) return;
    const events = expired.reduce((sum, b) => sum + b.n, 0);
    logEvent("webhook_dropped", {
      destination: destinationLabel(r.destination), events, retried_s: Math.round((this.clock() - r.failingSince!) / 1000),
    }, "error");
    for (const b of expired) this.advance(r, b.batch);
  }

  private advance(r: Receiver, batch: number): void {
    r.cursor = batch;
    if (this.receivers.length === 1) this.sql.exec("DELETE FROM webhook_outbox WHERE batch = ?", batch);
    else this.sql.exec("INSERT OR REPLACE INTO webhook_cursor (dest, batch) VALUES (?, ?)", r.key, batch);
    if (this.newest?.batch === batch && this.receivers.length === 1) this.newest = null;
  }

  // The newest batch waits for company until it is full or batchMs old; older ones are due at once.
  private isDue(batch: Batch): boolean {
    if (batch.batch !== this.newest?.batch || batch.n >= this.config.batchEvents) return true;
    return batch.created + this.config.batchMs <= this.clock();
  }

  private reschedule(): void {
    let next = Infinity;
    for (const r of this.receivers) {
      const batch = this.after(r.cursor);
      if (!batch) continue;
      const dueAt = this.isDue(batch) ? this.clock() : batch.created + this.config.batchMs;
      next = Math.min(next, Math.max(dueAt, r.nextAt));
    }
    if (next !== Infinity) this.scheduleAlarm(next);
  }

  private after(cursor: number): Batch | null {
    return this.sql
      .exec<Batch>("SELECT batch, events, n, bytes, created FROM webhook_outbox WHERE batch > ? ORDER BY batch LIMIT 1", cursor)
      .toArray()[0] ?? null;
  }

  // Tables are made on the first event: an owner that never emits has none and reads nothing.
  private load(create: boolean): void {
    if (this.loaded || (!create && !this.exists())) return;
    this.sql.exec("CREATE TABLE IF NOT EXISTS webhook_outbox (batch INTEGER PRIMARY KEY, events TEXT NOT NULL, n INTEGER NOT NULL, bytes INTEGER NOT NULL, created INTEGER NOT NULL)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS webhook_cursor (dest TEXT PRIMARY KEY, batch INTEGER NOT NULL) WITHOUT ROWID");
    this.loaded = this.tableExists = true;
    this.newest = this.sql.exec<Batch>("SELECT batch, events, n, bytes, created FROM webhook_outbox ORDER BY batch DESC LIMIT 1").toArray()[0] ?? null;
    const cursors = new Map(this.sql.exec<{ dest: string; batch: number }>("SELECT dest, batch FROM webhook_cursor").toArray().map((c) => [c.dest, c.batch]));
    if (this.receivers.length > 1) for (const r of this.receivers) r.cursor = cursors.get(r.key) ?? 0;
    // Batch numbers never go back, so a receiver's cursor never skips a new batch.
    this.nextBatch = Math.max(this.newest?.batch ?? 0, ...cursors.values()) + 1;
    // A batch some receiver already has is closed: an event added to it would never reach that one.
    this.sealed = Math.max(0, ...cursors.values());
  }

  private exists(): boolean {
    return this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'webhook_outbox'").toArray().length > 0;
  }
}
