/**
 * `npm run cost`: measures each billed event in workerd, prints the report (one line starting
 * with COST_REPORT, read by scripts/cost.ts), holds each event to the bounds, and checks
 * docs/costs.md and the README's summary against the figures just measured.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import readme from "../../README.md?raw";
import costsDoc from "../../docs/costs.md?raw";
import type { EventCost } from "../../cost/model";
import { buildReport, renderCosts, renderSummary, withSection, type CostReport } from "../../cost/report";
import { api } from "../helpers";
import { per } from "./meter-helpers";
import * as s from "./scenarios";

let events: Record<string, EventCost> = {};
let report: CostReport;

beforeAll(async () => {
  // Every directory shard made its tables (a one-time cost no event below should carry).
  await api("/stats");
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
  report = buildReport(events);
  console.log(`COST_REPORT ${JSON.stringify(report)}`);
});

describe("A connection", () => {
  it("Should write at most 0.5 rows and make at most 1 Durable Object request beyond its upgrade, amortized", () => {
    expect(report.perConnection.rowsWritten).toBeLessThanOrEqual(0.5);
    expect(report.perConnection.bookkeepingRequests).toBeLessThanOrEqual(1);
  });

  it("Should cost nothing beyond the upgrade when the uid reconnects at once", () => {
    const reload = events.reconnect;
    expect(reload.rowsWritten).toBe(0);
    expect(reload.doRequests - (reload.detail.requests["RoomObject.fetch"] ?? 0)).toBe(0);
  });
});

describe("An online idle user", () => {
  it("Should wake nothing periodically (at most once a day)", () => {
    expect(events.idleHour.doRequests).toBeLessThanOrEqual(1 / 24);
    expect(events.idleHour.rowsWritten).toBeLessThanOrEqual(1 / 24);
  });
});

describe("A message", () => {
  it("Should write one row with an id and a ttl, de-duplication record included", () => {
    for (const name of ["messageOnline", "messageOffline", "batch"]) expect(events[name].rowsWritten, name).toBe(1);
  });

  it("Should write at most one row live only (ttl 0), with or without an id, and nothing when it expires", () => {
    expect(events.messageLive.rowsWritten).toBeLessThanOrEqual(1);
    expect(events.messageIdLive.rowsWritten).toBe(1);
    expect(events.expiry.rowsWritten).toBe(0);
    expect(events.expiry.doRequests).toBe(0);
  });

  it("Should cost one Worker request and one room request", () => {
    expect(events.messageOnline).toMatchObject({ workerRequests: 1, doRequests: 1 });
  });
});

describe("The worked example", () => {
  it("Should come to at most $75 a month", () => {
    expect(report.workedExample.total).toBeLessThanOrEqual(75);
  });

  const writing = (env as unknown as Record<string, string>).COST_README_CHECK === "false";
  it.skipIf(writing)("Should be what docs/costs.md and the README say (npm run cost -- --write regenerates them)", () => {
    expect(costsDoc).toBe(withSection(costsDoc, "cost", renderCosts(report)));
    expect(readme).toBe(withSection(readme, "cost-summary", renderSummary(report)));
  });
});
