/**
 * `npm run serve` (scripts/serve.mjs): the built Worker on plain workerd, secrets from the
 * environment, vars from wrangler.toml or --var, static files from public/, rooms in SQLite
 * files under the data folder.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { freePort } from "../e2e/wrangler-dev";

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
        if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`serve did not come up:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }, 120_000);

    afterAll(async () => {
      if (child && child.exitCode === null) {
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
      const alive = () => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      const deadline = Date.now() + 5000;
      while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(alive()).toBe(false);
    });
  });
});
