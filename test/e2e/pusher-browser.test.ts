/**
 * pusher-js's browser build (dist/web/pusher.min.js, as a page loads it from a CDN) in Debian's
 * Chromium via playwright-core, against a real `wrangler dev`: the page is served by a local
 * static server that also answers `/broadcasting/auth` (same origin, as in a Laravel app).
 * A missing Chromium fails, never skips.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type PusherServer from "pusher";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP, serverSdk, startPusherDev } from "./pusher-helpers";
import type { DevServer } from "./wrangler-dev";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const PUSHER_JS = readFileSync("node_modules/pusher-js/dist/web/pusher.min.js", "utf8");

let server: DevServer;
let sdk: PusherServer;
let site: Server;
let siteUrl: string;
let browser: Browser;

/** The page: connects with the README's options, logs every event it gets into #log. */
function page(wsPort: number): string {
  return `<!doctype html><meta charset="utf-8"><title>pusher-js on edgepush</title>
<script src="/pusher.min.js"></script>
<ul id="log"></ul>
<script>
  const log = (text) => document.getElementById("log").insertAdjacentHTML("beforeend", "<li>" + text + "</li>");
  const pusher = new Pusher(${JSON.stringify(APP.key)}, {
    cluster: "", wsHost: "127.0.0.1", wsPort: ${wsPort}, forceTLS: false, enabledTransports: ["ws"],
    channelAuthorization: { endpoint: "/broadcasting/auth", transport: "ajax" },
  });
  pusher.connection.bind("connected", () => { document.body.dataset.socketId = pusher.connection.socket_id; });
  pusher.subscribe("browser-news").bind("headline", (data) => log("headline " + data.title));
  const room = pusher.subscribe("presence-browser");
  room.bind("pusher:subscription_succeeded", (members) => { document.body.dataset.members = String(members.count); });
</script>`;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  [server, browser] = await Promise.all([startPusherDev(), chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })]);
  sdk = serverSdk(server);
  site = createServer(async (req, res) => {
    if (req.url === "/pusher.min.js") return void res.writeHead(200, { "Content-Type": "text/javascript" }).end(PUSHER_JS);
    if (req.url === "/broadcasting/auth" && req.method === "POST") {
      let text = "";
      for await (const chunk of req) text += chunk;
      const form = new URLSearchParams(text);
      const answer = sdk.authorizeChannel(form.get("socket_id")!, form.get("channel_name")!, { user_id: "browser-user" });
      return void res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(answer));
    }
    res.writeHead(200, { "Content-Type": "text/html" }).end(page(server.port));
  });
  await new Promise<void>((done) => site.listen(0, "127.0.0.1", done));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await browser?.close();
  await new Promise((done) => (site ? site.close(done) : done(undefined)));
  await server?.stop();
});

describe("pusher-js in Chromium", () => {
  it("Should connect, join a presence channel through the page's auth endpoint and show a trigger", async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    const errors: string[] = [];
    tab.on("pageerror", (err) => errors.push(err.message));
    await tab.goto(siteUrl);
    await tab.locator("body[data-members='1']").waitFor({ state: "attached" });
    const socketId = await tab.locator("body").getAttribute("data-socket-id");
    expect(socketId).toMatch(/^\d+\.\d{16}$/);

    await sdk.trigger("browser-news", "headline", { title: "edgepush in Chromium" });
    await tab.locator("#log li", { hasText: "headline edgepush in Chromium" }).waitFor();
    const users = (await (await sdk.get({ path: "/channels/presence-browser/users", params: {} })).json()) as object;
    expect(users).toEqual({ users: [{ id: "browser-user" }] });
    expect(errors).toEqual([]);
    await context.close();
  });
});
