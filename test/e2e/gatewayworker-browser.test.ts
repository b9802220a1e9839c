import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, until } from "./php-helpers";
import { chromiumPath, skippableMissing } from "./prerequisites";
import { E2E_PUSH_SECRET, freePort, startWranglerDev, type DevServer } from "./wrangler-dev";

/**
 * GatewayWorker mode in real Chromium: the seed's page (examples/php/thinkphp/public/index.html:
 * GatewayWorker's ThinkPHP page, only its WebSocket URL changed) served with the seed's ThinkPHP
 * controllers by `php -S`, its bind() call reaching edgepush through the GatewayClient drop-in,
 * against a real `wrangler dev`. The page alerts every push, as the seed's does.
 */
const MISSING = skippableMissing(["php", "chromium"]).length > 0;
const CHROMIUM = chromiumPath();
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
// The page loads jQuery from its CDN; with no internet here, Debian's libjs-jquery (.ci/run installs
// it) answers for it, or where that is missing a stand-in with the one call the page makes.
const JQUERY_CDN = "https://code.jquery.com/jquery-3.6.1.min.js";
const JQUERY = "/usr/share/javascript/jquery/jquery.min.js";
const JQUERY_POST = `window.$ = { post(url, data, done) {
  const xhr = new XMLHttpRequest();
  xhr.open("POST", url);
  xhr.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");
  xhr.onload = () => done(JSON.parse(xhr.responseText));
  xhr.send(new URLSearchParams(data).toString());
} };`;

let server: DevServer;
let browser: Browser;
let php: ChildProcess;
let phpUrl = "";
const phpLog: string[] = [];

interface SeedPage {
  page: Page;
  alerts: string[];
  errors: string[];
}

beforeAll(async () => {
  if (MISSING) return;
  if (!CHROMIUM) throw new Error("Chromium is missing: apt-get install -y chromium (.ci/run does), or set CHROMIUM_PATH");
  const port = await freePort();
  [server, browser] = await Promise.all([
    startWranglerDev({ GATEWAY_ANONYMOUS: "true" }),
    chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
  ]);
  php = spawn("php", ["-S", `127.0.0.1:${port}`, "examples/php/thinkphp/public/router.php"], {
    env: { ...process.env, EDGEPUSH_URL: server.url, PUSH_SECRET: E2E_PUSH_SECRET },
  });
  php.stderr!.on("data", (d) => phpLog.push(String(d)));
  phpUrl = `http://127.0.0.1:${port}`;
  await until(async () => ((await fetch(`${phpUrl}/nothing`).catch(() => null))?.status === 404 ? true : undefined), () => `php -S: ${phpLog.join("")}`);
});
afterAll(async () => {
  await browser?.close();
  php?.kill("SIGTERM");
  await server?.stop();
});

/** The seed's page, logged in (the harness's stand-in for the app's login) as `uid` in `group`. */
async function openSeedPage(uid: string, group: string): Promise<SeedPage> {
  const page = await (await browser.newContext()).newPage();
  const opened: SeedPage = { page, alerts: [], errors: [] };
  page.on("dialog", (dialog) => {
    opened.alerts.push(dialog.message());
    void dialog.accept();
  });
  page.on("pageerror", (err) => opened.errors.push(err.message));
  const jquery = existsSync(JQUERY) ? readFileSync(JQUERY, "utf8") : JQUERY_POST;
  await page.route(JQUERY_CDN, (route) => route.fulfill({ contentType: "text/javascript", body: jquery }));
  const bound = page.waitForResponse((res) => res.url().endsWith("/index/chat_room/bind"));
  await page.goto(`${phpUrl}/?uid=${uid}&group=${group}`);
  expect((await bound).status(), phpLog.join("")).toBe(200);
  return opened;
}

async function backend(path: string): Promise<any> {
  return (await fetch(`${server.url}${path}`, { headers: { Authorization: `Bearer ${E2E_PUSH_SECRET}` } })).json();
}

const alerted = (p: SeedPage, n: number) => until(() => (p.alerts.length >= n ? p.alerts.slice() : undefined), () => `${n} alerts, have ${JSON.stringify(p.alerts)}`);

