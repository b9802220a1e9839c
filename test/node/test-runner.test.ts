/**
 * `scripts/test.mjs` (what `npm test` and CI run) on a tiny project of its own: the summary line
 * counts skipped tests, and a suite that cannot run is a failure, never a silent vanish.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const CONFIG = `import { defineConfig } from "vitest/config";
export default defineConfig({ test: { include: ["FILE"] } });
`;

/** A project with the runner, this repo's node_modules, and a config per suite named in `files`. */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "edgepush-runner-"));
  dirs.push(dir);
  mkdirSync(join(dir, "scripts"));
  // The runner and the optional-tool check it prints from.
  for (const file of ["test.mjs", "prerequisites.mjs"]) cpSync(`scripts/${file}`, join(dir, "scripts", file));
  symlinkSync(resolve("node_modules"), join(dir, "node_modules"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function runTests(dir: string): { status: number | null; lines: string[] } {
  const run = spawnSync(process.execPath, ["scripts/test.mjs"], { cwd: dir, encoding: "utf8", timeout: 90_000 });
  return { status: run.status, lines: run.stdout.trimEnd().split("\n") };
}

const SOME_SKIPPED = `import { it } from "vitest";
it("passes", () => {});
it.skip("is skipped", () => {});
it.todo("is to do");
`;

describe("npm test's runner", () => {
  it("Should end with N passed, N failed, N skipped, counting skipped and todo tests", () => {
    const dir = project({
      "vitest.config.ts": CONFIG.replace("FILE", "a.test.ts"),
      "vitest.node.config.ts": CONFIG.replace("FILE", "b.test.ts"),
      "vitest.cost.config.ts": CONFIG.replace("FILE", "c.test.ts"),
      "a.test.ts": SOME_SKIPPED,
      "b.test.ts": SOME_SKIPPED,
      "c.test.ts": SOME_SKIPPED,
    });
    const run = runTests(dir);
    expect({ status: run.status, last: run.lines.at(-1) }, run.lines.join("\n")).toEqual({ status: 0, last: "3 passed, 0 failed, 6 skipped" });
  }, 100_000);

  it("Should count a suite whose vitest config is missing as failed, and exit non-zero", () => {
    const dir = project({
      "vitest.node.config.ts": CONFIG.replace("FILE", "b.test.ts"), "b.test.ts": SOME_SKIPPED,
      "vitest.cost.config.ts": CONFIG.replace("FILE", "c.test.ts"), "c.test.ts": SOME_SKIPPED,
    });
    const run = runTests(dir);
    expect(run.lines).toContain("[edgepush] suite workers: vitest.config.ts is missing; counting it as failed");
    expect({ status: run.status, last: run.lines.at(-1) }).toEqual({ status: 1, last: "2 passed, 1 failed, 4 skipped" });
  }, 100_000);
});
