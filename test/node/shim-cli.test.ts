import { pathToFileURL } from "node:url";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort, hasExited } from "../e2e/wrangler-dev";
import { FAKE_SECRET, connectBackend, startFakeEdgepush, waitFor, type FakeEdgepush } from "./shim-helpers";

// tsx's loader in the shim's own process: a signal reaches the shim itself, not a tsx parent that
// SIGKILLs a child slow to confirm its handler on a loaded machine (and then exits 143).
const TSX_LOADER = pathToFileURL(resolve("node_modules/tsx/dist/loader.mjs")).href;
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
  for (const child of children.splice(0)) {
    if (hasExited(child)) continue;
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // exited between the check and the kill
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the shim CLI in a fresh directory holding `devVars` as its .dev.vars. */
function runShim(args: string[], env: Record<string, string | undefined>, devVars?: string): Running {
  dir = mkdtempSync(join(tmpdir(), "edgepush-shim-"));
  if (devVars !== undefined) writeFileSync(join(dir, ".dev.vars"), devVars);
  const { PUSH_SECRET: _, EDGEPUSH_URL: __, SHIM_PORT: ___, ...base } = process.env;
  const child = spawn(process.execPath, ["--import", TSX_LOADER, ENTRY, "--port", "0", "--url", edge.url, ...args], {
    cwd: dir, env: { ...base, ...env }, detached: true,
  });
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

  it("Should check the secret with edgepush at start, say it was accepted, and answer lines", async () => {
    const shim = runShim([], { PUSH_SECRET: FAKE_SECRET });
    const port = await listeningPort(shim);
    await waitFor(() => (shim.stdout().includes(`shim: edgepush at ${edge.url} accepted PUSH_SECRET`) ? true : undefined), () => shim.stdout());
    expect(edge.statsChecks).toBeGreaterThan(0);
    expect(await pushOnce(port)).toBe("ok");
    expect(shim.child.exitCode).toBe(null);
  });

  it("Should exit 1 at start when edgepush refuses the secret, naming the problem and never the secret", async () => {
    const shim = runShim([], { PUSH_SECRET: "wrong-secret-value" });
    expect(await shim.exited).toBe(1);
    expect(shim.stderr()).toMatch(
      /^\[shim\] edgepush at http:\/\/127\.0\.0\.1:\d+ refused PUSH_SECRET from environment \(HTTP 401 unauthorized: wrong PUSH_SECRET\): give the shim the Worker's secret/m,
    );
    expect(shim.stdout() + shim.stderr()).not.toContain("wrong-secret-value");
  });

  it("Should wait for an edgepush that comes up after it, answering fail meanwhile, then keep serving", async () => {
    const late = await freePort();
    const shim = runShim(["--url", `http://127.0.0.1:${late}`, "--wait", "30"], { PUSH_SECRET: FAKE_SECRET });
    const port = await listeningPort(shim);
    await waitFor(() => (/waiting up to 30 s for edgepush at http:\/\/127\.0\.0\.1:\d+ to answer \(ECONNREFUSED\)/.test(shim.stderr()) ? true : undefined), () => shim.stderr());
    expect(await pushOnce(port)).toBe("fail");
    const lateEdge = await startFakeEdgepush(late);
    try {
      await waitFor(() => (shim.stdout().includes("accepted PUSH_SECRET") ? true : undefined), () => shim.stdout());
      expect(await pushOnce(port)).toBe("ok");
      expect(shim.child.exitCode).toBe(null);
    } finally {
      await lateEdge.close();
    }
  });

  it("Should exit 1 naming the URL and what to do when edgepush never answers within --wait", async () => {
    const nobody = await freePort();
    const started = Date.now();
    const shim = runShim(["--url", `http://127.0.0.1:${nobody}`, "--wait", "1"], { PUSH_SECRET: FAKE_SECRET });
    expect(await shim.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(shim.stderr()).toContain(`[shim] edgepush at http://127.0.0.1:${nobody} did not answer in 1 s (ECONNREFUSED): start it (npm start`);
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
    process.kill(shim.child.pid!, "SIGTERM");
    expect(await shim.exited).toBe(0);
  });

  it("Should stop cleanly on a SIGTERM sent the moment its start-up line appears", async () => {
    // A supervisor that signals on the line: before the handlers went in ahead of the line, this
    // died of the signal (exit code null) in about half the runs on a busy machine.
    for (let i = 0; i < 5; i++) {
      const shim = runShim([], { PUSH_SECRET: FAKE_SECRET });
      shim.child.stdout!.on("data", (d) => /shim on tcp:/.test(String(d)) && shim.child.kill("SIGTERM"));
      expect(await shim.exited).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
