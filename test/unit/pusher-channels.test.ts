import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allowsClientEvents,
  channelRoom,
  classifyChannel,
  isChannelName,
  needsAuth,
  roomChannel,
  userChannel,
} from "../../src/gateway/pusher/channels";

const kindOf = (name: string) => {
  const result = classifyChannel(name);
  return result.ok ? [result.channel.kind, result.channel.cache] : result.reason;
};

describe("pusher channels", () => {
  it("Should accept Pusher's example name and 164 chars of the allowed set, and nothing else", () => {
    expect(isChannelName("foo-bar_1234@=,.;")).toBe(true);
    expect(isChannelName("x".repeat(164))).toBe(true);
    expect(isChannelName("x".repeat(165))).toBe(false);
    expect(isChannelName("")).toBe(false);
    for (const bad of ["a b", "a:b", "a/b", "ü", "a#b", "#other", "a\n"]) expect(isChannelName(bad), bad).toBe(false);
    expect(isChannelName(42)).toBe(false);
    expect(classifyChannel("a:b")).toEqual({ ok: false, reason: "invalid channel name: must be 1-164 chars of [A-Za-z0-9_-=@,.;]" });
  });

  it("Should classify every prefix, cache variants included", () => {
    expect(kindOf("orders")).toEqual(["public", false]);
    expect(kindOf("cache-prices")).toEqual(["public", true]);
    expect(kindOf("private-orders.1")).toEqual(["private", false]);
    expect(kindOf("private-cache-orders")).toEqual(["private", true]);
    expect(kindOf("private-encrypted-orders")).toEqual(["encrypted", false]);
    expect(kindOf("private-encrypted-cache-orders")).toEqual(["encrypted", true]);
    expect(kindOf("presence-chat.1")).toEqual(["presence", false]);
    expect(kindOf("presence-cache-chat")).toEqual(["presence", true]);
    // A prefix only counts at the start.
    expect(kindOf("my-private-cache-x")).toEqual(["public", false]);
  });

  it("Should take #server-to-user-<id> as the user's channel only when the id is a uid", () => {
    expect(classifyChannel("#server-to-user-42")).toEqual({
      ok: true,
      channel: { name: "#server-to-user-42", kind: "user", cache: false, userId: "42" },
    });
    expect(classifyChannel("#server-to-user-a:b@c").ok).toBe(true);
    expect(classifyChannel("#server-to-user-").ok).toBe(false);
    expect(classifyChannel("#server-to-user-a b").ok).toBe(false);
    expect(classifyChannel(`#server-to-user-${"x".repeat(129)}`).ok).toBe(false);
    expect(userChannel("42")).toBe("#server-to-user-42");
  });

  it("Should ask for auth and allow client events on authorized channels only", () => {
    expect(["public", "private", "encrypted", "presence", "user"].map((k) => needsAuth(k as never))).toEqual([
      false,
      true,
      true,
      true,
      false,
    ]);
    expect(allowsClientEvents("public")).toBe(false);
    expect(allowsClientEvents("user")).toBe(false);
    expect(allowsClientEvents("presence")).toBe(true);
  });

  it("Should map a channel to its room and back: a channel is the group of its name, a user the uid", () => {
    expect(channelRoom("orders")).toBe("group:orders");
    expect(channelRoom("presence-chat.1")).toBe("group:presence-chat.1");
    expect(channelRoom("#server-to-user-u1")).toBe("uid:u1");
    expect(channelRoom("a b")).toBeNull();
    expect(roomChannel("uid:u1")).toBe("#server-to-user-u1");
    expect(roomChannel("group:orders")).toBe("orders");
    // Native group names may hold ":", channel names may not.
    expect(roomChannel("group:a:b")).toBeNull();
    expect(roomChannel("group:#server-to-user-u1")).toBeNull();
    expect(roomChannel("other:x")).toBeNull();
  });

  it("Should round-trip every valid channel name through its room", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_\-=@,.;]{1,164}$/), (name) => {
        const room = channelRoom(name);
        expect(room).toBe(`group:${name}`);
        expect(roomChannel(room!)).toBe(name);
      }),
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,128}$/), (uid) => {
        expect(roomChannel(channelRoom(userChannel(uid))!)).toBe(userChannel(uid));
      }),
    );
  });
});
