/** Measuring one event at a time in the Workers runtime, from the counters of src/util/meter.ts. */
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { readMeter, resetMeter, type MeterReading } from "../../src/util/meter";
import type { EventCost } from "../../cost/model";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);

/** Waits until no counter moved for 150 ms: reports and other background work have landed. */
async function quiet(): Promise<void> {
  let last = JSON.stringify(readMeter());
  for (let i = 0; i < 100; i++) {
    await sleep(150);
    const now = JSON.stringify(readMeter());
    if (now === last) return;
    last = now;
  }
  throw new Error("the counters never settled");
}

function summarize(reading: MeterReading): EventCost {
  return {
    workerRequests: reading.workerRequests,
    doRequests: sum(reading.requests),
    wsEvents: sum(reading.events),
    rowsWritten: sum(reading.rowsWritten),
    rowsRead: sum(reading.rowsRead),
    detail: { requests: reading.requests, events: reading.events, rowsWritten: reading.rowsWritten },
  };
}

/** What `action` cost, with everything it started (reports, waitUntil work) finished. */
export async function measure(action: () => Promise<unknown>): Promise<EventCost> {
  await quiet();
  resetMeter();
  await action();
  await quiet();
  return summarize(readMeter());
}

/** The sum of several measured costs, divided by `n` (a per-item figure). */
export function per(costs: EventCost[], n = 1): EventCost {
  const out: EventCost = { workerRequests: 0, doRequests: 0, wsEvents: 0, rowsWritten: 0, rowsRead: 0, detail: { requests: {}, events: {}, rowsWritten: {} } };
  for (const c of costs) {
    out.workerRequests += c.workerRequests / n;
    out.doRequests += c.doRequests / n;
    out.wsEvents += c.wsEvents / n;
    out.rowsWritten += c.rowsWritten / n;
    out.rowsRead += c.rowsRead / n;
    for (const key of ["requests", "events", "rowsWritten"] as const) {
      for (const [k, v] of Object.entries(c.detail[key])) out.detail[key][k] = (out.detail[key][k] ?? 0) + v / n;
    }
  }
  return out;
}

type Namespace = "ROOMS" | "DIRECTORY" | "GATEWAYS";

/** The object's pending alarm, or null. */
export function alarmOf(ns: Namespace, name: string): Promise<number | null> {
  return runInDurableObject(env[ns].getByName(name) as DurableObjectStub, (_i, state) => state.storage.getAlarm());
}

/** Runs the object's pending alarm now (a no-op when none is set); true when one ran. */
export function fireAlarm(ns: Namespace, name: string): Promise<boolean> {
  return runDurableObjectAlarm(env[ns].getByName(name) as DurableObjectStub);
}

/** Evicts an object from memory, as the runtime does to an idle one (its hibernated sockets stay). */
export function evict(ns: Namespace, name: string): Promise<void> {
  return evictDurableObject(env[ns].getByName(name) as DurableObjectStub, { webSockets: "hibernate" });
}

export { sleep };
