/** Starts a real `wrangler dev` on free ports with known secrets, for end-to-end tests. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const E2E_PUSH_SECRET = "e2e-push-secret";
export const E2E_TOKEN_SECRET = "e2e-token-secret";

export interface DevServer {
  url: string;
  wsUrl: string;
  port: number;
  stop(): Promise<void>;
}

/** `POST /push` to `server` with the e2e secret; fails the test unless it answers 200. */
export async function backendPush(server: DevServer, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}/push`, {
    method: "POST",
    headers: { Authorization: `Bearer ${E2E_PUSH_SECRET}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`push answered ${res.status}: ${JSON.stringify(answer)}`);
  return answer;
}

/**
 * Whether `child` is gone: one that died of a signal keeps `exitCode` null (its `signalCode` is
 * set), and its "exit" event has already fired, so a stop that waits for it would wait forever.
 */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Ports this process handed out: one is bound seconds after it is drawn, so never draw it twice. */
const handed = new Set<number>();

/**
 * A free TCP port on 127.0.0.1, drawn at random below the ephemeral range (32768+ on Linux): a port
 * the kernel hands out for `listen(0)` could go to a parallel test file's process (or to another
 * wrangler's internal sockets) before the server this port is meant for binds it. Each vitest
 * worker draws from its own band of 3,000 (concurrent files have distinct VITEST_POOL_IDs), so two
 * files starting servers at once never draw the same port.
 */
export async function freePort(): Promise<number> {
  const band = (Number(process.env.VITEST_POOL_ID ?? 1) - 1) % 4;
  for (;;) {
    const port = 20_000 + band * 3_000 + Math.floor(Math.random() * 3_000);
    if (handed.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) {
      handed.add(port);
      return port;
    }
  }
}

/**
 * Starts wrangler dev; `vars` override the defaults (legacy handshake on). With `persist`, the
 * state lives in that folder and outlives stop() (a restart on the same state).
 */
export async function startWranglerDev(vars: Record<string, string> = {}, opts: { persist?: string } = {}): Promise<DevServer> {
  const port = await freePort();
  const inspector = await freePort();
  const persist = opts.persist ?? mkdtempSync(join(tmpdir(), "edgepush-e2e-"));
  const cleanUp = () => opts.persist === undefined && rmSync(persist, { recursive: true, force: true });
  const allVars = { PUSH_SECRET: E2E_PUSH_SECRET, TOKEN_SECRET: E2E_TOKEN_SECRET, LEGACY_UID_HANDSHAKE: "true", ...vars };
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector),
    "--persist-to", persist, "--show-interactive-dev-session=false", "--log-level", "warn"];
  for (const [key, value] of Object.entries(allVars)) args.push("--var", `${key}:${value}`);
  const child = spawn("wrangler", args, {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true" },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so stop() also ends workerd even if wrangler dies first.
    detached: true,
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilUp(url, child, () => output);
  } catch (err) {
    await kill(child);
    cleanUp();
    throw err;
  }
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    async stop() {
      await kill(child);
      cleanUp();
    },
  };
}

async function waitUntilUp(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (hasExited(child)) throw new Error(`wrangler dev exited ${child.exitCode ?? child.signalCode}:\n${output()}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not come up in 90 s:\n${output()}`);
}

function kill(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => signalGroup(child, "SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    signalGroup(child, "SIGTERM");
  });
}

// Detached groups miss a Ctrl-C meant for the test run: end them when this process exits.
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) signalGroup(child, "SIGKILL");
});

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal);
  }
}
