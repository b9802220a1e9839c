/**
 * The cost report `npm run cost` prints, and the docs made from it (docs/costs.md and the README's
 * summary are never typed by hand: test/cost/cost.test.ts checks them against a run).
 * Pure: no Workers or Node APIs.
 */
import { billedRequests, EXAMPLE, workedExample, type EventCost, type ExampleEvents, type WorkedExample } from "./model";
import { PRICES } from "./prices";

/** The events of the report, in order, with what each one is. */
export const EVENTS: [name: string, label: string][] = [
  ["connect", "connect: the first socket of a uid that was offline (its room evicted since)"],
  ["close", "close: that socket closing"],
  ["reconnect", "a page reload: the socket closes and the uid connects again at once (both)"],
  ["firstConnect", "the very first connection of a uid (once per uid: its room's tables)"],
  ["takeQueue", "a connect that delivers queued messages, with no message during it (beyond connect + close)"],
  ["idleHour", "an online, idle user for an hour (alarms)"],
  ["messageOnline", "a message with an id and the default ttl (the SDK's default) to an online uid"],
  ["messageNoId", "the same without an id"],
  ["messageIdLive", "ttl 0 with an id (the id's record only)"],
  ["messageLive", "ttl 0 without an id (the room's seq)"],
  ["messageOffline", "a message with an id to an offline uid (queued)"],
  ["expiry", "a logged message expiring, later (the next message takes its row)"],
  ["batch", "a batch of 10 messages to 10 uids, per message"],
  ["all", "an `all` push, per live room reached (16 shards)"],
  ["publish", "a client `publish` in a group room of 3"],
  ["gatewayConnect", "a `/gateway` connect with a token (a uid and a group)"],
  ["gatewaySubscribe", "a Pusher subscribe to a public channel"],
  ["gatewayTrigger", "a push to that channel (one gateway holds its subscriber)"],
  ["gatewayClose", "a gateway connection closing"],
];

