/** Counting deliveries and summarising timings. Pure. */

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of `values` in ms, rounded to 0.1 ms. */
export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)], 1);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round(sorted[sorted.length - 1], 1) };
}

export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Per second, from a count and a span in ms. */
export function perSecond(count: number, ms: number): number {
  return ms > 0 ? round((count * 1000) / ms) : 0;
}

/** Deliveries of `expected` distinct keys (0..expected-1): which arrived, when, how late. */
export class Recorder {
  private readonly seen: Uint8Array;
  readonly latencies: number[] = [];
  count = 0;
  duplicates = 0;
  firstAt = Infinity;
  lastAt = 0;

  constructor(readonly expected: number) {
    this.seen = new Uint8Array(expected);
  }

  /** Records a delivery of `key`; false when `key` is not one this recorder expects. */
  hit(key: number, latency: number, at: number): boolean {
    if (key < 0 || key >= this.expected) return false;
    if (this.seen[key]) {
      this.duplicates++;
      return true;
    }
    this.seen[key] = 1;
    this.count++;
    this.latencies.push(latency);
    if (at < this.firstAt) this.firstAt = at;
    if (at > this.lastAt) this.lastAt = at;
    return true;
  }

  get done(): boolean {
    return this.count >= this.expected;
  }

  get lost(): number {
    return this.expected - this.count;
  }
}
