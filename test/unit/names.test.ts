import { describe, expect, it } from "vitest";
import { isName, newClientId, parseRoomName, roomName, roomOfClientId } from "../../src/contract/names";

describe("names", () => {
  it("Should accept 1-128 chars of the allowed set and nothing else", () => {
    expect(isName("u1")).toBe(true);
    expect(isName("a.b:c@d-e_f")).toBe(true);
    expect(isName("x".repeat(128))).toBe(true);
    expect(isName("x".repeat(129))).toBe(false);
    expect(isName("")).toBe(false);
    expect(isName("a b")).toBe(false);
    expect(isName("ü")).toBe(false);
    expect(isName(5)).toBe(false);
  });

  it("Should round-trip a room through a clientId", () => {
    const room = roomName("group", "g".repeat(128));
    const id = newClientId(room, new Uint8Array(16).fill(255));
    expect(id.length).toBeLessThanOrEqual(254);
    expect(roomOfClientId(id)).toBe(room);
  });

  it("Should refuse strings that are not clientIds", () => {
    expect(roomOfClientId("nope")).toBeNull();
    expect(roomOfClientId(`${btoa("other:x")}.AAAAAAAAAAAAAAAAAAAAAA`)).toBeNull();
    expect(roomOfClientId(42)).toBeNull();
    expect(parseRoomName("uid:")).toBeNull();
    expect(parseRoomName("uid:a")).toEqual({ kind: "uid", name: "a" });
  });
});