export interface CostReport {
  prices: { checked: string; sources: readonly string[] };
  events: Record<string, { workerRequests: number; doRequests: number; wsEvents: number; billedDoRequests: number; rowsWritten: number }>;
  /** Per connection (connect + close + its share of the queue), worst case: every connection a session of its own. */
  perConnection: {
    rowsWritten: number;
    /** Durable Object requests beyond the upgrade and the close event (reports, alarms, checks). */
    bookkeepingRequests: number;
    /** The close event, billed as an incoming WebSocket message. */
    closeEventRequests: number;
  };
  workedExample: WorkedExample & { assumptions: typeof EXAMPLE };
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** The report of measured `events` (keyed as in EVENTS). */
export function buildReport(events: Record<string, EventCost>): CostReport {
  const out: CostReport["events"] = {};
  for (const [name] of EVENTS) {
    const e = events[name];
    if (!e) throw new Error(`event ${name} was not measured`);
    out[name] = {
      workerRequests: r3(e.workerRequests), doRequests: r3(e.doRequests), wsEvents: r3(e.wsEvents),
      billedDoRequests: r3(billedRequests(e)), rowsWritten: r3(e.rowsWritten),
    };
  }
  const example = workedExample(events as unknown as ExampleEvents);
  const upgrade = events.connect.detail.requests["RoomObject.fetch"] ?? 0;
  const closeEvents = billedRequests(events.close) - events.close.doRequests;
  return {
    prices: { checked: PRICES.checked, sources: PRICES.sources },
    events: out,
    perConnection: {
      rowsWritten: r3(example.perConnection.rowsWritten),
      bookkeepingRequests: r3(events.connect.doRequests - upgrade + events.close.doRequests + example.takeShare * events.takeQueue.doRequests),
      closeEventRequests: r3(closeEvents),
    },
    workedExample: { ...example, assumptions: EXAMPLE },
  };
}

const num = (x: number) => (Number.isInteger(x) ? x.toLocaleString("en-US") : x.toLocaleString("en-US", { maximumFractionDigits: 3 }));
const millions = (x: number) => `${(x / 1_000_000).toLocaleString("en-US", { maximumFractionDigits: 1 })} M`;
const usd = (x: number) => `$${x.toFixed(2)}`;

/** docs/costs.md's generated part (between its `cost` markers). */
export function renderCosts(report: CostReport): string {
  const e = report.workedExample.assumptions;
  const w = PRICES.workers;
  const d = PRICES.durableObjects;
  const m = (x: number) => `${x / 1_000_000} M`;
  const lines = [
    `**Prices** (Workers Paid plan, as published by Cloudflare; checked ${report.prices.checked}, see ${report.prices.sources.map((s) => `<${s}>`).join(" and ")}):`,
    `Workers $${w.planPerMonth}/month, ${m(w.requests.included)} requests included then $${w.requests.perMillion}/M, ${m(w.cpuMs.included)} CPU-ms`,
    `included then $${w.cpuMs.perMillion}/M. Durable Objects: ${m(d.requests.included)} requests included then $${d.requests.perMillion}/M (RPC calls,`,
    `upgrades, alarms; incoming WebSocket messages ${d.webSocketMessagesPerRequest}:1; outgoing messages and auto-responses such as \`pong\` free), duration`,
    `${d.durationGbS.included.toLocaleString("en-US")} GB-s included then $${d.durationGbS.perMillion}/M GB-s (hibernated sockets cost none), SQLite rows written`,
    `${m(d.rowsWritten.included)} included then $${d.rowsWritten.perMillion.toFixed(2)}/M (each \`setAlarm\` one), rows read ${d.rowsRead.included / 1e9} B included then`,
    `$${d.rowsRead.perMillion}/M, storage ${d.storageGbMonth.included} GB-month included then $${d.storageGbMonth.perGb}/GB-month. They are kept in \`cost/prices.ts\`.`,
    "",
    `**What edgepush does per event**, measured by \`npm run cost\` (the Worker and its Durable Objects in workerd, default`,
    "settings): Durable Object requests counted at every stub call, alarm and WebSocket event; rows written from the",
    "SQLite cursors' `rowsWritten`, each `setAlarm` as one more (as Cloudflare bills it). Incoming WebSocket events (a",
    "client frame, a close) are billed 20 to a request: they count as 0.05 in the billed column.",
    "",
    "| event | Worker requests | DO requests (billed) | rows written |",
    "| --- | --- | --- | --- |",
    ...EVENTS.map(([name, label]) => {
      const v = report.events[name];
      return `| ${label} | ${num(v.workerRequests)} | ${num(v.doRequests)} (${num(v.billedDoRequests)}) | ${num(v.rowsWritten)} |`;
    }),
    "",
    `So a connection (connect and close, with its share of delivering queued messages) writes ${num(report.perConnection.rowsWritten)} rows`,
    `and makes ${num(report.perConnection.bookkeepingRequests)} Durable Object request beyond its upgrade and its close event`,
    `(${num(report.perConnection.closeEventRequests)} billed), even when every connection is a session of its own; an idle online`,
    "user costs nothing; a message is one row. Closes are not reported to the directory: `/stats`, `/uids` and `/groups`",
    "first ask each room they have not heard from lately (a second per room the shard holds, at most `PRESENCE_CHECK_S`,",
    "60 s), so a dashboard that polls them costs each shard about a request a second, or one per live room a minute past",
    "60 rooms a shard; with webhooks on, rooms report closes too (one more request per connection). Pusher's",
    "`GET /apps/<id>/channels` also asks each matching channel's room (up to 500 of them, or all with `info=user_count`):",
    "one Durable Object request per listed channel per call, so it is exact right after a channel empties.",
    "",
    `**Worked example: ${num(e.users)} users**, each online 8 hours a day (${num(e.onlineAtOnce)} at once), connecting`,
    `${e.connectionsPerUserDay} times a day (each connection a session of its own: the heaviest case), receiving`,
    `${e.messagesPerUserDay} messages a day sent one per call with the SDK's defaults (an id, the 24 h ttl), evenly over the`,
    `day; ${e.days} days:`,
    "",
    "| item | usage | cost |",
    "| --- | --- | --- |",
    ...report.workedExample.items.map((i) => `| ${i.item} | ${i.item === "Workers plan" ? "" : millions(i.usage)}${i.note ? ` (${i.note})` : ""} | ${usd(i.cost)} |`),
    `| **total** | | **${usd(report.workedExample.total)} / month** |`,
  ];
  return lines.join("\n");
}

/** A message's price per million past the included amounts: its Worker request, its DO requests, its rows. */
export function perMillion(cost: CostReport["events"][string]): number {
  const w = PRICES.workers;
  const d = PRICES.durableObjects;
  return cost.workerRequests * w.requests.perMillion + cost.billedDoRequests * d.requests.perMillion + cost.rowsWritten * d.rowsWritten.perMillion;
}

/** The README's short summary (between its `cost-summary` markers). */
export function renderSummary(report: CostReport): string {
  const e = report.events;
  return [
    "**What it costs** on the Workers Paid plan ($5/month), measured by `npm run cost`: a message is one",
    `row written, about **${usd(perMillion(e.messageOnline))} per million** with an \`id\` and a \`ttl\` (the SDK's default) and the same`,
    `live-only; a connection writes ${num(report.perConnection.rowsWritten)} rows and makes ${num(report.perConnection.bookkeepingRequests)} request beyond its upgrade; an online idle user,`,
    "pings and outgoing frames cost nothing. Prices, the cost of each event and a worked example",
    `(${num(report.workedExample.assumptions.users)} users ≈ ${usd(report.workedExample.total)} a month) are in [docs/costs.md](docs/costs.md).`,
  ].join("\n");
}

/** `text` with the section between the `name` markers replaced by `section`; throws when they are missing. */
export function withSection(text: string, name: "cost" | "cost-summary", section: string): string {
  const begin = `<!-- ${name}:begin (generated by \`npm run cost -- --write\`; do not edit) -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`no ${name} section markers`);
  return `${text.slice(0, from + begin.length)}\n${section}\n${text.slice(to)}`;
}
