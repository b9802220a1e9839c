/**
 * The README's worked example, computed from measured per-event costs (`npm run cost`) and the
 * prices in ./prices.ts. Pure: no Workers or Node APIs, so the Workers-runtime test that measures
 * the events and the Node script that prints them share it.
 */
import { PRICES, overage } from "./prices";

/** What one event cost, from the runtime's counters. */
export interface EventCost {
  /** Invocations of the Worker (HTTP requests, upgrades included). */
  workerRequests: number;
  /** Durable Object requests: stub calls (RPC, fetch) and alarm invocations. */
  doRequests: number;
  /** Incoming WebSocket events (messages, closes): billed 20 to a request. */
  wsEvents: number;
  rowsWritten: number;
  rowsRead: number;
  detail: { requests: Record<string, number>; events: Record<string, number>; rowsWritten: Record<string, number> };
}

/** Durable Object requests as billed: requests plus WebSocket events at 20:1. */
export function billedRequests(cost: Pick<EventCost, "doRequests" | "wsEvents">): number {
  return cost.doRequests + cost.wsEvents / PRICES.durableObjects.webSocketMessagesPerRequest;
}

/** The events the worked example adds up (each measured by test/cost/cost.test.ts). */
export interface ExampleEvents {
  /** The first socket of a uid that was offline (its room evicted meanwhile). */
  connect: EventCost;
  /** That socket closing. */
  close: EventCost;
  /** A connect that delivers queued messages, and its close with no message in between, beyond connect + close. */
  takeQueue: EventCost;
  /** One online, idle user for an hour (alarms of its room and its share of its shard's). */
  idleHour: EventCost;
  /** A push with an id (the SDK's default) and the default ttl to an online uid. */
  messageOnline: EventCost;
  /** The same to an offline uid (queued). */
  messageOffline: EventCost;
  /** What a logged message costs later, when it expires. */
  expiry: EventCost;
}

/** The traffic of the worked example; the comments say what each number assumes. */
export const EXAMPLE = {
  users: 100_000,
  /** Each user online 8 hours a day. */
  onlineAtOnce: 33_300,
  connectionsPerUserDay: 10,
  messagesPerUserDay: 20,
  days: 30,
  /**
   * Every connection is its own session (connect … close, then offline until the next): the
   * heaviest case for connection bookkeeping. A reconnect within a minute costs less (see `reconnect`).
   */
  sessionsPerConnection: 1,
  /** Estimates, not measured here (the dashboard shows real ones): CPU per Worker request, awake time per DO request. */
  cpuMsPerWorkerRequest: 1,
  awakeMsPerDoRequest: 5,
} as const;

export interface Item {
  item: string;
  usage: number;
  cost: number;
  note: string;
}

export interface WorkedExample {
  items: Item[];
  total: number;
  /** Share of connections that deliver queued messages and see no message before they close. */
  takeShare: number;
  /** Per connection (connect + close, queue share included): rows written and billed DO requests beyond the upgrade. */
  perConnection: { rowsWritten: number; doRequests: number };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

interface Usage {
  worker: number;
  requests: number;
  rows: number;
}

/**
 * The share of connections that find messages queued (one arrived during the gap before them)
 * and see none while connected (so the queue's watermark is written at their close).
 */
export function takeShareOf(e: typeof EXAMPLE): number {
  const onlineShare = e.onlineAtOnce / e.users;
  const sessionsPerDay = e.connectionsPerUserDay * e.sessionsPerConnection;
  const sessionH = (24 * onlineShare) / sessionsPerDay;
  const gapH = (24 * (1 - onlineShare)) / sessionsPerDay;
  const perHour = e.messagesPerUserDay / 24;
  return (1 - Math.exp(-perHour * gapH)) * Math.exp(-perHour * sessionH);
}

/** What the month's traffic uses: Worker requests, billed DO requests, rows written. */
function monthUsage(events: ExampleEvents, e: typeof EXAMPLE, takeShare: number): Usage {
  const connections = e.users * e.connectionsPerUserDay * e.days;
  const messages = e.users * e.messagesPerUserDay * e.days;
  const onlineShare = e.onlineAtOnce / e.users;
  const parts: [EventCost, number][] = [
    [events.connect, connections],
    [events.close, connections],
    [events.takeQueue, connections * takeShare],
    [events.idleHour, e.onlineAtOnce * 24 * e.days],
    [events.messageOnline, messages * onlineShare],
    [events.messageOffline, messages * (1 - onlineShare)],
    [events.expiry, messages],
  ];
  const usage: Usage = { worker: 0, requests: 0, rows: 0 };
  for (const [cost, n] of parts) {
    usage.worker += cost.workerRequests * n;
    usage.requests += billedRequests(cost) * n;
    usage.rows += cost.rowsWritten * n;
  }
  return usage;
}

/** The month of the worked example, from the measured events. */
export function workedExample(events: ExampleEvents): WorkedExample {
  const e = EXAMPLE;
  const takeShare = takeShareOf(e);
  const { worker, requests, rows } = monthUsage(events, e, takeShare);
  const w = PRICES.workers;
  const d = PRICES.durableObjects;
  const cpuMs = worker * e.cpuMsPerWorkerRequest;
  const gbS = (requests * e.awakeMsPerDoRequest * 128) / 1024 / 1000;
  const items: Item[] = [
    { item: "Workers plan", usage: 1, cost: w.planPerMonth, note: "" },
    { item: "Workers requests", usage: worker, cost: overage(worker, w.requests), note: "upgrades and push calls" },
    { item: "Workers CPU (ms)", usage: cpuMs, cost: overage(cpuMs, w.cpuMs), note: `estimate: ${e.cpuMsPerWorkerRequest} ms a request` },
    { item: "Durable Object requests", usage: requests, cost: overage(requests, d.requests), note: "measured; WebSocket events at 20:1" },
    { item: "Durable Object duration (GB-s)", usage: gbS, cost: overage(gbS, d.durationGbS), note: `estimate: ${e.awakeMsPerDoRequest} ms awake a request` },
    { item: "SQLite rows written", usage: rows, cost: overage(rows, d.rowsWritten), note: "measured; setAlarm counts one" },
  ];
  const upgrade = events.connect.detail.requests["RoomObject.fetch"] ?? 0;
  const perConnection = {
    rowsWritten: events.connect.rowsWritten + events.close.rowsWritten + takeShare * events.takeQueue.rowsWritten,
    doRequests: billedRequests(events.connect) - upgrade + billedRequests(events.close) + takeShare * billedRequests(events.takeQueue),
  };
  const priced = items.map((i) => ({ ...i, cost: round2(i.cost) }));
  return { items: priced, total: round2(priced.reduce((a, i) => a + i.cost, 0)), takeShare, perConnection };
}
