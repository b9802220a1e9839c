// `npm test`: runs every suite, then prints one line summing them as `N passed, N failed, N skipped`
// (what CI reads; always the last line) and exits non-zero when anything failed or a suite could not run.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { delimiter, resolve } from "node:path";
import { missingLine, missingTools } from "./prerequisites.mjs";

const SUITES = [
  { name: "workers", config: "vitest.config.ts" },
  { name: "node", config: "vitest.node.config.ts" },
  // What each billed event costs, measured, and the README's cost section checked against it.
  { name: "cost", config: "vitest.cost.config.ts" },
];
const only = process.argv.slice(2);
// node_modules/.bin first: Node 22 from the `node` package, which wrangler needs.
const PATH = `${resolve("node_modules/.bin")}${delimiter}${process.env.PATH}`;
const env = { ...process.env, PATH, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

// One line per missing optional tool, here rather than once per test file that needs it.
for (const tool of missingTools()) console.log(missingLine(tool));
env.EDGEPUSH_PREREQUISITES_SHOWN = "1";

const total = { passed: 0, failed: 0, skipped: 0 };
const fail = (why) => {
  console.log(`[edgepush] ${why}; counting it as failed`);
  total.failed += 1;
};

for (const name of only.filter((n) => !SUITES.some((s) => s.name === n))) fail(`no suite named ${name}`);
mkdirSync("test-results", { recursive: true });
for (const suite of SUITES) {
  if (only.length > 0 && !only.includes(suite.name)) continue;
  // A suite whose config went missing must not vanish from the count.
  if (!existsSync(suite.config)) {
    fail(`suite ${suite.name}: ${suite.config} is missing`);
    continue;
  }
  const counts = runSuite(suite);
  if (typeof counts === "string") fail(`suite ${suite.name} ${counts}`);
  else for (const key of Object.keys(total)) total[key] += counts[key];
}
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 || total.passed === 0 ? 1 : 0);

/** Runs one vitest config; its counts, or why it has none. */
function runSuite(suite) {
  const report = `test-results/${suite.name}.json`;
  rmSync(report, { force: true });
  console.log(`\n[edgepush] suite ${suite.name} (${suite.config})`);
  const run = spawnSync(
    "vitest",
    ["run", "--config", suite.config, "--reporter=default", "--reporter=json", `--outputFile=${report}`],
    { stdio: "inherit", env },
  );
  if (!existsSync(report)) return `produced no report (exit ${run.status})`;
  const result = JSON.parse(readFileSync(report, "utf8"));
  const counts = {
    passed: result.numPassedTests,
    failed: result.numFailedTests,
    skipped: result.numPendingTests + result.numTodoTests,
  };
  // A file that failed to load has no failed test but must not pass silently.
  if (counts.failed === 0 && result.numFailedTestSuites > 0) counts.failed = 1;
  if (counts.failed === 0 && run.status !== 0) counts.failed = 1;
  return counts;
}
