/**
 * The shim's start-up check: an authenticated `GET /stats`, so a wrong PUSH_SECRET or a wrong URL
 * stops the shim at once instead of turning every line into `fail`, like an offline uid.
 */

export type CheckResult =
  | { ok: true }
  /** `refused`: edgepush answered and said no (wrong secret, misconfigured); `unreachable`: no answer in time. */
  | { ok: false; kind: "refused" | "unreachable"; detail: string };

export interface CheckOptions {
  /** How long to keep trying while edgepush is not answering yet (`npm start` starts it beside the shim). */
  waitMs: number;
  retryMs?: number;
  /** Called once, with why, when the first attempt finds edgepush not answering. */
  onWaiting?: (why: string) => void;
}

// Answers a proxy or a starting server gives before edgepush itself is up: worth waiting for.
const TRANSIENT = new Set([502, 503, 504]);
const ATTEMPT_TIMEOUT_MS = 5000;

/**
 * Asks `{url}/stats` with the secret until it answers or `waitMs` has passed.
 * @example const result = await checkSecret("http://127.0.0.1:8787", secret, { waitMs: 30_000 })
 */
export async function checkSecret(url: string, secret: string, options: CheckOptions): Promise<CheckResult> {
  const endpoint = `${url.replace(/\/+$/, "")}/stats`;
  const deadline = Date.now() + options.waitMs;
  let waiting = false;
  for (;;) {
    const attempt = await askOnce(endpoint, secret, Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, deadline - Date.now())));
    if (attempt.ok || attempt.kind === "refused") return attempt;
    if (Date.now() >= deadline) return attempt;
    if (!waiting) options.onWaiting?.(attempt.detail);
    waiting = true;
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.retryMs ?? 500, Math.max(0, deadline - Date.now()))));
  }
}

async function askOnce(endpoint: string, secret: string, timeoutMs: number): Promise<CheckResult> {
  let res: Response;
  try {
    res = await fetch(endpoint, { headers: { Authorization: `Bearer ${secret}` }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { ok: false, kind: "unreachable", detail: cause ?? (err as Error).message };
  }
  if (res.ok) {
    await res.body?.cancel();
    return { ok: true };
  }
  const text = await res.text().catch(() => "");
  const detail = `HTTP ${res.status}${errorText(text)}`;
  return { ok: false, kind: TRANSIENT.has(res.status) ? "unreachable" : "refused", detail };
}

/** ` code: message` from edgepush's error body, or "" for a body that is not one. */
function errorText(text: string): string {
  try {
    const error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
    return error ? ` ${String(error.code)}: ${String(error.message)}` : "";
  } catch {
    return "";
  }
}
