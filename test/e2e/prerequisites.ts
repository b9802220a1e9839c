/** Which e2e tests run here: PHP and Chromium are optional outside CI (see scripts/prerequisites.mjs). */
import { chromiumPath, missingLine, missingTools, toolsRequired, type ToolName } from "../../scripts/prerequisites.mjs";

export type Tool = ToolName;
export { chromiumPath };

const announced = new Set<string>();

/**
 * The tools among `tools` this machine lacks, each announced once in one line saying what to
 * install (unless `npm test`, scripts/test.mjs, already printed it). Under CI the list is
 * empty: there every tool is required, and the tests that need a missing one fail.
 */
export function skippableMissing(tools: Tool[]): Tool[] {
  const missing = missingTools(tools);
  for (const tool of missing) {
    if (announced.has(tool) || process.env.EDGEPUSH_PREREQUISITES_SHOWN) continue;
    announced.add(tool);
    console.log(missingLine(tool));
  }
  return toolsRequired() ? [] : missing;
}

/**
 * True when tests needing `tool` must be skipped: it is missing and this is not CI.
 * @example describe.skipIf(skipWithout("php"))("the seeds' PHP backend", () => { … })
 */
export function skipWithout(tool: Tool): boolean {
  return skippableMissing([tool]).length > 0;
}
