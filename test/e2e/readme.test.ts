/**
 * The README as a newcomer follows it: every code block runs, in order, in one session on a fresh
 * copy of the project (no .dev.vars, no .wrangler state), with the user's Node and the ports
 * swapped for free ones. A block shows what it prints with `# → …` / `// → …` lines, and each is
 * checked as a whole line of its stdout (`<!-- expect-stderr: … -->` for stderr). Blocks that
 * cannot run here say why with `<!-- not-run: why -->`. A block that fails does so within 30 s.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { TestRunner, afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshCopy } from "./npm-process";
import { skippableMissing } from "./prerequisites";
import { codeBlocks, localize, toolsFor, unmet, type CodeBlock } from "./readme-blocks";
import { freePort } from "./wrangler-dev";

const blocks = codeBlocks(readFileSync("README.md", "utf8"));
const RUNNERS = ["sh", "bash", "shell", "js", "javascript", "ts", "typescript", "php", "json"];
const runnable = blocks.filter((b) => !b.notRun && RUNNERS.includes(b.lang));
/** Browser-side code: it keeps running as a client while the blocks after it push to it. */
const isClient = (b: CodeBlock) => ["js", "javascript"].includes(b.lang) && /new WebSocket\(|EdgePushClient/.test(b.code);

/** How long a block may take to show it works (its exit, and its promised lines): a failing one fails within 30 s. */
const BLOCK_MS = 25_000;
/** How long output may trail a block's exit: its background jobs (the tour's client) print after the script ends. */
const TRAIL_MS = 5000;

interface Run {
  block: CodeBlock;
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: number | null;
}
const runs: Run[] = [];
let session: string;
let port: number;
let shimPort: number;
/** wrangler's debugger: parallel `npm start`s in other test files would race for its default 9229. */
let inspectorPort: number;

/**
 * Read by the blocks' bash (BASH_ENV): curl's answer goes out as one line, written at once, as a
 * terminal shows it on a line of its own (the prompt follows). Otherwise the output of `npm start &`
 * or of a background client, printing meanwhile, lands inside or right after it.
 */
const CURL_LINES = `curl() {
  local out rc=0
  out=$(command curl "$@") || rc=$?
  [ -z "$out" ] || printf '%s\\n' "$out"
  return $rc
}
`;
const BASH_ENV = ".readme-test-bash-env";

beforeAll(async () => {
  session = freshCopy("edgepush-readme-");
  writeFileSync(join(session, BASH_ENV), CURL_LINES);
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
    PATH, HOME: process.env.HOME, BASH_ENV: join(session, BASH_ENV), PORT: String(port), SHIM_PORT: String(shimPort),
    INSPECTOR_PORT: String(inspectorPort),
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
    case "json":
      // The README's JSON is a `POST /push` body: it must be accepted as one.
      return [process.execPath, ["--input-type=module", "-e", postPushBody(code)]];
    default:
      throw new Error(`no runner for ${block.lang}`);
  }
}

function postPushBody(body: string): string {
  return `const res = await fetch(process.env.EDGEPUSH_URL + "/push", {
    method: "POST", body: ${JSON.stringify(body)},
    headers: { Authorization: "Bearer " + process.env.PUSH_SECRET, "Content-Type": "application/json" },
  });
  const text = await res.text();
  console.log(res.status, text);
  const answer = JSON.parse(text);
  process.exit(res.status === 200 && [answer.results ?? answer].flat().every((a) => a.ok === true) ? 0 : 1);`;
}

function start(block: CodeBlock): Run {
  const [cmd, args] = command(block, localize(block.code, port, shimPort));
  // Its own process group, so a background `npm start &` can be stopped with everything it started.
  const child = spawn(cmd, args, { cwd: session, env: shellEnv(), detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const run: Run = { block, child, stdout: "", stderr: "", exit: null };
  child.stdout!.on("data", (d) => (run.stdout += d));
  child.stderr!.on("data", (d) => (run.stderr += d));
  child.on("exit", (code, signal) => (run.exit = code ?? (signal ? 128 : -1)));
  // A runner that is not installed fails the block at once, not at the deadline.
  child.on("error", (err) => {
    run.stderr += `${err.message}\n`;
    run.exit ??= 127;
  });
  runs.push(run);
  return run;
}

/** Outside CI, a block that needs a missing tool (PHP, Chromium) is skipped, saying which. */
const skippedForTools: CodeBlock[] = [];
function skipIfToolsMissing(block: CodeBlock): void {
  const lacking = skippableMissing(toolsFor(block));
  if (lacking.length === 0) return;
  skippedForTools.push(block);
  TestRunner.getCurrentTest()!.context.skip(`needs ${lacking.join(" and ")}, which is not installed`);
}

const missing = (run: Run) => [
  ...unmet(run.block.expects, run.stdout),
  ...unmet(run.block.stderrExpects, run.stderr).map((e) => `stderr: ${e}`),
];
const shown = (run: Run) => `exit ${run.exit}\n--- stdout\n${run.stdout}--- stderr\n${run.stderr}`;

/** Connections the session's edgepush counts (GET /stats); 0 before it is up. */
async function connections(): Promise<number> {
  const env = shellEnv();
  const res = await fetch(`${env.EDGEPUSH_URL}/stats`, { headers: { Authorization: `Bearer ${env.PUSH_SECRET}` } }).catch(() => null);
  return res?.ok ? ((await res.json()) as { connections: number }).connections : 0;
}

async function until(done: () => boolean | Promise<boolean>, deadline: number): Promise<void> {
  while (!(await done()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
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
      const deadline = Date.now() + BLOCK_MS;
      if (isClient(block)) {
        // A client runs on while the next blocks push to it: it is ready once edgepush counts its
        // connection, and what it prints is checked after them.
        expect(block.expects.length + block.stderrExpects.length, "a client block must say what it prints").toBeGreaterThan(0);
        const before = await connections();
        const run = start(block);
        let connected = false;
        await until(async () => run.exit !== null || (connected = (await connections()) > before), deadline);
        expect({ connected, exit: run.exit }, shown(run)).toEqual({ connected: true, exit: null });
        return;
      }
      const run = start(block);
      await until(() => run.exit !== null, deadline);
      if (run.exit === 0) await until(() => missing(run).length === 0, Math.min(deadline, Date.now() + TRAIL_MS));
      expect({ exit: run.exit, missing: missing(run) }, shown(run)).toEqual({ exit: 0, missing: [] });
    },
    BLOCK_MS + 10_000,
  );

  it("Should have shown every client block the pushes the README promises", async () => {
    // A client's promised pushes may come from a later block that was skipped for a missing tool.
    const clients = runs.filter((r) => isClient(r.block) && !skippedForTools.some((b) => b.index > r.block.index));
    await until(() => clients.every((r) => missing(r).length === 0), Date.now() + BLOCK_MS);
    for (const run of clients) expect({ line: run.block.line, missing: missing(run) }, shown(run)).toEqual({ line: run.block.line, missing: [] });
  }, BLOCK_MS + 10_000);
});
