// Child processes in process groups of their own, stopped as whole trees: nothing `npm start` or
// `npm run serve` starts may outlive them. wrangler can exit before its workerd, tsx runs the shim
// in a child node, and workerd ignores SIGTERM while clients hold keep-alive connections.
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";

const WINDOWS = process.platform === "win32";
/** `spawn`'s `detached` for a process group of its own: on Windows it opens a console window instead. */
export const DETACHED = !WINDOWS;

/**
 * `spawn` in a new process group (POSIX), so `stopGroups` reaches every process it starts.
 * @example const child = spawnGroup("wrangler", ["dev"], { stdio: "inherit" })
 */
export function spawnGroup(command, args, options = {}) {
  return spawn(command, args, { ...options, detached: DETACHED });
}

/**
 * Stops each child's whole process group: SIGTERM, then SIGKILL after `graceMs`. Resolves once
 * no process of any group is left.
 */
export async function stopGroups(children, { graceMs = 3000 } = {}) {
  const pids = children.map((child) => child.pid).filter((pid) => pid !== undefined);
  if (WINDOWS) {
    // No process groups there: taskkill /T walks the tree.
    for (const pid of pids) spawnSync("taskkill", ["/pid", String(pid), "/T", "/F"], { stdio: "ignore" });
    return;
  }
  for (const pid of pids) signalGroup(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (pids.some(groupAlive) && Date.now() < deadline) await sleep(50);
  for (const pid of pids.filter(groupAlive)) signalGroup(pid, "SIGKILL");
  while (pids.some(groupAlive) && Date.now() < deadline + 2000) await sleep(50);
}

/**
 * Calls `stop(reason)` once: on SIGINT, SIGTERM or SIGHUP, or when the parent goes away. npm runs
 * scripts through `sh -c`, which dies of a forwarded SIGTERM without passing it on; being
 * reparented is how this process learns of it.
 */
export function onStopRequest(stop) {
  let asked = false;
  const once = (reason) => {
    if (asked) return;
    asked = true;
    stop(reason);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => once(signal));
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && once("parent exited"), 250).unref();
}

/**
 * The `{host, port}` entries something already listens on (tried by listening on each).
 * @example await busyPorts([{ host: "127.0.0.1", port: 8787 }])
 */
export async function busyPorts(addresses) {
  const busy = [];
  for (const address of addresses) {
    const free = await new Promise((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(address.port, address.host, () => server.close(() => resolve(true)));
    });
    if (!free) busy.push(address);
  }
  return busy;
}

/** One line: which ports are taken and the commands that show what holds them. */
export function busyPortsMessage(busy, retry) {
  const where = busy.map((a) => `${a.host}:${a.port}`).join(" and ");
  const lsof = `lsof -i ${busy.map((a) => `:${a.port}`).join(" -i ")}`;
  const ss = `ss -ltnp | grep -E ':(${busy.map((a) => a.port).join("|")}) '`;
  return `[edgepush] ${where} ${busy.length > 1 ? "are" : "is"} already in use (another npm start?): ` +
    `see what holds ${busy.length > 1 ? "them" : "it"} with \`${lsof}\` or \`${ss}\`; stop it, or use other ports: ${retry}`;
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
