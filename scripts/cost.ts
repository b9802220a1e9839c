/**
 * `npm run cost`: runs the cost suite (vitest.cost.config.ts: the real Worker in workerd, metered)
 * and prints its report as JSON on stdout (the suite's own output goes to stderr). It fails when a
 * bound of the issue is not met or docs/costs.md (or the README's summary) differs from what was
 * measured; `--write` regenerates them instead of checking.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { delimiter, resolve } from "node:path";
import { renderCosts, renderSummary, withSection, type CostReport } from "../cost/report";

const write = process.argv.includes("--write");
const PATH = `${resolve("node_modules/.bin")}${delimiter}${process.env.PATH}`;
const run = spawnSync("vitest", ["run", "--config", "vitest.cost.config.ts"], {
  env: { ...process.env, PATH, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", COST_WRITE: write ? "1" : "" },
  encoding: "utf8",
  maxBuffer: 64 * 1024 * 1024,
});
process.stderr.write(run.stdout.split("\n").filter((l) => !l.includes("COST_REPORT ")).join("\n"));
process.stderr.write(run.stderr);
const line = run.stdout.split("\n").find((l) => l.includes("COST_REPORT "));
if (!line) {
  console.error("[cost] the suite printed no report");
  process.exit(1);
}
const report = JSON.parse(line.slice(line.indexOf("COST_REPORT ") + "COST_REPORT ".length)) as CostReport;
if (write) {
  writeFileSync("docs/costs.md", withSection(readFileSync("docs/costs.md", "utf8"), "cost", renderCosts(report)));
  writeFileSync("README.md", withSection(readFileSync("README.md", "utf8"), "cost-summary", renderSummary(report)));
  console.error("[cost] docs/costs.md and the README's summary rewritten from this run");
}
console.log(JSON.stringify(report, null, 2));
process.exit(run.status ?? 1);
