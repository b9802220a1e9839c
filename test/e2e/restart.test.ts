/**
 * A local-dev restart (issue 14): wrangler dev stopped with a client connected and started again
 * on the same state. The directory still has the old run's names in storage; the first listing
 * asks their rooms, which lost their sockets with the old process, so nothing of it is listed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sign } from "hono/jwt";
import { afterAll, describe, expect, it } from "vitest";
import { E2E_PUSH_SECRET, E2E_TOKEN_SECRET, startWranglerDev, type DevServer } from "./wrangler-dev";

const persist = mkdtempSync(join(tmpdir(), "edgepush-restart-"));
let server: DevServer | undefined;
afterAll(async () => {
  await server?.stop();
  rmSync(persist, { recursive: true, force: true });
});

const get = async (path: string) =>
  (await (await fetch(`${server!.url}${path}`, { headers: { Authorization: `Bearer ${E2E_PUSH_SECRET}` } })).json()) as any;

async function connect(uid: string, group?: string): Promise<WebSocket> {
  const token = await sign({ sub: uid, exp: Math.floor(Date.now() / 1000) + 300, groups: group ? [group] : [] }, E2E_TOKEN_SECRET, "HS256");
  const ws = new WebSocket(`${server!.wsUrl}/ws?token=${token}${group ? `&group=${group}` : ""}`);
  await new Promise((resolve, reject) => {
    ws.addEventListener("message", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error("could not connect")));
  });
  return ws;
}

describe("npm start restarted on the same state", () => {
  it("Should list none of the previous run's uids, groups or connections", async () => {
    server = await startWranglerDev({}, { persist });
    const before = await get("/stats");
    const sockets = [await connect("restart-u1"), await connect("restart-u2", "restart-g")];
    expect((await get("/uids")).uids).toEqual(expect.arrayContaining(["restart-u1", "restart-u2"]));
    expect((await get("/stats")).connections).toBe(before.connections + 2);
    const closed = sockets.map((ws) => new Promise((r) => ws.addEventListener("close", r)));
    await server.stop();
    await Promise.all(closed);
    server = await startWranglerDev({}, { persist });
    expect((await get("/uids")).uids).not.toContain("restart-u1");
    expect((await get("/groups")).groups).not.toContain("restart-g");
    expect(await get("/stats")).toEqual(before);
  }, 240_000);
});
