import fc from "fast-check";
import { gatewayOfClientId, newGatewayClientId } from "../../src/contract/names";
import { describe, expect, it } from "vitest";
import {
  hmacSha256Hex,
  parsePresenceData,
  parseUserData,
  verifyChannelAuth,
  verifySigninAuth,
} from "../../src/gateway/pusher/auth";

// The credentials and answers of Pusher's worked examples (library_auth_reference/auth-signatures.md).
const key = "278d425bdf160c739803";
const secret = "7ad3773142a6692b25b8";
const socketId = "1234.1234";

describe("pusher auth: signatures", () => {
  it("Should accept Pusher's private channel example and refuse it for another socket or channel", async () => {
    const auth = `${key}:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4`;
    expect(await hmacSha256Hex(secret, "1234.1234:private-foobar")).toBe(auth.slice(key.length + 1));
    expect(await verifyChannelAuth({ key, secret, socketId, channel: "private-foobar", auth })).toEqual({ ok: true });
    expect(await verifyChannelAuth({ key, secret, socketId: "1234.1235", channel: "private-foobar", auth })).toEqual({
      ok: false,
      reason: "invalid signature",
    });
    expect((await verifyChannelAuth({ key, secret, socketId, channel: "private-foobaz", auth })).ok).toBe(false);
  });

  it("Should accept Pusher's presence example, which signs channel_data as sent", async () => {
    // The docs' answer was computed when the example said "Mr. Pusher"; the text now says
    // "Mr. Channels" but still prints the old signature (checked with openssl).
    const channelData = '{"user_id":10,"user_info":{"name":"Mr. Pusher"}}';
    const auth = `${key}:afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c`;
    const check = { key, secret, socketId, channel: "presence-foobar", auth };
    expect(await verifyChannelAuth({ ...check, channelData })).toEqual({ ok: true });
    // Same JSON, other bytes: the signature covers the string, not its meaning.
    expect((await verifyChannelAuth({ ...check, channelData: '{"user_id": 10,"user_info":{"name":"Mr. Pusher"}}' })).ok).toBe(false);
    expect((await verifyChannelAuth(check)).ok).toBe(false);
  });

  it("Should accept Pusher's user authentication example", async () => {
    const auth = `${key}:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba`;
    expect(await verifySigninAuth({ key, secret, socketId, userData: '{"id":"12345"}', auth })).toEqual({ ok: true });
    expect((await verifySigninAuth({ key, secret, socketId, userData: '{"id":"12346"}', auth })).ok).toBe(false);
  });

  it("Should say why a malformed auth is refused", async () => {
    const base = { key, secret, socketId, channel: "private-foobar" };
    const reason = async (auth: string | undefined) => {
      const result = await verifyChannelAuth({ ...base, auth });
      return result.ok ? "ok" : result.reason;
    };
    expect(await reason(undefined)).toBe("auth signature required");
    expect(await reason("")).toBe("auth signature required");
    expect(await reason("no-colon")).toBe("auth must be <key>:<signature>");
    expect(await reason("otherkey:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4")).toBe(
      "auth key is not this app's key",
    );
    expect(await reason(`${key}:zz`)).toBe("invalid signature");
    expect(await reason(`${key}:58df8b0c`)).toBe("invalid signature");
  });

  it("Should verify what it signs, for any socket, channel and data", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), fc.option(fc.string(), { nil: undefined }), async (channel, sid, data) => {
        const signed = [sid, channel, ...(data === undefined ? [] : [data])].join(":");
        const auth = `${key}:${await hmacSha256Hex(secret, signed)}`;
        expect(await verifyChannelAuth({ key, secret, socketId: sid, channel, auth, channelData: data })).toEqual({ ok: true });
      }),
      { numRuns: 50 },
    );
  });
});

describe("pusher auth: user data", () => {
  it("Should take signin user_data with a uid-shaped id, user_info and a watchlist", () => {
    expect(parseUserData('{"id":"12345"}')).toEqual({ ok: true, user: { id: "12345" } });
    expect(parseUserData('{"id":"u1","user_info":{"name":"Ann"},"watchlist":["u2"]}')).toEqual({
      ok: true,
      user: { id: "u1", userInfo: { name: "Ann" }, watchlist: ["u2"] },
    });
  });

  it("Should refuse signin user_data that pusher-js or edgepush could not use", () => {
    const reason = (text: string) => {
      const result = parseUserData(text);
      return result.ok ? "ok" : result.reason;
    };
    expect(reason("not json")).toMatch(/JSON-encoded object/);
    expect(reason("[1]")).toMatch(/JSON-encoded object/);
    expect(reason('{"id":12345}')).toMatch(/non-empty string/);
    expect(reason('{"id":""}')).toMatch(/non-empty string/);
    expect(reason('{"id":"a b"}')).toMatch(/1-128 chars/);
    expect(reason('{"id":"u1","watchlist":"u2"}')).toMatch(/watchlist/);
  });

  it("Should take presence channel_data with a string or numeric user_id", () => {
    expect(parsePresenceData('{"user_id":10,"user_info":{"name":"Mr. Channels"}}')).toEqual({
      ok: true,
      member: { userId: "10", userInfo: { name: "Mr. Channels" } },
    });
    expect(parsePresenceData('{"user_id":"ann"}')).toEqual({ ok: true, member: { userId: "ann" } });
  });

  it("Should refuse presence channel_data over Pusher's limits or without a user_id", () => {
    const reason = (text: string | undefined) => {
      const result = parsePresenceData(text);
      return result.ok ? "ok" : result.reason;
    };
    expect(reason(undefined)).toBe("presence channels need channel_data");
    expect(reason("{}")).toMatch(/user_id/);
    expect(reason('{"user_id":""}')).toMatch(/user_id/);
    expect(reason(JSON.stringify({ user_id: "x".repeat(129) }))).toMatch(/user_id/);
    expect(reason(JSON.stringify({ user_id: "x".repeat(128) }))).toBe("ok");
    expect(reason(JSON.stringify({ user_id: "a", user_info: { bio: "x".repeat(1100) } }))).toMatch(/over 1024 bytes/);
  });
});

describe("pusher auth: socket ids", () => {
  it("Should issue Pusher-shaped socket ids that carry their shard", () => {
    for (const shard of [0, 1, 7, 42, 999_999]) {
      const id = newGatewayClientId(shard);
      expect(id).toMatch(/^\d+\.\d{16}$/);
      expect(gatewayOfClientId(id)).toBe(shard);
    }
    expect(newGatewayClientId(3, Uint8Array.from({ length: 16 }, (_, i) => i))).toBe("3.0123456789012345");
  });

  it("Should skip random bytes that would bias the digits", () => {
    const bytes = new Uint8Array(20).fill(255);
    bytes.set([249, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], 4);
    expect(newGatewayClientId(1, bytes)).toBe("1.9123456789012345");
    expect(() => newGatewayClientId(1, new Uint8Array(16).fill(250))).toThrow(RangeError);
    expect(() => newGatewayClientId(-1)).toThrow(RangeError);
  });

  it("Should find no shard in what it did not issue", () => {
    for (const bad of ["1.2", "123.456", "a.1234567890123456", "01.1234567890123456", "1.12345678901234567", "", null, 7]) {
      expect(gatewayOfClientId(bad), String(bad)).toBeNull();
    }
  });

  it("Should not repeat socket ids", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newGatewayClientId(0)));
    expect(ids.size).toBe(1000);
  });
});
