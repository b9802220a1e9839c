// `npm run serve`'s guard rails: the file-descriptor limit (raised to the hard limit, turned into
// a connection capacity the Worker enforces with 503s) and a supervisor that restarts workerd if it
// ever exits on its own. Kept apart from serve.mjs's option handling and signals. Runs on Node 22.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Descriptors a WebSocket holds in workerd, and a loaded room's SQLite files (src/room/capacity.ts). */
const FDS_PER_SOCKET = 2;
const FDS_PER_ROOM = 3;
/**
 * workerd's own files and listening socket, backends' HTTP connections (keep-alive pools), and a
 * slice of the limit for what these estimates miss: at its limit workerd's accept() fails and the process exits.
 */
const BASE_RESERVE = 64;
const HTTP_RESERVE = 128;
const SLACK = 1 / 50;

/**
 * The shell's soft and hard limits on open files. Node cannot call setrlimit, so workerd is
 * started through `sh -c 'ulimit -n …; exec workerd …'` instead (see `startWorkerd`).
 * @returns {{ soft: number, hard: number }}
 */
export function fileLimits() {
  const [soft, hard] = execFileSync("sh", ["-c", "ulimit -Sn; ulimit -Hn"], { encoding: "utf8" }).trim().split("\n");
  const most = () => Number(readFileSync("/proc/sys/fs/nr_open", "utf8").trim());
  const value = (text) => (text === "unlimited" ? most() : Number(text));
  return { soft: value(soft), hard: value(hard) };
}

/**
 * What a file limit holds: the budget left for WebSockets and their rooms after the reserve, and
 * how many sockets that is when they share group rooms or each sit alone in a uid room.
 * @example workerdCapacity(1024, 16) // { budget: 764, groupSockets: 382, uidSockets: 152, … }
 * @param {number} limit
 * @param {number} directoryShards  each shard is a Durable Object with SQLite files of its own
 */
export function workerdCapacity(limit, directoryShards) {
  const reserve = BASE_RESERVE + HTTP_RESERVE + FDS_PER_ROOM * directoryShards + Math.floor(limit * SLACK);
  const budget = Math.max(0, limit - reserve);
  return {
    limit, reserve, budget,
    groupSockets: Math.floor(budget / FDS_PER_SOCKET),
    uidSockets: Math.floor(budget / (FDS_PER_SOCKET + FDS_PER_ROOM)),
  };
}

/** The start-up line that says what the server holds and how to raise it. */
export function capacityLine({ soft, hard }, capacity) {
  const n = (x) => x.toLocaleString("en-US");
  const raised = hard > soft ? `raised from ${n(soft)} to the hard limit ${n(hard)}` : `${n(hard)} (soft = hard)`;
  return `[edgepush] open-file limit ${raised}: room for about ${n(capacity.groupSockets)} WebSockets in group rooms ` +
    `or ${n(capacity.uidSockets)} each alone in a uid room (FD_BUDGET ${n(capacity.budget)}); more get 503 server_full. ` +
    "Raise the hard limit (ulimit -Hn, systemd LimitNOFILE=, docker --ulimit nofile=) for more.";
}

/**
 * The FD_BUDGET var the Worker and rooms enforce: what the file limit holds (the line saying so is
 * printed), or an FD_BUDGET set by hand when that is lower.
 * @param {{ soft: number, hard: number }} limits
 * @param {Record<string, unknown>} configured  the vars as configured (wrangler.toml, environment, --var)
 */
export function capacityBudget(limits, configured, log = console.log) {
  const capacity = workerdCapacity(limits.hard, Number(configured.DIRECTORY_SHARDS ?? 16));
  log(capacityLine(limits, capacity));
  const asked = Number(configured.FD_BUDGET);
  if (configured.FD_BUDGET === undefined || !(asked > 0)) return String(capacity.budget);
  if (asked > capacity.budget) log(`[edgepush] FD_BUDGET ${asked} is over what the file limit holds; using ${capacity.budget}`);
  return String(Math.min(asked, capacity.budget));
}

/**
 * Keeps workerd running: `start()` starts one and resolves once it serves; if it exits while
 * `stopping()` is false, it is started again (at once, then 1 s, 2 s … 30 s apart while it keeps
 * failing within a minute) and the log says so. Never gives up: clients reconnect and resume
 * with `since`.
 * @param {() => Promise<import("node:child_process").ChildProcess>} start
 * @param {{ stopping: () => boolean, log?: (line: string) => void }} options
 * @returns {Promise<{ readonly child: import("node:child_process").ChildProcess }>}
 */
export async function superviseWorkerd(start, { stopping, log = console.log }) {
  let child = await start();
  let failures = 0;
  const backoff = () => Math.min(30_000, 1000 * 2 ** Math.min(failures - 2, 5));
  const restart = async () => {
    if (stopping()) return;
    try {
      child = await start();
    } catch (err) {
      failures++;
      log(`[edgepush] workerd did not come back (${err instanceof Error ? err.message : err}); trying again in ${backoff() / 1000} s`);
      return void setTimeout(restart, backoff());
    }
    log(`[edgepush] workerd is serving again (pid ${child.pid})`);
    watch(child, Date.now());
  };
  const watch = (proc, startedAt) => proc.once("exit", (code, signal) => {
    if (stopping()) return;
    failures = Date.now() - startedAt > 60_000 ? 1 : failures + 1;
    const delay = failures <= 1 ? 0 : backoff();
    log(`[edgepush] workerd exited unexpectedly (${signal ?? `exit code ${code}`}); restarting it` +
      `${delay ? ` in ${delay / 1000} s` : ""}: clients reconnect and resume with since, so nothing logged is lost`);
    setTimeout(restart, delay);
  });
  watch(child, Date.now());
  return {
    get child() {
      return child;
    },
  };
}
