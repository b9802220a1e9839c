/** Settings of the backend webhooks. Pure: no Workers or Node APIs. */

/** The wrangler vars this module reads (a subset of `Env`). */
export interface WebhookVars {
  WEBHOOK_URL?: string;
  WEBHOOK_SECRET?: string;
  WEBHOOK_OFFLINE_DELAY_S?: string;
  WEBHOOK_BATCH_EVENTS?: string;
  WEBHOOK_BATCH_MS?: string;
  WEBHOOK_RETRY_S?: string;
  /** `"true"`: Pusher client events (`client-*`) are delivered too, as Pusher's "client events" webhook. */
  WEBHOOK_PUSHER_CLIENT_EVENTS?: string;
  /** Where Pusher-format deliveries go instead of WEBHOOK_URL (comma list). */
  PUSHER_WEBHOOK_URL?: string;
  PUSHER_APP_KEY?: string;
  PUSHER_APP_SECRET?: string;
}

/** One receiver: a URL and the format (and credentials) it is sent in. */
export type Destination =
  | { format: "edgepush"; url: string; secret: string }
  | { format: "pusher"; url: string; key: string; secret: string };

export interface WebhookConfig {
  destinations: Destination[];
  /** A uid whose last connection went is reported offline only if none came back within this. */
  offlineDelayMs: number;
  /** Most events in one delivery. */
  batchEvents: number;
  /** Longest an event waits for others to share its delivery. */
  batchMs: number;
  /** A failing receiver is retried for this long (at least 5 minutes) before events are dropped. */
  retryMs: number;
  /** Deliver Pusher client events (`client-*`). */
  pusherClientEvents: boolean;
}

/** Most bytes of events in one delivery (a single larger event still goes alone). */
export const BATCH_MAX_BYTES = 256 * 1024;
/** A receiver that has not answered within this is treated as a failed delivery. */
export const DELIVERY_TIMEOUT_MS = 10_000;

const NUMBERS = {
  offlineDelayMs: { variable: "WEBHOOK_OFFLINE_DELAY_S", fallback: 3, min: 0, max: 3600, scale: 1000 },
  batchEvents: { variable: "WEBHOOK_BATCH_EVENTS", fallback: 100, min: 1, max: 1000, scale: 1 },
  batchMs: { variable: "WEBHOOK_BATCH_MS", fallback: 200, min: 0, max: 60_000, scale: 1 },
  retryMs: { variable: "WEBHOOK_RETRY_S", fallback: 300, min: 300, max: 86400, scale: 1000 },
} as const satisfies Record<string, { variable: keyof WebhookVars; fallback: number; min: number; max: number; scale: number }>;

/** Why the webhooks are off although a URL is set: the variable to fix and what is wrong. */
export class WebhookConfigError extends Error {
  constructor(readonly variable: keyof WebhookVars, message: string) {
    super(message);
  }
}

/**
 * The webhook settings, or null when no URL is set (webhooks off). Throws a WebhookConfigError
 * naming the variable when a URL is set but the rest cannot work (no secret, a bad URL or number).
 * @example readWebhookConfig({ WEBHOOK_URL: "https://api.example.com/hooks", WEBHOOK_SECRET: "s" })
 */
export function readWebhookConfig(vars: WebhookVars): WebhookConfig | null {
  const urls = urlList(vars, "WEBHOOK_URL");
  const pusherUrls = urlList(vars, "PUSHER_WEBHOOK_URL");
  const pusher = vars.PUSHER_APP_KEY && vars.PUSHER_APP_SECRET ? { key: vars.PUSHER_APP_KEY, secret: vars.PUSHER_APP_SECRET } : null;
  if (urls.length === 0 && (pusherUrls.length === 0 || !pusher)) return null;
  const destinations: Destination[] = [];
  if (urls.length > 0) {
    const secret = vars.WEBHOOK_SECRET;
    if (!secret) {
      throw new WebhookConfigError("WEBHOOK_SECRET", "WEBHOOK_URL is set but WEBHOOK_SECRET is not: run `wrangler secret put WEBHOOK_SECRET`; no webhook is sent until then");
    }
    for (const url of urls) destinations.push({ format: "edgepush", url, secret });
  }
  if (pusher) {
    for (const url of pusherUrls.length > 0 ? pusherUrls : urls) destinations.push({ format: "pusher", url, ...pusher });
  }
  const out = { destinations, pusherClientEvents: vars.WEBHOOK_PUSHER_CLIENT_EVENTS === "true" } as WebhookConfig;
  for (const [key, s] of Object.entries(NUMBERS) as [keyof typeof NUMBERS, (typeof NUMBERS)[keyof typeof NUMBERS]][]) {
    const raw = vars[s.variable];
    const value = raw === undefined || raw === "" ? s.fallback : Number(raw);
    if (!Number.isSafeInteger(value) || value < s.min || value > s.max) {
      throw new WebhookConfigError(s.variable, `${s.variable} must be an integer from ${s.min} to ${s.max}, got ${JSON.stringify(raw)}`);
    }
    out[key] = value * s.scale;
  }
  return out;
}

function urlList(vars: WebhookVars, variable: "WEBHOOK_URL" | "PUSHER_WEBHOOK_URL"): string[] {
  const list = (vars[variable] ?? "").split(",").map((u) => u.trim()).filter((u) => u !== "");
  for (const url of list) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      // reported below
    }
    if (!parsed || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
      throw new WebhookConfigError(variable, `${variable}: ${JSON.stringify(url)} is not an http(s) URL`);
    }
  }
  return list;
}

/** The origin of a receiver's URL, for log lines (a path or query may carry a credential). */
export function destinationLabel(destination: Destination): string {
  return `${destination.format} ${new URL(destination.url).origin}`;
}

// One line per isolate and problem, not one per Durable Object that reads the settings.
const warned = new Set<string>();

/** Like `readWebhookConfig`, but a bad setting logs `misconfigured` once and turns webhooks off. */
export function loadWebhookConfig(vars: WebhookVars, log: (fields: Record<string, unknown>) => void): WebhookConfig | null {
  try {
    return readWebhookConfig(vars);
  } catch (err) {
    if (!(err instanceof WebhookConfigError)) throw err;
    if (!warned.has(err.message)) {
      warned.add(err.message);
      log({ variable: err.variable, message: err.message });
    }
    return null;
  }
}
