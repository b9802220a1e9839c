import { describe, expect, it } from "vitest";
import { RATE_WINDOW_MS, RateLimiter } from "../../src/room/rate-limit";

describe("RateLimiter", () => {
  it("Should allow the limit, warn past it, and close past twice the limit", () => {
    const limiter = new RateLimiter<object>(3);
    const key = {};
    const verdicts = Array.from({ length: 7 }, () => limiter.hit(key, 1000));
    expect(verdicts).toEqual(["ok", "ok", "ok", "warn", "warn", "warn", "close"]);
  });

  it("Should start a fresh window after RATE_WINDOW_MS and count keys apart", () => {
    const limiter = new RateLimiter<object>(1);
    const a = {};
    const b = {};
    expect(limiter.hit(a, 0)).toBe("ok");
    expect(limiter.hit(a, 1)).toBe("warn");
    expect(limiter.hit(b, 1)).toBe("ok");
    expect(limiter.hit(a, RATE_WINDOW_MS)).toBe("ok");
  });
});
