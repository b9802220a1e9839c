import { describe, expect, it } from "vitest";
import { OUTBOUND_WINDOW_MS, OutboundMeter } from "../../src/room/outbound";

describe("OutboundMeter", () => {
  it("Should judge a socket that never acknowledged by what it was sent in the current window", () => {
    const meter = new OutboundMeter<object>(100);
    const ws = {};
    expect(meter.sent(ws, 60, 0)).toBe(false);
    expect(meter.sent(ws, 40, 1)).toBe(false);
    expect(meter.sent(ws, 1, 2)).toBe(true);
  });

  it("Should start a silent socket's count again in each window, so a steady trickle never trips it", () => {
    const meter = new OutboundMeter<object>(100);
    const ws = {};
    for (let t = 0; t < 10 * OUTBOUND_WINDOW_MS; t += OUTBOUND_WINDOW_MS / 2) expect(meter.sent(ws, 50, t)).toBe(false);
    expect(meter.sent(ws, 1, 9.5 * OUTBOUND_WINDOW_MS + 1)).toBe(true); // 50 + 50 + 1 in the window that began at 9 W
  });

  it("Should judge an acknowledging socket by what it has not acknowledged, whatever the window", () => {
    const meter = new OutboundMeter<object>(100);
    const ws = {};
    meter.acked(ws, 0, 0);
    for (let i = 0; i < 50; i++) {
      expect(meter.sent(ws, 90, i * OUTBOUND_WINDOW_MS)).toBe(false);
      meter.acked(ws, 90, i * OUTBOUND_WINDOW_MS);
    }
    expect(meter.sent(ws, 90, 0)).toBe(false);
    expect(meter.behind(ws)).toBe(90);
    expect(meter.sent(ws, 11, 0)).toBe(true);
  });

  it("Should close in on a reader that acknowledges less than it is sent", () => {
    const meter = new OutboundMeter<object>(1000);
    const ws = {};
    meter.acked(ws, 0, 0);
    const verdicts: boolean[] = [];
    for (let i = 0; i < 20; i++) {
      verdicts.push(meter.sent(ws, 100, i));
      meter.acked(ws, 40, i);
    }
    expect(verdicts.indexOf(true)).toBe(16); // 60 more behind per message: over 1000 at the 17th
  });

  it("Should never count more acknowledged than sent (counters restart after hibernation)", () => {
    const meter = new OutboundMeter<object>(100);
    const ws = {};
    meter.acked(ws, 10_000, 0);
    expect(meter.behind(ws)).toBe(0);
    expect(meter.sent(ws, 100, 0)).toBe(false);
    expect(meter.sent(ws, 1, 0)).toBe(true);
  });

  it("Should keep each socket's counters apart", () => {
    const meter = new OutboundMeter<object>(10);
    const [a, b] = [{}, {}];
    expect(meter.sent(a, 11, 0)).toBe(true);
    expect(meter.sent(b, 10, 0)).toBe(false);
    expect(meter.behind({})).toBe(0);
  });
});
