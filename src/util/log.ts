/** The one structured log line of the Worker and every Durable Object; never secrets or payloads. */

/**
 * Writes `{"event": …, …fields}` as one JSON line; `error` level goes to stderr.
 * @example logEvent("push_failed", { room, error: String(err) }, "error")
 */
export function logEvent(event: string, fields: Record<string, unknown>, level: "info" | "error" = "info"): void {
  const line = JSON.stringify({ event, ...fields });
  if (level === "error") console.error(line);
  else console.log(line);
}

/** The message of a thrown value, for a log field. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
