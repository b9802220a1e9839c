/** Reconnect delays. Pure: no timers, no sockets. */

/** How long to wait between reconnect attempts. */
export interface BackoffOptions {
  /** First delay in ms (before jitter). Default 500. */
  minDelay: number;
  /** Cap in ms; no delay is longer. Default 30000. */
  maxDelay: number;
  /** Growth per failed attempt. Default 2. */
  factor: number;
  /** A connection open this long (ms) resets the attempt count. Default 5000. */
  stableAfter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { minDelay: 500, maxDelay: 30_000, factor: 2, stableAfter: 5_000 };

/**
 * Delay before reconnect attempt `attempt` (1-based): exponential up to the cap, with "equal
 * jitter" — a random point in the upper half — so a server restart does not bring every client
 * back in the same millisecond, and no client retries in a tight loop.
 * @example backoffDelay(3, DEFAULT_BACKOFF, Math.random) // between 1000 and 2000
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(options.maxDelay, options.minDelay * options.factor ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
