/**
 * examples/php/webhook.php against a real `wrangler dev`: served by `php -S`, it verifies each
 * delivery and runs GatewayWorker's demo Events (onConnect greets, onMessage and onClose tell
 * everyone) through the GatewayClient drop-in; from php-cli it verifies a recorded delivery and
 * refuses a tampered or stale one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgePush } from "../../sdk";
import { openClient, type TestClient } from "../node/sdk-helpers";
import { until } from "./php-helpers";
import { skipWithout } from "./prerequisites";
import { startReceiver, type Delivery, type Receiver } from "./webhook-receiver";
import { E2E_PUSH_SECRET, E2E_TOKEN_SECRET, freePort, startWranglerDev, type DevServer } from "./wrangler-dev";

// Without php outside CI: skipped, with one line saying what to install (hooks do not run then).
const NO_PHP = skipWithout("php");

const WEBHOOK_SECRET = "e2e-php-webhook-secret";
const SCRIPT = "examples/php/webhook.php";

let server: DevServer;
let receiver: Receiver;
let php: ChildProcess;
let phpUrl: string;
let phpLog = "";
let dir: string;
const open: TestClient[] = [];

beforeAll(async () => {
  receiver = await startReceiver();
  const phpPort = await freePort();
  phpUrl = `http://127.0.0.1:${phpPort}/`;
  // Both receivers get every event: PHP handles them, the Node one keeps copies for the CLI test.
  server = await startWranglerDev({ WEBHOOK_URL: `${phpUrl},${receiver.url("/hooks")}`, WEBHOOK_SECRET });
  dir = mkdtempSync(join(tmpdir(), "edgepush-php-webhook-"));
  php = spawn("php", ["-S", `127.0.0.1:${phpPort}`, SCRIPT], {
    env: { ...process.env, WEBHOOK_SECRET, PUSH_SECRET: E2E_PUSH_SECRET, EDGEPUSH_URL: server.url, WEBHOOK_SEEN_FILE: join(dir, "seen") },
  });
  php.stderr!.on("data", (d) => (phpLog += d));
  await until(async () => (await fetch(phpUrl, { method: "GET" }).then(() => true, () => undefined)), () => `php -S to listen: ${phpLog}`);
});
afterAll(async () => {
  for (const c of open) c.ws.close();
  php?.kill("SIGTERM");
  await server?.stop();
  await receiver?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sdk = () => new EdgePush({ url: server.url, secret: E2E_PUSH_SECRET, tokenSecret: E2E_TOKEN_SECRET });

/** A /ws client in raw format (payloads only, as GatewayWorker sent them) and its clientId. */
async function connect(uid: string): Promise<{ client: TestClient; clientId: string }> {
  const { token } = await sdk().signClientToken({ uid, ttl: 300 });
  const client = await openClient(`${server.wsUrl}/ws?token=${token}&format=raw`);
  open.push(client);
  const { clientId } = await client.json(0);
  return { client, clientId };
}

const has = (client: TestClient, text: string) => () => client.messages.includes(text) || undefined;
const sign = (timestamp: number, body: string) => `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(`${timestamp}.${body}`).digest("hex")}`;

describe.skipIf(NO_PHP)("examples/php/webhook.php served by php -S", () => {
  it("Should run onConnect, onMessage and onClose the GatewayWorker way, answering through edgepush", async () => {
    const a = await connect("php-a");
    await until(has(a.client, `Hello ${a.clientId}`), () => `the greeting; a has ${a.client.messages.join(" | ")}; php: ${phpLog}`);
    const b = await connect("php-b");
    await until(has(b.client, `Hello ${b.clientId}`), () => "b's greeting");
    a.client.ws.send(JSON.stringify({ type: "message", data: "hi all" }));
    await until(has(b.client, `${a.clientId} said hi all`), () => `onMessage's broadcast; b has ${b.client.messages.join(" | ")}`);
    await until(has(a.client, `${a.clientId} said hi all`), () => "onMessage's broadcast to a");
    b.client.ws.close(1000);
    await until(has(a.client, `${b.clientId} logout`), () => "onClose's broadcast");
  });

  it("Should refuse a forged delivery with 401 and handle a repeated event id once", async () => {
    // The last hex digit changed (always to another one: a signature that ends in 0 stayed valid one run in 16).
    const forged = JSON.stringify({ time_ms: Date.now(), events: [{ id: "x", name: "connection_opened", time_ms: 1, client_id: "c" }] });
    const now = Date.now();
    const res = await fetch(phpUrl, { method: "POST", headers: { "X-Edgepush-Timestamp": String(now), "X-Edgepush-Signature": sign(now, forged).replace(/.$/, (last) => (last === "0" ? "1" : "0")), "Content-Type": "application/json" }, body: forged });
    expect(res.status).toBe(401);

    const c = await connect("php-c");
    await until(has(c.client, `Hello ${c.clientId}`), () => "c's greeting");
    // The Node receiver got the same delivery (same event ids): send it to PHP again, signed afresh.
    const copy = await until(() => receiver.deliveries.find((d) => d.body.includes(c.clientId)), () => "the copy");
    const again = Date.now();
    const repeat = await fetch(phpUrl, { method: "POST", headers: { "X-Edgepush-Timestamp": String(again), "X-Edgepush-Signature": sign(again, copy.body), "Content-Type": "application/json" }, body: copy.body });
    expect(repeat.status).toBe(204);
    await new Promise((r) => setTimeout(r, 1000));
    expect(c.client.messages.filter((m) => m === `Hello ${c.clientId}`)).toHaveLength(1);
  });
});

describe.skipIf(NO_PHP)("examples/php/webhook.php from php-cli", () => {
  const verify = (d: Pick<Delivery, "body">, timestamp: string, signature: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn("php", [SCRIPT, "verify", timestamp, signature], { env: { ...process.env, WEBHOOK_SECRET } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (x) => (stdout += x));
      child.stderr.on("data", (x) => (stderr += x));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(d.body);
    });

  it("Should verify a delivery edgepush made, and refuse it tampered, stale or unsigned", async () => {
    const d = await until(() => receiver.deliveries.find((x) => x.headers["x-edgepush-signature"]), () => "a delivery");
    const timestamp = String(d.headers["x-edgepush-timestamp"]);
    const signature = String(d.headers["x-edgepush-signature"]);
    const ok = await verify(d, timestamp, signature);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().split("\n").map((l) => JSON.parse(l))).toEqual(JSON.parse(d.body).events);

    const tampered = await verify({ body: d.body.replace(/"time_ms":\d/, '"time_ms":9') }, timestamp, signature);
    expect([tampered.code, tampered.stderr]).toEqual([1, "refused: bad signature\n"]);
    const old = Date.now() - 6 * 60_000;
    const stale = await verify(d, String(old), sign(old, d.body));
    expect([stale.code, stale.stderr]).toEqual([1, "refused: stale timestamp: a replay, or a clock far off\n"]);
    const unsigned = await verify(d, "", "");
    expect([unsigned.code, unsigned.stderr]).toEqual([1, "refused: missing X-Edgepush-Timestamp or X-Edgepush-Signature\n"]);
  });
});
