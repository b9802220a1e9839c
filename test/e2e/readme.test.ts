/**
 * The README as a newcomer follows it: every code block runs, in order, in one session on a fresh
 * copy of the project (no .dev.vars, no .wrangler state), with the user's Node and the ports
 * swapped for free ones. A block shows what it prints with `# → …` / `// → …` lines, and they are
 * checked. Blocks that cannot run here say why with `<!-- not-run: why -->`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { TestRunner, afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshCopy } from "./npm-process";
import { skippableMissing } from "./prerequisites";
import { codeBlocks, expectation, localize, toolsFor, type CodeBlock } from "./readme-blocks";
import { freePort } from "./wrangler-dev";

const blocks = codeBlocks(readFileSync("README.md", "utf8"));
const RUNNERS = ["sh", "bash", "shell", "js", "javascript", "ts", "typescript", "php", "json"];
const runnable = blocks.filter((b) => !b.notRun && RUNNERS.includes(b.lang));
/** Browser-side code: it keeps running as a client while the blocks after it push to it. */
const isClient = (b: CodeBlock) => ["js", "javascript"].includes(b.lang) && /new WebSocket\(|EdgePushClient/.test(b.code);

interface Run {
  block: CodeBlock;
  child: ChildProcess;
  output: string;
  exit: number | null;
}
const runs: Run[] = [];
let session: string;
let port: number;
let shimPort: number;
/** wrangler's debugger: parallel `npm start`s in other test files would race for its default 9229. */
let inspectorPort: number;

beforeAll(async () => {
  session = freshCopy("edgepush-readme-");
  [port, shimPort, inspectorPort] = [await freePort(), await freePort(), await freePort()];
});
afterAll(async () => {
  await Promise.all(runs.map((r) => stopGroup(r.child)));
  if (session) rmSync(session, { recursive: true, force: true });
});

/** A newcomer's shell: their PATH (no node_modules/.bin), and what the tour exported from .dev.vars. */
function shellEnv(): NodeJS.ProcessEnv {
  const PATH = (process.env.PATH ?? "").split(delimiter).filter((d) => !d.includes("node_modules")).join(delimiter);
  const env: NodeJS.ProcessEnv = {
    PATH, HOME: process.env.HOME, PORT: String(port), SHIM_PORT: String(shimPort), INSPECTOR_PORT: String(inspectorPort),
    // The README's default URL, moved to the session's port like the URLs in the blocks.
    EDGEPUSH_URL: `http://127.0.0.1:${port}`,
    WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false",
  };
  const devVars = join(session, ".dev.vars");
  if (existsSync(devVars)) {
    for (const [, key, value] of readFileSync(devVars, "utf8").matchAll(/^(PUSH_SECRET|TOKEN_SECRET)=(.*)$/gm)) env[key] = value;
  }
  return env;
}

function command(block: CodeBlock, code: string): [string, string[]] {
  switch (block.lang) {
    case "sh": case "bash": case "shell":
      return ["bash", ["-e", "-o", "pipefail", "-c", code]];
    case "js": case "javascript":
      // Node 22 (the one running the tests) has the browser's WebSocket; `alert` prints.
      return [process.execPath, ["--input-type=module", "-e", `globalThis.alert = (m) => console.log(String(m));\n${code}`]];
    case "ts": case "typescript": {
      const file = join(session, `readme-block-${block.index}.ts`);
      writeFileSync(file, code);
      return ["npx", ["tsx", file]];
    }
    case "php":
      return ["php", ["-r", code.replace(/^<\?php\s*/, "")]];
    default:
      throw new Error(`no runner for ${block.lang}`);
  }
}

function start(block: CodeBlock): Run {
  const [cmd, args] = command(block, localize(block.code, port, shimPort));
  // Its own process group, so a background `npm start &` can be stopped with everything it started.
  const child = spawn(cmd, args, { cwd: session, env: shellEnv(), detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const run: Run = { block, child, output: "", exit: null };
  child.stdout!.on("data", (d) => (run.output += d));
  child.stderr!.on("data", (d) => (run.output += d));
  child.on("exit", (code, signal) => (run.exit = code ?? (signal ? 128 : -1)));
  runs.push(run);
  return run;
}

/** Outside CI, a block that needs a missing tool (PHP, Chromium) is skipped, saying which. */
const skippedForTools: CodeBlock[] = [];
function skipIfToolsMissing(block: CodeBlock): void {
  const missing = skippableMissing(toolsFor(block));
  if (missing.length === 0) return;
  skippedForTools.push(block);
  TestRunner.getCurrentTest()!.context.skip(`needs ${missing.join(" and ")}, which is not installed`);
}

const missing = (run: Run) => run.block.expects.filter((e) => !expectation(e).test(run.output));

async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

function stopGroup(child: ChildProcess): Promise<void> {
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is gone
    }
  };
  kill("SIGTERM");
  return new Promise((done) => setTimeout(() => (kill("SIGKILL"), done()), 3000));
}

describe("README, followed block by block", () => {
  it("Should run every code block or say why not", () => {
    const notRun = blocks.filter((b) => b.notRun);
    const text = blocks.filter((b) => !b.notRun && b.lang === "" && b.expects.length === 0);
    const unknown = blocks.filter((b) => !b.notRun && !RUNNERS.includes(b.lang) && !text.includes(b));
    expect(unknown.map((b) => `line ${b.line}: \`\`\`${b.lang} has no runner; mark it <!-- not-run: why -->`)).toEqual([]);
    expect(notRun.filter((b) => b.notRun!.length < 10).map((b) => `line ${b.line}`)).toEqual([]);
    console.log(`[readme] ${blocks.length} blocks: ${runnable.length} run, ${notRun.length} not run (${notRun.map((b) => b.notRun).join("; ")}), ${text.length} plain text`);
    expect(runnable.length).toBeGreaterThanOrEqual(5);
  });

  it.each(runnable.map((b) => [`${b.index} (${b.lang}, line ${b.line})`, b] as const))(
    "Should run README block %s and print what it promises",
    async (_name, block) => {
      skipIfToolsMissing(block);
      if (block.lang === "json") return void expect(() => JSON.parse(block.code)).not.toThrow();
      const run = start(block);
      if (isClient(block)) {
        // A client runs on while the next blocks push to it; it must at least start cleanly.
        await until(() => run.exit !== null, 3000);
        expect({ exit: run.exit, output: run.output }).toEqual({ exit: null, output: expect.any(String) });
        return;
      }
      await until(() => run.exit !== null, 150_000);
      // Background jobs (the tour's client) may print after the script ends.
      await until(() => missing(run).length === 0, 10_000);
      expect({ exit: run.exit, missing: missing(run) }, run.output).toEqual({ exit: 0, missing: [] });
    },
    180_000,
  );

  it("Should have shown every client block the pushes the README promises", async () => {
    // A client's promised pushes may come from a later block that was skipped for a missing tool.
    const clients = runs.filter((r) => isClient(r.block) && !skippedForTools.some((b) => b.index > r.block.index));
    await until(() => clients.every((r) => missing(r).length === 0), 15_000);
    for (const run of clients) expect({ line: run.block.line, missing: missing(run) }, run.output).toEqual({ line: run.block.line, missing: [] });
  }, 30_000);
});
