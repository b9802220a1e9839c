import { describe, expect, it } from "vitest";
import { sign } from "hono/jwt";
import { signClientToken, verifyClientToken } from "../../src/contract/tokens";

describe("tokens", () => {
  it("Should verify a token it signed with the groups it carries", async () => {
    const { token, expiresAt } = await signClientToken({ uid: "u1", groups: ["g"], ttl: 60 }, "s");
    expect(expiresAt).toBeGreaterThan(Date.now() / 1000);
    expect(await verifyClientToken(token, "s")).toEqual({ uid: "u1", groups: ["g"], exp: expiresAt });
  });

  it("Should refuse expired, foreign and malformed tokens with 401", async () => {
    const expired = await signClientToken({ uid: "u1", ttl: 1 }, "s", Math.floor(Date.now() / 1000) - 100);
    await expect(verifyClientToken(expired.token, "s")).rejects.toMatchObject({ status: 401, message: "token expired" });
    const foreign = await signClientToken({ uid: "u1", ttl: 60 }, "other");
    await expect(verifyClientToken(foreign.token, "s")).rejects.toMatchObject({ status: 401 });
    for (const junk of ["", "a.b.c", "x".repeat(5000), "e30.e30.e30"]) {
      await expect(verifyClientToken(junk, "s")).rejects.toMatchObject({ status: 401, code: "unauthorized" });
    }
  });

  it("Should accept a token whose iat is a little ahead of this clock", async () => {
    const ahead = await signClientToken({ uid: "u1", ttl: 60 }, "s", Math.floor(Date.now() / 1000) + 5);
    expect((await verifyClientToken(ahead.token, "s")).uid).toBe("u1");
  });

  it("Should name a string or null exp as malformed, not as expired", async () => {
    const later = String(Math.floor(Date.now() / 1000) + 600);
    for (const [exp, got] of [[later, "string"], [null, "null"]] as const) {
      const token = await sign({ sub: "u1", exp } as Record<string, unknown>, "s", "HS256");
      await expect(verifyClientToken(token, "s")).rejects.toMatchObject({
        status: 401, code: "unauthorized", message: `token exp must be a number (unix seconds), got ${got}`,
      });
    }
    const missing = await sign({ sub: "u1" }, "s", "HS256");
    await expect(verifyClientToken(missing, "s")).rejects.toMatchObject({ message: "token has no exp" });
  });

  it("Should judge exp only after the signature: a forged token is invalid whatever its exp", async () => {
    const forged = await sign({ sub: "u1", exp: "soon" } as Record<string, unknown>, "other", "HS256");
    await expect(verifyClientToken(forged, "s")).rejects.toMatchObject({ status: 401, message: "token invalid" });
  });
});
