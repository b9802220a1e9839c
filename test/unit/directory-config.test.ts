import { describe, expect, it } from "vitest";
import { readDirectoryConfig, safeDirectoryConfig, shardOf } from "../../src/directory/config";
import { chunk, mapLimit } from "../../src/util/async";

describe("directory config", () => {
  it("Should default to 16 shards, a 60 s presence check, a fan-out of 500, no heartbeat and no close reports", () => {
    expect(readDirectoryConfig({})).toEqual({ shards: 16, presenceCheckMs: 60_000, fanout: 500, heartbeatMs: 0, reportCloses: false });
    expect(readDirectoryConfig({ WEBHOOK_URL: "https://hooks.example/x" }).reportCloses).toBe(true);
    expect(safeDirectoryConfig({ DIRECTORY_SHARDS: "x", WEBHOOK_URL: "https://hooks.example/x" }).reportCloses).toBe(true);
    expect(readDirectoryConfig({ DIRECTORY_SHARDS: "64", HEARTBEAT_TIMEOUT_S: "60" })).toMatchObject({ shards: 64, heartbeatMs: 60_000 });
  });

  it("Should refuse an out-of-range var with 500 misconfigured naming it", () => {
    for (const vars of [{ DIRECTORY_SHARDS: "0" }, { DIRECTORY_SHARDS: "1.5" }, { BROADCAST_FANOUT: "1" }, { PRESENCE_CHECK_S: "x" }]) {
      const name = Object.keys(vars)[0];
      expect(() => readDirectoryConfig(vars)).toThrow(expect.objectContaining({ status: 500, code: "misconfigured", message: expect.stringContaining(name) }));
    }
    expect(safeDirectoryConfig({ DIRECTORY_SHARDS: "nope" }).shards).toBe(16);
  });
});

describe("shardOf", () => {
  it("Should be stable and within range", () => {
    expect(shardOf("uid:u1", 16)).toBe(shardOf("uid:u1", 16));
    for (let i = 0; i < 200; i++) {
      const s = shardOf(`group:g${i}`, 7);
      expect(Number.isInteger(s) && s >= 0 && s < 7).toBe(true);
    }
    expect(shardOf("anything", 1)).toBe(0);
  });

  it("Should spread names over every shard", () => {
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[shardOf(`uid:user-${i}`, 16)]++;
    // Each shard within 20% of the mean (1000).
    for (const n of counts) expect(Math.abs(n - 1000)).toBeLessThan(200);
  });
});

describe("chunk and mapLimit", () => {
  it("Should slice in order", () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 3)).toEqual([]);
  });

  it("Should keep results in order with at most `limit` calls in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });
});
