// `npm test`: runs every suite, then prints one line summing them as `N passed, N failed`
// (what CI reads) and exits non-zero when anything failed or a suite could not run.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { delimiter, resolve } from "node:path";
import { missingLine, missingTools } from "./prerequisites.mjs";

const SUITES = [
  { name: "workers", config: "vitest.config.ts" },
  { name: "node", config: "vitest.node.config.ts" },
];
const only = process.argv.slice(2);
// node_modules/.bin first: Node 22 from the `node` package, which wrangler needs.
const PATH = `${resolve("node_modules/.bin")}${delimiter}${process.env.PATH}`;
const env = { ...process.env, PATH, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

// One line per missing optional tool, here rather than once per test file that needs it.
for (const tool of missingTools()) console.log(missingLine(tool));
env.EDGEPUSH_PREREQUISITES_SHOWN = "1";

mkdirSync("test-results", { recursive: true });
let passed = 0;
let failed = 0;
for (const suite of SUITES) {
  if (only.length > 0 && !only.includes(suite.name)) continue;
  if (!existsSync(suite.config)) continue;
  const report = `test-results/${suite.name}.json`;
  rmSync(report, { force: true });
  console.log(`\n[edgepush] suite ${suite.name} (${suite.config})`);
  const run = spawnSync(
    "vitest",
    ["run", "--config", suite.config, "--reporter=default", "--reporter=json", `--outputFile=${report}`],
    { stdio: "inherit", env },
  );
  if (!existsSync(report)) {
    console.log(`[edgepush] suite ${suite.name} produced no report (exit ${run.status}); counting it as failed`);
    failed += 1;
    continue;
  }
  const result = JSON.parse(readFileSync(report, "utf8"));
  passed += result.numPassedTests;
  // A file that failed to load has no failed test but must not pass silently.
  failed += result.numFailedTests + (result.numFailedTestSuites > 0 && result.numFailedTests === 0 ? 1 : 0);
  if (run.status !== 0 && result.numFailedTests === 0 && result.numFailedTestSuites === 0) failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
