import { sign } from "hono/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2E_PUSH_SECRET, E2E_TOKEN_SECRET, startWranglerDev, type DevServer } from "./wrangler-dev";

let server: DevServer;
beforeAll(async () => {
  server = await startWranglerDev({ HEARTBEAT_TIMEOUT_S: "2" });
});
afterAll(async () => {
  await server?.stop();
});

interface Opened {
  ws: WebSocket;
  closed: Promise<{ code: number; reason: string }>;
}

function open(url: string): Promise<Opened> {
  const ws = new WebSocket(url);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })));
  return new Promise((resolve, reject) => {
    ws.addEventListener("open", () => resolve({ ws, closed }));
    ws.addEventListener("error", () => reject(new Error(`could not connect to ${url}`)));
  });
}

const online = async (uid: string) =>
  (await (await fetch(`${server.url}/online/${uid}`, { headers: { Authorization: `Bearer ${E2E_PUSH_SECRET}` } })).json()) as any;

async function until(ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function tokenFor(uid: string): Promise<string> {
  return sign({ sub: uid, exp: Math.floor(Date.now() / 1000) + 300 }, E2E_TOKEN_SECRET, "HS256");
}

describe("Heartbeat (HEARTBEAT_TIMEOUT_S=2 on wrangler dev)", () => {
  it("Should close a silent socket with 1001, keep one that pings and exempt the legacy handshake", async () => {
    const pinger = await open(`${server.wsUrl}/ws?token=${await tokenFor("hb-pinger")}`);
    const silent = await open(`${server.wsUrl}/ws?token=${await tokenFor("hb-silent")}`);
    const legacy = await open(`${server.wsUrl}/ws`);
    legacy.ws.send("hb-legacy");
    let pingerClosed = false;
    let legacyClosed = false;
    void pinger.closed.then(() => (pingerClosed = true));
    void legacy.closed.then(() => (legacyClosed = true));
    // Well inside the 2 s timeout, so a busy machine's stall of a second does not silence it.
    const beat = setInterval(() => pinger.ws.send("ping"), 200);
    try {
      // The room drops the silent socket at its first alarm after 2 s; presence follows at once.
      await until(async () => !(await online("hb-silent")).online);
      expect(await online("hb-pinger")).toMatchObject({ online: true, connections: 1 });
      expect(await online("hb-legacy")).toMatchObject({ online: true, connections: 1 });
      // wrangler dev ends the TCP connection ~10 s after the close frame, so the close event is late;
      // by then several more timeouts have passed and the pinger and the legacy client are still open.
      const { code, reason } = await silent.closed;
      expect(code).toBe(1001);
      expect(reason).toMatch(/no ping/);
      expect(pingerClosed).toBe(false);
      expect(legacyClosed).toBe(false);
      expect(await online("hb-pinger")).toMatchObject({ online: true, connections: 1 });
    } finally {
      clearInterval(beat);
      pinger.ws.close();
      legacy.ws.close();
    }
  });
});
