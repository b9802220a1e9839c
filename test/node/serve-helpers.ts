/** `npm run serve` (scripts/serve.mjs) started for a test: a built Worker on plain workerd. */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, hasExited } from "../e2e/wrangler-dev";

export const SERVE_PUSH_SECRET = "serve-push-secret";
export const SERVE_TOKEN_SECRET = "serve-token-secret";
const toolEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

/** Builds the Worker once into a folder of its own, so parallel test files never share dist/. */
export function buildOnce(): string {
  const dist = mkdtempSync(join(tmpdir(), "edgepush-dist-"));
  execFileSync("wrangler", ["deploy", "--dry-run", "--outdir", dist], { env: { ...toolEnv, WRANGLER_LOG: "warn" }, stdio: "ignore" });
  return dist;
}

export interface Serving {
  url: string;
  wsUrl: string;
  child: ChildProcess;
  /** Everything serve printed so far. */
  output(): string;
  /** The pid of the workerd serving now (the newest `workerd pid` / `serving again (pid …)` line). */
  workerdPid(): number;
  waitFor(text: string | RegExp, ms?: number, from?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts serve on a free port with the test secrets; `ulimit` runs it under that open-file limit
 * (soft and hard), as a shell would.
 */
export async function startServing(dist: string, options: { vars?: string[]; ulimit?: number } = {}): Promise<Serving> {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), "edgepush-serve-"));
  const args = ["scripts/serve.mjs", "--no-build", "--dist", dist, "--port", String(port), "--data", data,
    ...(options.vars ?? []).flatMap((v) => ["--var", v])];
  const [command, argv] = options.ulimit === undefined
    ? [process.execPath, args]
    : ["sh", ["-c", `ulimit -n ${options.ulimit} && exec "$0" "$@"`, process.execPath, ...args]];
  const child = spawn(command, argv, { env: { ...toolEnv, PUSH_SECRET: SERVE_PUSH_SECRET, TOKEN_SECRET: SERVE_TOKEN_SECRET }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const serving: Serving = {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    child,
    output: () => output,
    workerdPid: () => Number([...output.matchAll(/workerd pid (\d+)|serving again \(pid (\d+)\)/g)].at(-1)?.slice(1).find(Boolean)),
    async waitFor(text, ms = 30_000, from = 0) {
      const deadline = Date.now() + ms;
      const seen = () => (typeof text === "string" ? output.indexOf(text, from) >= 0 : text.test(output.slice(from)));
      while (!seen()) {
        if (hasExited(child)) throw new Error(`serve exited ${child.exitCode ?? child.signalCode}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`serve never printed ${text}:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (!hasExited(child)) {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
      rmSync(data, { recursive: true, force: true });
    },
  };
  await serving.waitFor("[edgepush] serving on", 60_000);
  return serving;
}

/** An HS256 client token for `uid`, valid ten minutes. */
export function serveToken(uid: string, groups: string[] = []): string {
  const enc = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const body = `${enc({ alg: "HS256", typ: "JWT" })}.${enc({ sub: uid, groups, exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${body}.${createHmac("sha256", SERVE_TOKEN_SECRET).update(body).digest("base64url")}`;
}

/** `POST /push` with the test secret; the status and parsed answer (status 0 when unreachable). */
export async function servePush(serving: Serving, body: unknown): Promise<{ status: number; json: any }> {
  try {
    const res = await fetch(`${serving.url}/push`, {
      method: "POST",
      headers: { Authorization: `Bearer ${SERVE_PUSH_SECRET}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  } catch {
    return { status: 0, json: null };
  }
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
