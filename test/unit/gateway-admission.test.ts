import { describe, expect, it } from "vitest";
import { readLimits, type Env } from "../../src/env";
import { admitFrame, admitUpgrade, groupsOf, refuseFrame, type FrameGate } from "../../src/gateway/admission";
import { GATEWAY_HEADER, type GatewayAttachment } from "../../src/gateway/types";
import { ANSWERS_PER_WINDOW, BUDGET_WINDOW_MS, FrameBudget } from "../../src/room/frame-budget";

const limits = readLimits({} as Env);
const headers = (h: Record<string, string>) => new Headers(h);

describe("admitUpgrade", () => {
  it("Should build a connection on the gateway's shard with the token's uid, groups and format", () => {
    const admitted = admitUpgrade(headers({
      [GATEWAY_HEADER.protocol]: "gateway", [GATEWAY_HEADER.uid]: "u1", [GATEWAY_HEADER.groups]: '["g1",7,"g2"]',
      [GATEWAY_HEADER.format]: "envelope", [GATEWAY_HEADER.since]: "12",
    }), "gw:3", 0, limits);
    expect(admitted.attachment).toMatchObject({ protocol: "gateway", uid: null, format: "envelope", subs: [], grants: ["g1", "g2"] });
    expect(admitted.attachment.id).toMatch(/^3\.\d{16}$/);
    expect(admitted).toMatchObject({ groups: ["g1", "g2"], autojoin: true, uid: "u1", replay: { since: 12 } });
  });

  it("Should give raw connections no replay and honour autojoin=0", () => {
    const admitted = admitUpgrade(headers({ [GATEWAY_HEADER.protocol]: "pusher", [GATEWAY_HEADER.autojoin]: "0" }), "gw:0", 0, limits);
    expect(admitted).toMatchObject({ autojoin: false, uid: null, groups: [] });
    expect(admitted.replay).toBeUndefined();
    expect(admitted.attachment.grants).toBeUndefined();
  });

  it("Should refuse an unknown protocol with 400 and a full shard with 503 room_full", () => {
    expect(() => admitUpgrade(headers({}), "gw:0", 0, limits)).toThrow(expect.objectContaining({ status: 400, code: "bad_request" }));
    expect(() => admitUpgrade(headers({ [GATEWAY_HEADER.protocol]: "pusher" }), "gw:0", limits.maxSocketsPerRoom, limits))
      .toThrow(expect.objectContaining({ status: 503, code: "room_full" }));
  });
});

describe("admitFrame", () => {
  const attachment = { id: "0.1", protocol: "gateway", uid: null, format: "envelope", subs: [], connectedAt: 0 } as GatewayAttachment;
  function gate(frames = 3, maxFrameBytes = 10) {
    const sent: string[] = [];
    const closed: number[] = [];
    const g: FrameGate = {
      budget: new FrameBudget({ frames, bytes: 1 << 20 }), maxFrameBytes,
      send: (_ws, text) => (sent.push(text), true),
      closeSocket: (_ws, code) => closed.push(code),
    };
    return { g, sent, closed, ws: {} as WebSocket };
  }

  it("Should pass text within the limits through unchanged", () => {
    const { g, sent, closed, ws } = gate();
    expect(admitFrame(g, ws, attachment, "héllo", 0)).toBe("héllo");
    expect({ sent, closed }).toEqual({ sent: [], closed: [] });
  });

  it("Should close 1009 over MAX_FRAME_BYTES counting UTF-8 bytes, and refuse binary frames", () => {
    const { g, sent, closed, ws } = gate();
    expect(admitFrame(g, ws, attachment, "ééééé é", 0)).toBeNull(); // 7 chars, 13 bytes
    expect(closed).toEqual([1009]);
    expect(admitFrame(g, ws, attachment, new ArrayBuffer(2), 0)).toBeNull();
    expect(JSON.parse(sent[0])).toMatchObject({ type: "error", code: "binary_not_supported" });
  });

  it("Should answer the first frame past the budget with budget_exceeded and close 1008", () => {
    const { g, sent, closed, ws } = gate(2);
    expect([1, 2, 3].map(() => admitFrame(g, ws, attachment, "x", 0))).toEqual(["x", "x", null]);
    expect(JSON.parse(sent[0])).toMatchObject({ code: "budget_exceeded" });
    expect(closed).toEqual([1008]);
  });
});

describe("groupsOf", () => {
  it("Should name the group rooms only", () => {
    const subs = [{ room: "group:a" }, { room: "uid:u" }, { room: "group:b" }] as GatewayAttachment["subs"];
    expect(groupsOf({ ...({} as GatewayAttachment), subs })).toEqual(["a", "b"]);
  });
});

describe("refuseFrame", () => {
  it("Should tell a connection of at most ANSWERS_PER_WINDOW refused frames a window, then nothing until the next", () => {
    const sent: string[] = [];
    const g: FrameGate = { budget: new FrameBudget({ frames: 10_000, bytes: 1 << 30 }), maxFrameBytes: 100, send: (_ws, t) => (sent.push(t), true), closeSocket: () => {} };
    const ws = {} as WebSocket;
    const attachment = { id: "0.1", protocol: "gateway", uid: null, format: "envelope", subs: [], connectedAt: 0 } as GatewayAttachment;
    const refuseAt = (now: number) => (admitFrame(g, ws, attachment, "{}", now), refuseFrame(g, ws, attachment, "unknown_type", "no"));
    for (let i = 0; i <= ANSWERS_PER_WINDOW; i++) refuseAt(0);
    expect(sent).toHaveLength(ANSWERS_PER_WINDOW);
    refuseAt(BUDGET_WINDOW_MS);
    expect(sent).toHaveLength(ANSWERS_PER_WINDOW + 1);
    expect(JSON.parse(sent[0])).toMatchObject({ type: "error", code: "unknown_type" });
  });
});
