import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FAKE_SECRET, connectBackend, startFakeEdgepush, waitFor, type FakeEdgepush } from "./shim-helpers";

const TSX = resolve("node_modules/.bin/tsx");
const ENTRY = resolve("shim/index.ts");

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

let edge: FakeEdgepush;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  edge = await startFakeEdgepush();
});
afterAll(async () => {
  await edge.close();
});
afterEach(() => {
  // The whole group: killing tsx alone would orphan the node process it runs the shim in.
  for (const child of children.splice(0)) if (child.exitCode === null) process.kill(-child.pid!, "SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the shim CLI in a fresh directory holding `devVars` as its .dev.vars. */
function runShim(args: string[], env: Record<string, string | undefined>, devVars?: string): Running {
  dir = mkdtempSync(join(tmpdir(), "edgepush-shim-"));
  if (devVars !== undefined) writeFileSync(join(dir, ".dev.vars"), devVars);
  const { PUSH_SECRET: _, EDGEPUSH_URL: __, SHIM_PORT: ___, ...base } = process.env;
  const child = spawn(TSX, [ENTRY, "--port", "0", "--url", edge.url, ...args], { cwd: dir, env: { ...base, ...env }, detached: true });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function listeningPort(shim: Running): Promise<number> {
  const line = await waitFor(() => /shim on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(shim.stdout()) ?? undefined, () => `the start-up line; stderr: ${shim.stderr()}`);
  return Number(line[1]);
}

async function pushOnce(port: number): Promise<string> {
  const backend = await connectBackend(port);
  backend.socket.write('{"uid":"on-cli","percent":"88%"}\n');
  const [answer] = await backend.lines(1);
  backend.socket.destroy();
  return answer;
}

describe("shim command line", () => {
  it("Should read PUSH_SECRET from .dev.vars and print where it listens and where it forwards", async () => {
    const shim = runShim([], {}, `TOKEN_SECRET=t\nPUSH_SECRET=${FAKE_SECRET}\n`);
    const port = await listeningPort(shim);
    expect(shim.stdout()).toContain(`→ ${edge.url}/push (PUSH_SECRET from .dev.vars)`);
    expect(shim.stdout()).not.toContain(FAKE_SECRET);
    expect(await pushOnce(port)).toBe("ok");
  });

  it("Should prefer PUSH_SECRET from the environment over .dev.vars", async () => {
    const shim = runShim([], { PUSH_SECRET: FAKE_SECRET }, "PUSH_SECRET=stale\n");
    expect(await pushOnce(await listeningPort(shim))).toBe("ok");
    expect(shim.stdout()).toContain("PUSH_SECRET from environment");
  });

  it("Should prefer --secret over the environment", async () => {
    const shim = runShim(["--secret", FAKE_SECRET], { PUSH_SECRET: "stale" });
    expect(await pushOnce(await listeningPort(shim))).toBe("ok");
  });

  it("Should answer fail with a wrong secret and log why without the secret", async () => {
    const shim = runShim([], { PUSH_SECRET: "wrong-secret-value" });
    expect(await pushOnce(await listeningPort(shim))).toBe("fail");
    const log = await waitFor(() => (shim.stderr().includes("401") ? shim.stderr() : undefined), "the failure log line");
    expect(log).toMatch(/^\[shim\] fail .* line 1: uid "on-cli": HTTP 401 unauthorized/m);
    expect(log).not.toContain("wrong-secret-value");
  });

  it("Should refuse to start without PUSH_SECRET, naming the variable", async () => {
    const shim = runShim([], {});
    expect(await shim.exited).toBe(1);
    expect(shim.stderr()).toMatch(/PUSH_SECRET is not set: add it to \.dev\.vars/);
  });

  it("Should refuse a bad port, naming the flag", async () => {
    const shim = runShim(["--port", "http"], { PUSH_SECRET: FAKE_SECRET });
    expect(await shim.exited).toBe(1);
    expect(shim.stderr()).toContain("--port / SHIM_PORT: expected an integer");
  });

  it("Should stop cleanly on SIGTERM", async () => {
    const shim = runShim([], { PUSH_SECRET: FAKE_SECRET });
    await listeningPort(shim);
    shim.child.kill("SIGTERM");
    expect(await shim.exited).toBe(0);
  });
});
