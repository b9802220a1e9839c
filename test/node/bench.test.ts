/**
 * Smoke test of `npm run bench -- --quick`: the benchmark builds and starts its servers, runs
 * every scenario and prints one JSON line each, with nothing lost. Figures are never asserted:
 * timings belong to the benchmark, not to a test that a slow machine could fail.
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

const SCENARIOS = [
  "unicast", "unicast-rate", "batch", "broadcast", "fanout", "idle-memory", "replay", "pusher-fanout", "pusher-idle-memory", "pusher-trigger-cost",
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

describe("npm run bench -- --quick", () => {
  it("Should print one valid JSON line per scenario, each with no message lost and no failed push", async () => {
    const run = await runQuickBench();
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((l) => l.scenario)).toEqual(SCENARIOS);
    for (const line of lines) {
      expect(line.server).toBe("serve");
      if (line.skipped !== undefined) {
        expect(typeof line.skipped).toBe("string");
        continue;
      }
      expect(line.lost, line.scenario).toBe(0);
      if ("errors" in line) expect(line.errors, line.scenario).toBe(0);
      if (line.baseline && !line.baseline.skipped) expect(line.baseline.lost, `baseline ${line.scenario}`).toBe(0);
    }
    // Against the baseline measured in the same run, so each headline has a ratio.
    expect(typeof lines[0].ratio).toBe("number");
    // A trigger costs the room's push and one deliver per gateway with subscribers, counted by workerd.
    const cost = lines.find((l) => l.scenario === "pusher-trigger-cost");
    expect(cost.doRequestsPerTrigger).toBe(1 + cost.gatewaysWithSubscribers);
  }, 300_000);
});
