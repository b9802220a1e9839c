/**
 * The seed's text protocol on the shim's port: one JSON object per line in, one `ok`/`fail`
 * line out. Pure: no Node APIs.
 */

// Workerman's Text protocol appends "\n" to what the seed sends with `send('ok')`.
export const OK_REPLY = "ok\n";
export const FAIL_REPLY = "fail\n";

/** A line worth sending to `POST /push`, or why it is not. */
export type CheckedLine =
  | { ok: true; body: string; message: Record<string, unknown> }
  | { ok: false; reason: string };

/** Whether the push reached a live connection, and why not. */
export type Outcome = { ok: true } | { ok: false; reason: string };

/** Parses one line; only a JSON object is a message (an array would be a batch of its own). */
export function checkLine(text: string): CheckedLine {
  if (text.trim() === "") return { ok: false, reason: "empty line" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: `line is not valid JSON (${text.length} chars)` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, reason: "line is JSON but not an object" };
  }
  return { ok: true, body: text, message: value as Record<string, unknown> };
}

/** Short description of a message's target for logs (never its payload). */
export function describeTarget(message: Record<string, unknown>): string {
  for (const key of ["uid", "group", "clientId"]) {
    if (typeof message[key] === "string") return `${key} ${JSON.stringify(message[key])}`;
  }
  for (const key of ["uids", "groups"]) {
    if (Array.isArray(message[key])) return `${key} (${(message[key] as unknown[]).length})`;
  }
  return message.all === true ? "all" : "no target";
}

/** Judges one `POST /push` answer (a single message) by its status and JSON body. */
export function judgeAnswer(status: number, body: unknown): Outcome {
  if (status !== 200) return { ok: false, reason: `HTTP ${status} ${errorText(body)}` };
  return judgeResult(body);
}

/** Judges one item of a batch answer: `{ok:true,delivered}` or `{ok:false,error}`. */
export function judgeResult(result: unknown): Outcome {
  if (!isRecord(result)) return { ok: false, reason: "unexpected answer from edgepush" };
  if (result.ok !== true) return { ok: false, reason: errorText(result) };
  if (typeof result.delivered === "number" && result.delivered > 0) return { ok: true };
  const why = result.duplicate === true ? "duplicate id, not delivered again" : "reached no live connection";
  return { ok: false, reason: `${why} (delivered 0, queued ${String(result.queued ?? 0)})` };
}

/** The `results` of a batch answer with one entry per message, or an outcome failing them all. */
export function batchResults(status: number, body: unknown, count: number): unknown[] | Outcome {
  if (status !== 200) return { ok: false, reason: `HTTP ${status} ${errorText(body)}` };
  const results = isRecord(body) ? body.results : undefined;
  if (!Array.isArray(results) || results.length !== count) {
    return { ok: false, reason: "batch answer without one result per message (does this edgepush take batches?)" };
  }
  return results;
}

function errorText(body: unknown): string {
  const error = isRecord(body) ? body.error : undefined;
  if (isRecord(error) && typeof error.code === "string") return `${error.code}: ${String(error.message ?? "")}`;
  return "unexpected answer from edgepush";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
