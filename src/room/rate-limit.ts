/** Fixed-window rate limit per key (a socket). Pure: no Workers or Node APIs. */

export const RATE_WINDOW_MS = 10_000;

/** `ok` within the limit, `warn` over it, `close` at more than twice the limit in one window. */
export type RateVerdict = "ok" | "warn" | "close";

interface Window {
  start: number;
  count: number;
}

/**
 * Counts hits per key in windows of RATE_WINDOW_MS. Keys are held weakly: a socket that is
 * gone takes its window with it (and hibernation forgets all windows, which only forgives).
 * @example const limiter = new RateLimiter(100); if (limiter.hit(ws, Date.now()) !== "ok") …
 */
export class RateLimiter<K extends object> {
  private readonly windows = new WeakMap<K, Window>();

  constructor(
    readonly limit: number,
    private readonly windowMs = RATE_WINDOW_MS,
  ) {}

  hit(key: K, now: number): RateVerdict {
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) this.windows.set(key, (window = { start: now, count: 0 }));
    window.count++;
    if (window.count <= this.limit) return "ok";
    return window.count > 2 * this.limit ? "close" : "warn";
  }
}
