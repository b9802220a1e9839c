/**
 * Smoke test of `npm run bench -- --quick`: the benchmark builds and starts its servers, runs
 * every scenario and prints one JSON line each, with nothing lost. Figures are never asserted:
 * timings belong to the benchmark, not to a test that a slow machine could fail.
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

const SCENARIOS = [
  "unicast", "unicast-rate", "batch", "broadcast", "fanout", "idle-memory", "replay", "gateway-uid",
  "pusher-fanout", "pusher-idle-memory", "pusher-trigger-cost", "abuse",
];

function runQuickBench(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("tsx", ["bench/index.ts", "--quick"], {
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    // The bench stops its own servers on SIGTERM; never leave it running past the test.
    const timer = setTimeout(() => child.kill("SIGTERM"), 285_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** What every scenario of edgepush, and of the baseline where it runs, checks about its deliveries. */
const CLEAN = { lost: 0, duplicates: 0, strays: 0, errors: 0 };
/** Scenarios the thin baseline cannot run (no directory, no log): the only skips there are. */
const BASELINE_SKIPS = ["broadcast", "replay", "gateway-uid", "abuse"];

describe("npm run bench -- --quick", () => {
  it("Should run every scenario, each losing nothing, doubling nothing, with no stray frame and no failed push", async () => {
    const run = await runQuickBench();
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((l) => l.scenario)).toEqual(SCENARIOS);
    for (const line of lines) {
      const { scenario } = line;
      expect(line.server).toBe("serve");
      // A scenario of edgepush that could not run is a failure, never a skip.
      expect(line, scenario).not.toHaveProperty("skipped");
      expect(pick(line), scenario).toEqual(CLEAN);
      if (BASELINE_SKIPS.includes(scenario)) expect(line.baseline, `baseline ${scenario}`).toEqual({ skipped: expect.any(String) });
      // The Pusher scenarios compare with figures of this same run (their own lines are checked).
      else if (scenario.startsWith("pusher-")) expect(line.baseline, `baseline ${scenario}`).toMatchObject({ of: expect.any(String) });
      else expect(pick(line.baseline), `baseline ${scenario}`).toEqual(CLEAN);
    }
    // Against the baselines measured in the same run, so each headline has a ratio; the write
    // scenarios have one to the durable baseline too (a SQLite row per push), which lost nothing.
    expect(typeof lines[0].ratio).toBe("number");
    for (const line of lines.filter((l) => l.scenario === "unicast" || l.scenario === "batch")) {
      expect(typeof line.ratioDurable, line.scenario).toBe("number");
      expect(line.durableBaseline.lost, `durable baseline ${line.scenario}`).toBe(0);
    }
    // The idle Pusher sockets' floor: as many idle sockets on a fresh thin baseline, measured the same way.
    const idle = lines.find((l) => l.scenario === "pusher-idle-memory");
    expect(pick(idle.floor), "pusher-idle-memory floor").toEqual(CLEAN);
    expect(idle.floor).toMatchObject({ connections: idle.connections, measured: idle.measured, kbPerConnection: expect.any(Number) });
    expect(idle.kbAboveFloor).toBeCloseTo(idle.kbPerConnection - idle.floor.kbPerConnection, 1);
    // A trigger costs the room's push and one deliver per gateway with subscribers, counted by workerd.
    const cost = lines.find((l) => l.scenario === "pusher-trigger-cost");
    expect(cost.doRequestsPerTrigger).toBe(1 + cost.gatewaysWithSubscribers);
  }, 300_000);
});

const pick = (figures: Record<string, unknown>) =>
  Object.fromEntries(Object.keys(CLEAN).map((key) => [key, figures[key]]));
