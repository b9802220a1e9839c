import { describe, expect, it } from "vitest";
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
});
