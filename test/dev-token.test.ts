import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/worker";
import { Client, upgrade } from "./helpers";

const devToken = (query: string) => exports.default.fetch(`https://edgepush.test/dev/token?${query}`);

describe("GET /dev/token (local dev only)", () => {
  it("Should mint a token that connects as the uid to the groups asked for", async () => {
    const res = await devToken("uid=dev-alice&groups=dev-room,other");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = (await res.json()) as { token: string; expiresAt: number; uid: string; groups: string[] };
    expect(body).toMatchObject({ uid: "dev-alice", groups: ["dev-room", "other"] });
    expect(body.expiresAt).toBeGreaterThan(Date.now() / 1000);

    const ws = await upgrade(`token=${body.token}&group=dev-room`);
    expect(ws.status).toBe(101);
    const client = new Client(ws.webSocket!);
    expect(await client.json(0)).toMatchObject({ type: "init", uid: "dev-alice", room: "group:dev-room" });
    client.close();
  });

  it("Should refuse a group the token was not asked for with 403", async () => {
    const { token } = (await (await devToken("uid=dev-bob")).json()) as { token: string };
    const res = await upgrade(`token=${token}&group=elsewhere`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.code).toBe("forbidden");
  });

  it("Should answer 400 invalid_name for a missing or bad uid or group", async () => {
    for (const query of ["", "uid=", "uid=bad%20name", "uid=ok&groups=a,bad%20group"]) {
      const res = await devToken(query);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as any).error.code, query).toBe("invalid_name");
    }
  });

  it("Should not exist (404) when LEGACY_UID_HANDSHAKE is not true", async () => {
    for (const flag of [undefined, "false", "1"]) {
      const res = await worker.fetch(
        new Request("https://edgepush.test/dev/token?uid=dev-alice"),
        { ...env, LEGACY_UID_HANDSHAKE: flag },
      );
      expect(res.status, String(flag)).toBe(404);
      expect(await res.json(), String(flag)).toEqual({
        error: { code: "not_found", message: "no such endpoint; see the README's API reference" },
      });
    }
  });
});
