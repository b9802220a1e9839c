/** `POST /push` calls for lines: one call per line, batch calls, and `--batch-ms` coalescing. */
import { MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, type Line, type Sender } from "./lane";
import { batchResults, judgeAnswer, judgeResult, type Outcome } from "./line-protocol";
import type { PushClient } from "./push-client";

/** A line alone is its body exactly as the backend wrote it; several go as a JSON array of them. */
export function directSender(client: PushClient): Sender {
  return {
    async one(line) {
      try {
        const answer = await client.post(line.body);
        return judgeAnswer(answer.status, answer.body);
      } catch (err) {
        return { ok: false, reason: (err as Error).message };
      }
    },
    async many(lines) {
      let results: unknown[] | Outcome;
      try {
        const answer = await client.post(`[${lines.map((l) => l.body).join(",")}]`);
        results = batchResults(answer.status, answer.body, lines.length);
      } catch (err) {
        results = { ok: false, reason: (err as Error).message };
      }
      return lines.map((_, i) => (Array.isArray(results) ? judgeResult(results[i]) : results));
    },
  };
}

/**
 * `--batch-ms`: single lines from every connection that arrive within `batchMs` share one batch
 * call, for many backends each writing a line at a time. Each line keeps its own outcome.
 */
export function coalescingSender(client: PushClient, batchMs: number): Sender {
  const direct = directSender(client);
  let window: Array<{ line: Line; resolve: (outcome: Outcome) => void }> = [];
  let bytes = 2;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = window;
    window = [];
    bytes = 2;
    if (batch.length === 0) return;
    const lines = batch.map((w) => w.line);
    const sent = batch.length === 1 ? direct.one(lines[0]).then((o) => [o]) : direct.many(lines);
    void sent.then((outcomes) => batch.forEach((w, i) => w.resolve(outcomes[i])));
  };

  return {
    one(line) {
      if (line.bytes + 3 > MAX_BATCH_BYTES) return direct.one(line);
      if (window.length === MAX_BATCH_MESSAGES || bytes + line.bytes + 1 > MAX_BATCH_BYTES) flush();
      return new Promise((resolve) => {
        window.push({ line, resolve });
        bytes += line.bytes + 1;
        timer ??= setTimeout(flush, batchMs);
      });
    },
    many: (lines) => direct.many(lines),
  };
}
