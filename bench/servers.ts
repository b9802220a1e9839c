/** The servers under test: edgepush on plain workerd or `wrangler dev`, and the thin baseline. */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { readWranglerSettings, startWorkerd, writeServeConfig } from "../scripts/serve-config.mjs";
import { freePort } from "../test/e2e/wrangler-dev";
import { addInvocationCounter, InvocationCounter } from "./do-count";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const BENCH_PUSH_SECRET = "bench-push-secret";
export const BENCH_TOKEN_SECRET = "bench-token-secret";
/** The Pusher app the bench configures on edgepush. */
export const BENCH_PUSHER = { id: "424242", key: "bench-pusher-key", secret: "bench-pusher-secret" } as const;
const TOOL_ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_LOG: "warn" };

/** edgepush, the thin baseline, or the durable baseline (the thin one plus a SQLite row per push). */
export type ServerKind = "edgepush" | "baseline" | "durable";

export interface Server {
  kind: ServerKind;
  /** How it runs: `serve` (plain workerd) or `wrangler` (`wrangler dev`). */
  mode: "serve" | "wrangler";
  url: string;
  wsUrl: string;
  /** The process the bench started (workerd, or wrangler's Node process). */
  pid: number;
  /** Durable Object requests as workerd traced them (servers started with `countInvocations`). */
  invocations?: InvocationCounter;
  /** Resident memory of the server's whole process tree, in bytes. */
  rss(): number;
  stop(): Promise<void>;
}

// Free ports are the tests' own (test/e2e/wrangler-dev.ts): below the kernel's ephemeral range, in a
// band per vitest worker (the bench smoke test runs beside other files), never handed out twice.
export { freePort };

/** Bundles the Worker exactly as `npm run build` does, into `outDir`. */
export function buildEdgepush(outDir: string): string {
  execFileSync("wrangler", ["deploy", "--dry-run", "--outdir", outDir], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"], env: TOOL_ENV });
  return join(outDir, "worker.js");
}

/** Bundles bench/baseline/worker.ts (Hono included) into `outDir`. */
export async function buildBaseline(outDir: string): Promise<string> {
  const outfile = join(outDir, "baseline.js");
  await build({
    entryPoints: [join(ROOT, "bench/baseline/worker.ts")],
    outfile, bundle: true, format: "esm", platform: "neutral", target: "es2022",
    conditions: ["workerd", "worker", "browser"], external: ["cloudflare:*"], logLevel: "warning",
  });
  return outfile;
}

/**
 * Starts a built Worker on plain `workerd serve` through the same config as `npm run serve`;
 * `countInvocations` adds a tail worker that counts Durable Object requests (bench/do-count.ts).
 */
export async function startServe(kind: ServerKind, workerPath: string, workDir: string, countInvocations = false): Promise<Server> {
  const port = await freePort();
  const settings = kind === "edgepush"
    ? await readWranglerSettings(join(ROOT, "wrangler.toml"))
    : { name: kind, compatibilityDate: "2026-11-01", compatibilityFlags: [], vars: {},
        durableObjects: [kind === "durable"
          ? { binding: "ROOMS", className: "DurableRoom", sql: true }
          : { binding: "ROOMS", className: "BaselineRoom", sql: false }] };
  const name = countInvocations ? `${kind}-counted` : kind;
  const dataDir = join(workDir, `${name}-data`);
  const vars: Record<string, string> = kind === "edgepush" ? { PUSHER_APP_ID: BENCH_PUSHER.id, PUSHER_APP_KEY: BENCH_PUSHER.key, PUSHER_APP_SECRET: BENCH_PUSHER.secret } : {};
  const configPath = writeServeConfig({
    settings, workerPath, dataDir, port, vars, secrets: kind === "edgepush" ? ["PUSH_SECRET", "TOKEN_SECRET"] : [],
  });
  const tailPort = countInvocations ? await freePort() : 0;
  if (countInvocations) addInvocationCounter(configPath, tailPort, settings.compatibilityDate);
  const env = { ...process.env, PUSH_SECRET: BENCH_PUSH_SECRET, TOKEN_SECRET: BENCH_TOKEN_SECRET };
  const log = createWriteStream(join(workDir, `${name}-server.log`));
  await new Promise((r) => log.once("open", r));
  const child = await startWorkerd(configPath, `http://127.0.0.1:${port}/health`, { env, stdio: log });
  const server = handle(kind, "serve", port, child);
  if (countInvocations) server.invocations = new InvocationCounter(`http://127.0.0.1:${tailPort}`);
  return server;
}

/** Starts edgepush under `wrangler dev` (proxy and inspector in front of workerd). */
export async function startWrangler(workDir: string): Promise<Server> {
  const port = await freePort();
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()),
    "--persist-to", join(workDir, "wrangler-data"), "--show-interactive-dev-session=false", "--log-level", "warn",
    "--var", `PUSH_SECRET:${BENCH_PUSH_SECRET}`, "--var", `TOKEN_SECRET:${BENCH_TOKEN_SECRET}`,
    "--var", `PUSHER_APP_ID:${BENCH_PUSHER.id}`, "--var", `PUSHER_APP_KEY:${BENCH_PUSHER.key}`, "--var", `PUSHER_APP_SECRET:${BENCH_PUSHER.secret}`];
  const log = createWriteStream(join(workDir, "wrangler-server.log"));
  await new Promise((r) => log.once("open", r));
  const child = spawn("wrangler", args, { cwd: ROOT, env: { ...TOOL_ENV, CI: "true" }, stdio: ["ignore", log, log] });
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}; see ${workDir}/wrangler-server.log`);
    if (Date.now() > deadline) throw new Error("wrangler dev did not come up in 90 s");
    const up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
    if (up) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return handle("edgepush", "wrangler", port, child);
}

function handle(kind: ServerKind, mode: Server["mode"], port: number, child: ChildProcess): Server {
  return {
    kind,
    mode,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    pid: child.pid!,
    rss: () => treeRss(child.pid!),
    stop: () => stopTree(child),
  };
}

function stopTree(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const pids = [child.pid!, ...descendants(child.pid!)];
    const timer = setTimeout(() => pids.forEach((pid) => signal(pid, "SIGKILL")), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      // wrangler's workerd children may outlive it for a moment.
      descendantsGone(pids).then(done);
    });
    signal(child.pid!, "SIGTERM");
  });
}

async function descendantsGone(pids: number[]): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const alive = pids.filter((pid) => readStat(pid) !== null);
    if (alive.length === 0) return;
    if (i === 30) alive.forEach((pid) => signal(pid, "SIGKILL"));
    await new Promise((r) => setTimeout(r, 100));
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** RSS in bytes of `pid` and every process below it (from /proc: Linux only). */
export function treeRss(pid: number): number {
  let total = 0;
  for (const p of [pid, ...descendants(pid)]) {
    const status = readStatus(p);
    const kb = status ? Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) : 0;
    total += kb * 1024;
  }
  return total;
}

function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (!stat) continue;
    // Field 4 of /proc/PID/stat, after the parenthesised command name.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    parents.set(ppid, [...(parents.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const walk = (p: number) => (parents.get(p) ?? []).forEach((c) => (out.push(c), walk(c)));
  walk(pid);
  return out;
}

function readStat(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
}

function readStatus(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
}
