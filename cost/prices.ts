/**
 * Cloudflare's published prices (Workers Paid plan), the one place `npm run cost` and the README
 * take them from. Check the pages before relying on them: prices change.
 */
export const PRICES = {
  /** When these were read off the pages below. */
  checked: "2026-12-01",
  sources: [
    "https://developers.cloudflare.com/workers/platform/pricing/",
    "https://developers.cloudflare.com/durable-objects/platform/pricing/",
  ],
  workers: {
    planPerMonth: 5,
    requests: { included: 10_000_000, perMillion: 0.3 },
    cpuMs: { included: 30_000_000, perMillion: 0.02 },
  },
  durableObjects: {
    /** HTTP requests, RPC sessions, alarm invocations; incoming WebSocket messages count 1/20 each. */
    requests: { included: 1_000_000, perMillion: 0.15 },
    webSocketMessagesPerRequest: 20,
    durationGbS: { included: 400_000, perMillion: 12.5 },
    /** Each `setAlarm` is billed as one row written. */
    rowsWritten: { included: 50_000_000, perMillion: 1.0 },
    rowsRead: { included: 25_000_000_000, perMillion: 0.001 },
    storageGbMonth: { included: 5, perGb: 0.2 },
  },
} as const;

/** A metered item: what exceeds the included amount, at the per-million price. */
export function overage(used: number, price: { included: number; perMillion: number }): number {
  return (Math.max(0, used - price.included) / 1_000_000) * price.perMillion;
}
