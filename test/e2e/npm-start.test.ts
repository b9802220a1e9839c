/**
 * `npm start` as a user runs it, through the real npm, in a fresh copy of the project with its
 * own state folder (EDGEPUSH_STATE) and free ports: a second start refuses the taken ports, and
 * SIGINT or SIGTERM to the npm process stops everything it started within 5 s, leaving no port
 * open, even while clients hold keep-alive connections (workerd alone would wait for them).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { Agent } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alive, descendants, freshCopy, keepAliveGet, killAll, listening, npm, waitUntil, type NpmRun } from "./npm-process";
import { freePort, hasExited } from "./wrangler-dev";

/** A user's shell: the PATH without this project's node_modules/.bin (npm puts it back). */
function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const PATH = (process.env.PATH ?? "").split(":").filter((d) => !d.includes("node_modules")).join(":");
  // PUSH_SECRET "" so both sides take it from .dev.vars, as on a developer's machine.
  return { ...process.env, PATH, PUSH_SECRET: "", ...extra };
}

describe.each(["SIGINT", "SIGTERM"] as const)("npm start, stopped with %s to npm", (signal) => {
  let copy: string;
  let state: string;
  let port: number;
  let shimPort: number;
  let run: NpmRun;
  let started: { pid: number; command: string }[] = [];
  const open: { close(): void }[] = [];

  beforeAll(async () => {
    copy = freshCopy("edgepush-start-");
    state = mkdtempSync(join(tmpdir(), "edgepush-state-"));
    [port, shimPort] = [await freePort(), await freePort()];
    // Its own debugger port too: parallel starts would race for wrangler's default 9229.
    run = npm(["start"], copy, userEnv({ PORT: String(port), SHIM_PORT: String(shimPort), INSPECTOR_PORT: String(await freePort()), EDGEPUSH_STATE: state }));
    await waitUntil(() => run.output().includes("accepted PUSH_SECRET") || hasExited(run.child), 150_000, () => `npm start:\n${run.output()}`);
    expect(run.child.exitCode, run.output()).toBe(null);
  }, 180_000);

  afterAll(() => {
    for (const socket of open) socket.close();
    killAll([...started.map((p) => p.pid), run?.child.pid ?? 0].filter(Boolean));
    rmSync(copy, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  });

  it("Should say where it listens and keep the rooms' storage in EDGEPUSH_STATE, not in the project folder", async () => {
    expect(run.output()).toContain(`[edgepush] wrangler dev on http://127.0.0.1:${port} (WebSockets at ws://127.0.0.1:${port}/ws), state in ${state}/`);
    expect(run.output()).toContain(`[edgepush] shim on tcp://127.0.0.1:${shimPort} → http://127.0.0.1:${port}/push (PUSH_SECRET from .dev.vars)`);
    const secret = /^PUSH_SECRET=(.*)$/m.exec(readFileSync(join(copy, ".dev.vars"), "utf8"))![1];
    const res = await fetch(`http://127.0.0.1:${port}/push`, {
      method: "POST",
      headers: { Authorization: `Bearer ${secret}`, "Content-Type": "application/json" },
      body: JSON.stringify({ uid: `state-${signal}`, data: "kept" }),
    });
    expect(await res.json()).toMatchObject({ ok: true, delivered: 0, queued: 1 });
    expect(readdirSync(state)).toContain("v3");
    expect(existsSync(join(copy, ".wrangler", "state"))).toBe(false);
  });

  // Once is enough: it needs a running npm start, not a particular way of stopping it.
  if (signal === "SIGINT") it("Should refuse a second npm start on the same ports with exit 1 and one line naming them", async () => {
    const second = npm(["start"], copy, userEnv({ PORT: String(port), SHIM_PORT: String(shimPort), EDGEPUSH_STATE: state }));
    expect(await second.exited).toBe(1);
    // npm's own `> edgepush@… start` banner aside, one line.
    const lines = second.output().split("\n").filter((l) => l.trim() !== "" && !l.startsWith("> "));
    expect(lines).toEqual([
      `[edgepush] 127.0.0.1:${port} and 127.0.0.1:${shimPort} are already in use (another npm start?): ` +
        `see what holds them with \`lsof -i :${port} -i :${shimPort}\` or \`ss -ltnp | grep -E ':(${port}|${shimPort}) '\`; ` +
        "stop it, or use other ports: PORT=8788 SHIM_PORT=5679 npm start",
    ]);
    expect(await (await fetch(`http://127.0.0.1:${port}/health`)).json()).toEqual({ ok: true });
  }, 60_000);

  it(`Should stop wrangler dev, workerd and the shim within 5 s of ${signal} to npm, leaving no port open`, async () => {
    // Clients that keep connections open: a WebSocket, an idle keep-alive HTTP socket, a backend on the shim.
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise((done, fail) => ((ws.onopen = done), (ws.onerror = fail)));
    ws.send("stop-uid");
    const agent = new Agent({ keepAlive: true });
    expect(await keepAliveGet(agent, `http://127.0.0.1:${port}/health`)).toBe(200);
    const backend: Socket = connect({ port: shimPort, host: "127.0.0.1" });
    await new Promise((done) => backend.once("connect", done));
    open.push(ws, { close: () => agent.destroy() }, { close: () => backend.destroy() });

    started = descendants(run.child.pid!);
    expect(started.map((p) => p.command).join("\n")).toMatch(/workerd serve/);
    expect(started.map((p) => p.command).join("\n")).toMatch(/shim\/index\.ts/);

    const sent = Date.now();
    process.kill(run.child.pid!, signal);
    await waitUntil(() => hasExited(run.child), 10_000, () => `npm to exit:\n${run.output()}`);
    const gone = async () => started.every((p) => !alive(p.pid)) && !(await listening(port)) && !(await listening(shimPort));
    await waitUntil(gone, 10_000, () => `the processes and ports to go: ${started.filter((p) => alive(p.pid)).map((p) => p.command).join("; ")}`);
    const took = Date.now() - sent;
    expect(took, run.output()).toBeLessThan(5000);
  }, 30_000);
});
