/**
 * `npm run serve` (scripts/serve.mjs): the built Worker on plain workerd, secrets from the
 * environment, vars from wrangler.toml or --var, static files from public/, rooms in SQLite
 * files under the data folder.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { Agent } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { alive, descendants, keepAliveGet, killAll, listening, npm, waitUntil } from "../e2e/npm-process";
import { freePort, hasExited } from "../e2e/wrangler-dev";

const PUSH_SECRET = "serve-push-secret";
const TOKEN_SECRET = "serve-token-secret";
const toolEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

function token(uid: string): string {
  const enc = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const body = `${enc({ alg: "HS256", typ: "JWT" })}.${enc({ sub: uid, exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${body}.${createHmac("sha256", TOKEN_SECRET).update(body).digest("base64url")}`;
}

describe("npm run serve", () => {
  it("Should exit 1 naming both secrets when neither is set", async () => {
    const env: NodeJS.ProcessEnv = { ...toolEnv };
    delete env.PUSH_SECRET;
    delete env.TOKEN_SECRET;
    const child = spawn(process.execPath, ["scripts/serve.mjs", "--no-build"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toContain("PUSH_SECRET and TOKEN_SECRET");
  });

  describe("serving", () => {
    let child: ChildProcess;
    let data: string;
    let url: string;
    let output = "";

    beforeAll(async () => {
      const port = await freePort();
      data = mkdtempSync(join(tmpdir(), "edgepush-serve-"));
      url = `http://127.0.0.1:${port}`;
      child = spawn(process.execPath, ["scripts/serve.mjs", "--port", String(port), "--data", data, "--var", "MAX_PAYLOAD_BYTES:100"], {
        env: { ...toolEnv, PUSH_SECRET, TOKEN_SECRET },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout!.on("data", (d) => (output += d));
      child.stderr!.on("data", (d) => (output += d));
      const deadline = Date.now() + 100_000;
      while (!output.includes("[edgepush] serving on")) {
        if (hasExited(child)) throw new Error(`serve exited ${child.exitCode ?? child.signalCode}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`serve did not come up:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }, 120_000);

    afterAll(async () => {
      if (child && !hasExited(child)) {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
      rmSync(data, { recursive: true, force: true });
    });

    const push = (body: unknown) =>
      fetch(`${url}/push`, {
        method: "POST",
        headers: { Authorization: `Bearer ${PUSH_SECRET}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });

    it("Should answer the API with the secret from the environment, and 401 without it", async () => {
      expect(await (await fetch(`${url}/health`)).json()).toEqual({ ok: true });
      const refused = await fetch(`${url}/push`, { method: "POST", body: "{}", headers: { Authorization: "Bearer nope" } });
      expect(refused.status).toBe(401);
    });

    it("Should serve public/ files with their content type before the Worker", async () => {
      const res = await fetch(`${url}/edgepush-client.js`);
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toMatch(/^text\/javascript/);
      expect(await res.text()).toContain("edgepush client");
    });

    it("Should apply a --var over wrangler.toml's value", async () => {
      const res = await push({ uid: "big", data: "x".repeat(200) });
      expect(res.status).toBe(413);
      expect(((await res.json()) as any).error.message).toContain("(100 bytes)");
    });

    it("Should keep a queued message in the room's SQLite file and replay it on connect", async () => {
      expect(await (await push({ uid: "offline", data: { n: 1 } })).json()).toMatchObject({ ok: true, delivered: 0, queued: 1 });
      const files = readdirSync(join(data, "do", "edgepush-RoomObject")).filter((f) => f.endsWith(".sqlite"));
      expect(files.length).toBeGreaterThanOrEqual(2); // the room's own file and workerd's metadata.sqlite
      const ws = new WebSocket(`${url.replace("http", "ws")}/ws?token=${token("offline")}`);
      const frames: any[] = [];
      ws.on("message", (m) => frames.push(JSON.parse(String(m))));
      const deadline = Date.now() + 10_000;
      while (frames.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      ws.close();
      expect(frames.map((f) => f.type)).toEqual(["init", "push"]);
      expect(frames[1]).toMatchObject({ seq: 1, data: { n: 1 } });
    });

    it("Should stop workerd with itself on SIGTERM", async () => {
      const pid = Number(/workerd pid (\d+)/.exec(output)?.[1]);
      expect(pid).toBeGreaterThan(0);
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
      await waitUntil(() => !alive(pid), 5000, () => `workerd (pid ${pid}) to exit`);
    });
  });
  describe.each(["SIGINT", "SIGTERM"] as const)("run through npm, stopped with %s to npm", (signal) => {
    it(`Should stop workerd within 5 s of ${signal} to npm while clients hold keep-alive connections`, async () => {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), "edgepush-serve-stop-"));
      // The build is the one the tests above made.
      const run = npm(["run", "serve", "--", "--port", String(port), "--data", dir, "--no-build"], process.cwd(), { ...toolEnv, PUSH_SECRET, TOKEN_SECRET });
      let tree: { pid: number; command: string }[] = [];
      const agent = new Agent({ keepAlive: true });
      let ws: WebSocket | undefined;
      try {
        await waitUntil(() => run.output().includes("[edgepush] serving on") || hasExited(run.child), 60_000, () => run.output());
        ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token("stopper")}`);
        await new Promise((done, fail) => ws!.once("open", done).once("error", fail));
        expect(await keepAliveGet(agent, `http://127.0.0.1:${port}/health`)).toBe(200);
        tree = descendants(run.child.pid!);
        expect(tree.map((p) => p.command).join("\n")).toMatch(/workerd serve/);

        const sent = Date.now();
        process.kill(run.child.pid!, signal);
        const gone = async () => hasExited(run.child) && tree.every((p) => !alive(p.pid)) && !(await listening(port));
        await waitUntil(gone, 10_000, () => `npm, workerd and the port to go:\n${run.output()}`);
        expect(Date.now() - sent).toBeLessThan(5000);
      } finally {
        ws?.terminate();
        agent.destroy();
        killAll([...tree.map((p) => p.pid), run.child.pid!]);
        rmSync(dir, { recursive: true, force: true });
      }
    }, 90_000);
  });
});
