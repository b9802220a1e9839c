/**
 * Backend webhooks: the emitter API every Durable Object that sees a happening calls.
 *
 * Each object keeps its own outbox in its own SQLite (src/webhooks/outbox.ts): the event is
 * written in the same step as the change it reports and sent later from the object's alarm, so
 * one connection's events (all made by the object holding it) arrive in order, and a slow or
 * dead receiver never delays a push or a connect. With webhooks off (no WEBHOOK_URL) every call
 * is a no-op that touches no storage.
 *
 * Use in a Durable Object that holds connections (RoomObject does; GatewayObject should):
 * ```ts
 * // constructor; scheduleAlarm must keep the earliest time asked for (one alarm serves all)
 * this.hooks = new Webhooks(ctx, env, (at) => this.scheduleAlarm(at), () => liveClientIds());
 * // a connection is accepted (protocol "ws" | "gateway" | "pusher"; group null on gateways)
 * this.hooks.opened({ client_id, uid, group: null, protocol: "gateway" });
 * // it is gone, whoever closed it; a second call for the same id does nothing
 * this.hooks.closed(client_id, code, { uid });          // uid: the one bound now, if it changed
 * // a {"type":"message","data":…} frame from it
 * this.hooks.message({ client_id, uid, group: null, data });
 * // a Pusher client event (sent only when WEBHOOK_PUSHER_CLIENT_EVENTS=true)
 * this.hooks.message({ client_id: socketId, uid: userId, group: channel, data, event: "client-typing" });
 * // alarm(): delivers what is due, and closes connections lost without a close handler
 * await this.hooks.alarm();
 * ```
 */
import type { Env } from "../env";
import { logEvent } from "../util/log";
import { loadWebhookConfig, type WebhookConfig } from "./config";
import type { ConnectionFields, MessageFields, WebhookEventInput } from "../contract/webhooks";
import { ConnectionLedger } from "./ledger";
import { WebhookOutbox, type OutboxOptions } from "./outbox";

/** Lost connections are looked for at an object's first alarm, then at most this often. */
const RECONCILE_MS = 10 * 60_000;
/** The close code of a connection lost without a close handler: "abnormal closure". */
const CLOSE_LOST = 1006;

/** The webhook settings of `env`, or null when off; a bad setting is logged once as `misconfigured`. */
export function webhookConfig(env: Env): WebhookConfig | null {
  return loadWebhookConfig(env, (fields) => logEvent("misconfigured", { feature: "webhooks", ...fields }, "error"));
}

export class Webhooks {
  /** The settings, or null when webhooks are off. */
  readonly config: WebhookConfig | null;
  private readonly outbox: WebhookOutbox | null = null;
  private readonly ledger: ConnectionLedger | null = null;
  private reconciledAt = -Infinity;

  constructor(
    ctx: DurableObjectState,
    env: Env,
    scheduleAlarm: (at: number) => void,
    /** The ids of the connections this object holds now (open or closing). */
    private readonly live: () => Iterable<string> = () => [],
    options: OutboxOptions = {},
  ) {
    const config = (this.config = webhookConfig(env));
    if (!config) return;
    this.outbox = new WebhookOutbox(ctx.storage.sql, config, scheduleAlarm, options);
    this.ledger = new ConnectionLedger(ctx.storage.sql);
  }

  /** A connection was accepted. */
  opened(fields: ConnectionFields): void {
    if (!this.outbox) return;
    this.ledger!.open(fields);
    this.outbox.emit([{ name: "connection_opened", ...fields }]);
  }

  /** A connection is gone; `now` updates what changed since it opened (a gateway's bound uid, its groups). */
  closed(clientId: string, code: number, now: Partial<Pick<ConnectionFields, "uid" | "groups">> = {}): void {
    if (!this.outbox) return;
    const opened = this.ledger!.close(clientId);
    if (opened) this.outbox.emit([{ name: "connection_closed", ...opened, ...now, code }]);
  }

  /** A client sent a message for the backend. */
  message(fields: MessageFields): void {
    this.outbox?.emit([{ name: "client_message", ...fields }]);
  }

  /** Any other events (the directory's presence events). */
  emit(events: WebhookEventInput[]): void {
    if (events.length > 0) this.outbox?.emit(events);
  }

  /** The owner's alarm: report connections lost without a close, then deliver what is due. */
  async alarm(): Promise<void> {
    if (!this.outbox) return;
    const now = Date.now();
    if (now - this.reconciledAt >= RECONCILE_MS) {
      this.reconciledAt = now;
      for (const id of this.ledger!.lost(new Set(this.live()))) this.closed(id, CLOSE_LOST);
    }
    await this.outbox.deliver();
  }
}
