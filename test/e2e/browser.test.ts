import { existsSync, mkdirSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumPath, skipWithout } from "./prerequisites";
import { E2E_PUSH_SECRET, backendPush, startWranglerDev, type DevServer } from "./wrangler-dev";

/**
 * The demo page in real Chromium (Debian's /usr/bin/chromium, driven by playwright-core; no
 * browser is ever downloaded) against a real `wrangler dev`. Without Chromium the file is skipped
 * outside CI, with one line saying what to install; under CI it fails.
 */
const NO_CHROMIUM = skipWithout("chromium");
const CHROMIUM = chromiumPath();
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const SCREENSHOT = "test-results/demo-page.png";

let server: DevServer;
let browser: Browser;
const room = `lobby-${Date.now().toString(36)}`;
let alice: Page;
let bob: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!CHROMIUM) throw new Error("Chromium is missing: apt-get install -y chromium (.ci/run does), or set CHROMIUM_PATH");
  [server, browser] = await Promise.all([
    startWranglerDev(),
    chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** A page in its own browser context (own storage), joined to the room as `uid`. */
async function openDemo(uid: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 640 } });
  const page = await context.newPage();
  page.on("pageerror", (err) => pageErrors.push(`${uid}: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") pageErrors.push(`${uid}: ${msg.text()}`);
  });
  await page.goto(`${server.url}/?uid=${uid}&room=${room}`);
  await page.locator('#status-room[data-state="open"]').waitFor();
  await page.locator('#status-uid[data-state="open"]').waitFor();
  return page;
}

const chatLine = (page: Page, text: string) => page.locator("#chat-log li", { hasText: text });

const push = (body: unknown) => backendPush(server, body);

describe.skipIf(NO_CHROMIUM)("demo page in Chromium", () => {
  it("Should serve the page and the client bundle as static assets while the API stays on the Worker", async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("Content-Type")).toMatch(/text\/html/);
    expect(await page.text()).toContain('<script type="module" src="demo.js">');
    const bundle = await fetch(`${server.url}/edgepush-client.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("Content-Type")).toMatch(/javascript/);
    expect(await bundle.text()).toContain("export {");

    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ ok: true });
    const unauthorized = await fetch(`${server.url}/push`, { method: "POST", body: "{}" });
    expect(unauthorized.status).toBe(401);
    expect(((await unauthorized.json()) as any).error.code).toBe("unauthorized");
  });

  it("Should show each page's messages on the other page in the same room", async () => {
    alice = await openDemo("alice");
    bob = await openDemo("bob");
    await chatLine(alice, "bob joined").waitFor();
    // Bob learns who was already there from alice's answer to his join.
    await bob.locator("#members span", { hasText: "alice" }).waitFor();

    await alice.fill("#say-input", "Hello from Alice");
    await alice.press("#say-input", "Enter");
    await chatLine(bob, "Hello from Alice").waitFor();
    await bob.fill("#say-input", "Hi Alice, Bob here");
    await bob.click("#say-send");
    await chatLine(alice, "Hi Alice, Bob here").waitFor();

    expect(await alice.locator("#members span").allTextContents()).toEqual(["alice", "bob"]);
    expect(await bob.locator("#members span").allTextContents()).toEqual(["alice", "bob"]);
    const mine = (page: Page, text: string) => chatLine(page, text).evaluate((li) => li.classList.contains("mine"));
    expect(await mine(alice, "Hello from Alice")).toBe(true);
    expect(await mine(bob, "Hello from Alice")).toBe(false);
  });

  it("Should hold each page's uid room and chat room on one /gateway connection", async () => {
    const get = async (path: string) =>
      (await (await fetch(`${server.url}${path}`, { headers: { Authorization: `Bearer ${E2E_PUSH_SECRET}` } })).json()) as any;
    const [{ client_ids: ofAlice }, inRoom] = [await get("/uids/alice/clients"), await get(`/groups/${room}/clients`)];
    expect(ofAlice).toHaveLength(1);
    expect(inRoom.client_ids).toContain(ofAlice[0]);
    expect((await get(`/online/alice`)).connections).toBe(1);
  });

  it("Should show a backend push to one page's uid on that page only", async () => {
    expect(await push({ uid: "alice", data: { order: 1042, status: "shipped" } })).toMatchObject({ delivered: 1 });
    await alice.locator("#push-log li", { hasText: "shipped" }).waitFor();
    expect(await push({ uid: "bob", data: "for bob only" })).toMatchObject({ delivered: 1 });
    await bob.locator("#push-log li", { hasText: "for bob only" }).waitFor();

    // Alice's push was delivered before bob's was sent: a stray copy would show by now.
    expect(await bob.locator("#push-log li").count()).toBe(1);
    expect(await alice.locator("#push-log li").count()).toBe(1);
    expect(await alice.locator("#push-empty").isHidden()).toBe(true);
    expect(await bob.locator("#chat-log").textContent()).not.toContain("shipped");

    mkdirSync("test-results", { recursive: true });
    await alice.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
