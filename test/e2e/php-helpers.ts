/** PHP, the shim CLI and seed-style WebSocket clients for the end-to-end tests. */
import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { resolve } from "node:path";
import { hasExited } from "./wrangler-dev";

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (PHP here), capturing its output. */
export function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", (err) => fail(new Error(`${command} could not run (${err.message}); install php-cli`)));
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

/** Resolves with `check()`'s value once it is defined; fails after 20 s naming `what`. */
export async function until<T>(check: () => T | undefined | Promise<T | undefined>, what: () => string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ShimProcess {
  port: number;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts the shim CLI (`tsx shim/index.ts`) on a free port, forwarding to `url`. */
export async function startShimProcess(url: string, secret: string): Promise<ShimProcess> {
  const child = spawn(resolve("node_modules/.bin/tsx"), [resolve("shim/index.ts"), "--port", "0", "--url", url], {
    env: { ...process.env, PUSH_SECRET: secret },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const match = await until(() => {
    if (hasExited(child)) throw new Error(`the shim exited ${child.exitCode ?? child.signalCode}: ${stderr}`);
    return /shim on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(stdout) ?? undefined;
  }, () => `the shim to listen; stderr: ${stderr}`);
  return { port: Number(match[1]), stderr: () => stderr, stop: () => stop(child) };
}

function stop(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      done();
    });
    child.kill("SIGTERM");
  });
}

export interface SeedClient {
  ws: WebSocket;
  messages: string[];
  close(): void;
}

/**
 * What the seeds' JavaScript does, pointed at edgepush: connect to /ws, send the uid as the
 * first frame, then take every message as it comes.
 */
export function seedClient(wsUrl: string, uid: string): Promise<SeedClient> {
  const ws = new WebSocket(`${wsUrl}/ws`);
  const messages: string[] = [];
  ws.onmessage = (e) => messages.push(String(e.data));
  return new Promise((done, fail) => {
    ws.onopen = () => {
      ws.send(uid);
      done({ ws, messages, close: () => ws.close() });
    };
    ws.onerror = () => fail(new Error(`could not connect to ${wsUrl}/ws`));
  });
}

/** Status of a WebSocket upgrade request (Node's fetch will not send `Upgrade`). */
export function upgradeStatus(url: string): Promise<number> {
  return new Promise((done, fail) => {
    const req = request(url, {
      headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" },
    });
    req.on("response", (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      done(res.statusCode ?? 101);
    });
    req.on("error", fail);
    req.end();
  });
}
