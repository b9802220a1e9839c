/** One authenticated JSON call with retries: the only place the SDK touches the network. */
import { EdgePushError } from "./errors";

export interface TransportOptions {
  url: string;
  secret: string;
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
  fetch: typeof fetch;
}

/** Longest wait between two attempts, Retry-After included. */
const MAX_DELAY_MS = 30_000;

/**
 * Sends `body` as JSON and returns the parsed answer; throws EdgePushError. Retries network
 * errors, timeouts and retryable 5xx with exponential backoff and jitter. Only call it for
 * requests that are safe to repeat: every push carries an id, so the server drops a repeat.
 */
export async function call<T>(options: TransportOptions, method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = {
    method,
    headers: {
      Authorization: `Bearer ${options.secret}`,
      Accept: "application/json",
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
  for (let attempt = 1; ; attempt++) {
    const outcome = await attemptOnce<T>(options, `${options.url}${path}`, init, attempt);
    if (outcome.ok) return outcome.value;
    const { error, retryAfterMs } = outcome;
    if (!error.retryable || attempt > options.retries) throw error;
    await sleep(retryAfterMs ?? backoff(options.retryDelayMs, attempt));
  }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: EdgePushError; retryAfterMs?: number };

async function attemptOnce<T>(options: TransportOptions, url: string, init: RequestInit, attempt: number): Promise<Outcome<T>> {
  let response: Response;
  let text: string;
  try {
    response = await options.fetch(url, { ...init, signal: AbortSignal.timeout(options.timeoutMs) });
    text = await response.text();
  } catch (err) {
    return { ok: false, error: unreachable(options, url, err, attempt) };
  }
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    const snippet = text.slice(0, 120).replace(/\s+/g, " ");
    const error = new EdgePushError(response.status, "bad_response", `${init.method} ${url} answered ${response.status} with non-JSON: ${snippet}`, attempt);
    return { ok: false, error };
  }
  if (response.ok) return { ok: true, value: answer as T };
  const { code, message } = errorOf(answer, response.status);
  return { ok: false, error: new EdgePushError(response.status, code, message, attempt), retryAfterMs: retryAfter(response) };
}

function errorOf(answer: unknown, status: number): { code: string; message: string } {
  const error = (answer as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (error && typeof error.code === "string") {
    return { code: error.code, message: typeof error.message === "string" ? error.message : error.code };
  }
  return { code: "bad_response", message: `HTTP ${status} without an edgepush error body` };
}

function unreachable(options: TransportOptions, url: string, err: unknown, attempt: number): EdgePushError {
  const name = (err as { name?: string } | null)?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return new EdgePushError(0, "timeout", `no answer from ${url} within ${options.timeoutMs} ms (${attempt} attempts)`, attempt, { cause: err });
  }
  // Node's fetch says "fetch failed" and puts the reason (ECONNREFUSED …) in `cause`.
  const cause = (err as { cause?: { code?: string; message?: string } } | null)?.cause;
  const why = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
  return new EdgePushError(0, "network_error", `could not reach ${options.url} (${why}) after ${attempt} attempts`, attempt, { cause: err });
}

/** Retry-After in seconds (the only form edgepush sends), capped. */
function retryAfter(response: Response): number | undefined {
  const header = response.headers.get("Retry-After");
  const seconds = header === null ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, MAX_DELAY_MS) : undefined;
}

/** Full jitter: a random wait up to base·2^(attempt-1), so retrying clients do not march in step. */
export function backoff(baseMs: number, attempt: number): number {
  return Math.random() * Math.min(baseMs * 2 ** (attempt - 1), MAX_DELAY_MS);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
