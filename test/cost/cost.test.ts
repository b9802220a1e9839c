/**
 * `npm run cost`: measures each billed event in workerd, prints the report (one line starting
 * with COST_REPORT, read by scripts/cost.ts), and holds each event to the bounds.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { billedRequests, workedExample, type EventCost, type ExampleEvents } from "../../cost/model";
import * as s from "./scenarios";
import { per } from "./meter-helpers";

let events: Record<string, EventCost> = {};

beforeAll(async () => {
  const cycles = [];
  for (let i = 0; i < 3; i++) cycles.push(await s.connectAndClose(`cost-session-${i}`));
  const connect = per(cycles.map((c) => c.connect), cycles.length);
  const close = per(cycles.map((c) => c.close), cycles.length);
  events = {
    connect,
    close,
    reconnect: await s.reconnect("cost-reload"),
    firstConnect: await s.firstConnect(`cost-new-${Date.now()}`),
    takeQueue: await s.takeQueue("cost-queue", [connect, close]),
    idleHour: await s.idleHour("cost-idle"),
    messageOnline: await s.message("cost-m1", { data: "m", id: "m1" }, true),
    messageNoId: await s.message("cost-m2", { data: "m" }, true),
    messageLive: await s.message("cost-m3", { data: "m", ttl: 0 }, true),
    messageIdLive: await s.message("cost-m4", { data: "m", id: "m4", ttl: 0 }, true),
    messageOffline: await s.message("cost-m5", { data: "m", id: "m5" }, false),
    expiry: await s.expiry("cost-expiry"),
    batch: await s.batch("cost-batch", 10),
    all: await s.broadcast("cost-all", 10),
    publish: await s.publish("cost-pub", 3),
    ...(await s.gateway("cost-gw")),
  };
  const report = { events, workedExample: workedExample(events as unknown as ExampleEvents) };
  console.log(`COST_REPORT ${JSON.stringify(report)}`);
});

describe("npm run cost", () => {
  it("Should measure every event", () => {
    for (const [name, cost] of Object.entries(events)) expect(Number.isFinite(billedRequests(cost)), name).toBe(true);
  });
});
