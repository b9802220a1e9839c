/** `npm start` / `npm run serve` as a user runs them: a fresh copy of the project, the real npm, its process tree. */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { request, type Agent } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

/** The project's files as a clone would have them (no .dev.vars, no .wrangler state), plus the installed node_modules. */
export function freshCopy(prefix = "edgepush-copy-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"]).toString().split("\0");
  for (const file of files) {
    if (!file || !existsSync(file)) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(file, join(dir, file));
  }
  symlinkSync(resolve("node_modules"), join(dir, "node_modules"));
  return dir;
}

export interface NpmRun {
  child: ChildProcess;
  output(): string;
  /** Exit code, or 128 + n for a signal. */
  exited: Promise<number>;
}

/** Runs `npm <args>` in `cwd`, capturing its output. */
export function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv): NpmRun {
  const child = spawn("npm", args, { cwd, env: { ...env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" } });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number>((done) => child.on("exit", (code, signal) => done(code ?? (signal ? 128 : -1))));
  return { child, output: () => output, exited };
}

/** Every process below `pid` (by parent), with its command. */
export function descendants(pid: number): { pid: number; command: string }[] {
  const rows = execFileSync("ps", ["-eo", "pid=,ppid=,args="]).toString().trim().split("\n");
  const table = rows.map((row) => {
    const [, child, parent, command] = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(row) ?? [];
    return { pid: Number(child), ppid: Number(parent), command };
  });
  const found: { pid: number; command: string }[] = [];
  const walk = (parent: number) => {
    for (const row of table.filter((r) => r.ppid === parent)) {
      found.push({ pid: row.pid, command: row.command });
      walk(row.pid);
    }
  };
  walk(pid);
  return found;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether anything accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => (socket.destroy(), done(true)));
    socket.once("error", () => done(false));
  });
}

/** Resolves once `check()` is true; fails after `ms` naming `what`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Last resort for a failed test: nothing it started may outlive the run. */
export function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** `GET url` over a keep-alive `agent`, whose socket stays open afterwards; resolves with the status. */
export function keepAliveGet(agent: Agent, url: string): Promise<number> {
  return new Promise((done, fail) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on("end", () => done(res.statusCode ?? 0));
    });
    req.on("error", fail);
    req.end();
  });
}