describe.skipIf(MISSING)("GatewayWorker mode in Chromium: the seed's page and the seed's ThinkPHP controllers", () => {
  let ann: SeedPage;
  let bob: SeedPage;
  let eve: SeedPage;

  it("Should bind each page on its init frame through the seed's bind() and join its group", async () => {
    [ann, bob, eve] = [await openSeedPage("ann", "room1"), await openSeedPage("bob", "room1"), await openSeedPage("eve", "room2")];
    expect(await backend("/online/ann")).toMatchObject({ online: true, connections: 1 });
    expect((await backend("/groups/room1")).uids.sort()).toEqual(["ann", "bob"]);
    expect((await backend("/groups/room1/clients")).client_ids).toHaveLength(2);
  });

  it("Should alert the seed's group chat line on both members' pages and not on the third", async () => {
    const say = JSON.stringify({ type: "say", roomId: "room1", userId: "ann", userName: "Ann", content: "hello" });
    const php = await run("php", ["examples/php/thinkphp/run.php", "events/chat", "client_id=0.0", `message=${say}`],
      { EDGEPUSH_URL: server.url, PUSH_SECRET: E2E_PUSH_SECRET });
    expect(php, php.stderr).toMatchObject({ code: 0 });
    for (const member of [ann, bob]) {
      const [text] = await alerted(member, 1);
      expect(JSON.parse(text)).toMatchObject({ type: "say", roomId: "room1", userName: "Ann", content: "hello" });
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(eve.alerts).toEqual([]);
  });

  it("Should alert the seed's sendMessage() on the logged-in uid's page only, exactly as PHP encoded it", async () => {
    const res = await ann.page.request.get(`${phpUrl}/index/chat_room/send_message`);
    expect(res.status()).toBe(200);
    expect((await alerted(ann, 2))[1]).toBe('{"type":"say","msg":"Hello ThinkPHP5"}');
    await new Promise((r) => setTimeout(r, 300));
    expect(bob.alerts).toHaveLength(1);
    expect([ann, bob, eve].flatMap((p) => p.errors)).toEqual([]);
  });

  it("Should alert nothing when the page itself sends what GatewayWorker handed to Events::onMessage", async () => {
    const before = bob.alerts.length;
    await bob.page.evaluate(async () => {
      // The page's global `ws` (the seed assigns it without var).
      const socket = (globalThis as unknown as { ws: { send(text: string): void; bufferedAmount: number } }).ws;
      // The seed's chat page's frames, a heartbeat answer and text: each went to onMessage, and back came nothing.
      for (const frame of [{ type: "say", roomId: "room1", content: "hi" }, { type: "join", roomId: "room1", userName: "Bob" }, { type: "pong" }]) {
        socket.send(JSON.stringify(frame));
      }
      socket.send("hello");
      while (socket.bufferedAmount > 0) await new Promise((r) => setTimeout(r, 10));
    });
    await new Promise((r) => setTimeout(r, 300));
    // A push after them is the next alert: nothing came back for the frames.
    const res = await fetch(`${server.url}/push`, {
      method: "POST",
      headers: { Authorization: `Bearer ${E2E_PUSH_SECRET}`, "Content-Type": "application/json" },
      body: JSON.stringify({ uid: "bob", data: { type: "sentinel" } }),
    });
    expect(res.status).toBe(200);
    expect((await alerted(bob, before + 1)).slice(before)).toEqual(['{"type":"sentinel"}']);
    await new Promise((r) => setTimeout(r, 300));
    expect(bob.alerts).toHaveLength(before + 1);
    expect(bob.errors).toEqual([]);
  });

  it("Should take a closed page offline", async () => {
    await ann.page.close();
    await until(async () => ((await backend("/online/ann")).online === false ? true : undefined), () => "ann to go offline");
    // The gateway leaves the uid's room and the group's independently.
    await until(async () => (JSON.stringify((await backend("/groups/room1")).uids) === '["bob"]' ? true : undefined), () => "ann to leave room1");
  });
});
