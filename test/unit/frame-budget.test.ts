import { describe, expect, it } from "vitest";
import { ANSWERS_PER_WINDOW, BUDGET_WINDOW_MS, FRAMES_AFTER_CLOSE, FrameBudget } from "../../src/room/frame-budget";

describe("FrameBudget", () => {
  it("Should allow exactly the frame limit in one window and refuse the next frame", () => {
    const budget = new FrameBudget<object>({ frames: 3, bytes: 1000 });
    const ws = {};
    expect([1, 2, 3, 4].map((i) => budget.spend(ws, 1, i))).toEqual([true, true, true, false]);
  });

  it("Should refuse the frame that takes the connection past the byte limit", () => {
    const budget = new FrameBudget<object>({ frames: 100, bytes: 10 });
    const ws = {};
    expect(budget.spend(ws, 6, 0)).toBe(true);
    expect(budget.spend(ws, 4, 1)).toBe(true);
    expect(budget.spend(ws, 1, 2)).toBe(false);
  });

  it("Should start a fresh budget once the window has passed", () => {
    const budget = new FrameBudget<object>({ frames: 1, bytes: 100 });
    const ws = {};
    expect(budget.spend(ws, 1, 0)).toBe(true);
    expect(budget.spend(ws, 1, BUDGET_WINDOW_MS - 1)).toBe(false);
    expect(budget.spend(ws, 1, BUDGET_WINDOW_MS)).toBe(true);
    expect(budget.spend(ws, 1, BUDGET_WINDOW_MS + 1)).toBe(false);
  });

  it("Should keep each connection's budget apart", () => {
    const budget = new FrameBudget<object>({ frames: 1, bytes: 100 });
    const [a, b] = [{}, {}];
    expect(budget.spend(a, 1, 0)).toBe(true);
    expect(budget.spend(a, 1, 0)).toBe(false);
    expect(budget.spend(b, 1, 0)).toBe(true);
  });

  it("Should answer at most ANSWERS_PER_WINDOW refused frames per window", () => {
    const budget = new FrameBudget<object>({ frames: 10_000, bytes: 1e9 });
    const ws = {};
    const answered = Array.from({ length: ANSWERS_PER_WINDOW + 1 }, () => (budget.spend(ws, 2, 0), budget.answer(ws)));
    expect(answered.indexOf(false)).toBe(ANSWERS_PER_WINDOW);
    budget.spend(ws, 2, BUDGET_WINDOW_MS);
    expect(budget.answer(ws)).toBe(true);
  });

  it("Should tell a connection that goes on sending after its close only past FRAMES_AFTER_CLOSE frames", () => {
    const budget = new FrameBudget<object>({ frames: 1, bytes: 100 });
    const ws = {};
    budget.spend(ws, 1, 0);
    const verdicts = Array.from({ length: FRAMES_AFTER_CLOSE + 1 }, () => budget.ignoresClose(ws));
    expect(verdicts.filter(Boolean)).toEqual([true]);
    expect(verdicts.at(-1)).toBe(true);
    expect(budget.ignoresClose({})).toBe(false);
  });

  it("Should name the limits and their variables in what it tells a refused client", () => {
    expect(new FrameBudget({ frames: 5, bytes: 99 }).describe()).toBe(
      "over the frame budget: at most 5 frames and 99 bytes per 10 s (CLIENT_FRAMES_PER_10S, CLIENT_BYTES_PER_10S)",
    );
  });
});
