/** Turns a checked line into a `POST /push` call: one call per line, or coalesced batches. */
import { batchResults, batchable, judgeAnswer, judgeResult, type Outcome } from "./line-protocol";
import type { PushClient } from "./push-client";

export interface Line {
  body: string;
  message: Record<string, unknown>;
}

/** Sends one line to edgepush and says whether it reached a live connection. */
export type Forward = (line: Line) => Promise<Outcome>;

// The Worker takes up to 1000 messages and MAX_BODY_BYTES (1 MiB by default) per call.
export const MAX_BATCH_MESSAGES = 1000;
export const MAX_BATCH_BYTES = 512 * 1024;

/** One `POST /push` per line, the body exactly as the backend wrote it. */
export function directForwarder(client: PushClient): Forward {
  return async (line) => {
    try {
      const answer = await client.post(line.body);
      return judgeAnswer(answer.status, answer.body);
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  };
}

interface Waiting {
  body: string;
  resolve: (outcome: Outcome) => void;
}

/**
 * Collects lines for `batchMs` and sends them as one batch (a JSON array of the lines' own
 * text); each line still gets its own outcome. Lines a batch would alter go out alone.
 */
export function batchForwarder(client: PushClient, batchMs: number): Forward {
  const direct = directForwarder(client);
  let waiting: Waiting[] = [];
  let bytes = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = waiting;
    waiting = [];
    bytes = 0;
    if (batch.length > 0) void sendBatch(client, direct, batch);
  };

  return (line) => {
    const size = Buffer.byteLength(line.body) + 1;
    if (!batchable(line) || size > MAX_BATCH_BYTES) return direct(line);
    if (waiting.length >= MAX_BATCH_MESSAGES || bytes + size > MAX_BATCH_BYTES) flush();
    return new Promise<Outcome>((resolve) => {
      waiting.push({ body: line.body, resolve });
      bytes += size;
      timer ??= setTimeout(flush, batchMs);
    });
  };
}

async function sendBatch(client: PushClient, direct: Forward, batch: Waiting[]): Promise<void> {
  if (batch.length === 1) {
    const [only] = batch;
    only.resolve(await direct({ body: only.body, message: JSON.parse(only.body) }));
    return;
  }
  let results: unknown[] | Outcome;
  try {
    const answer = await client.post(`[${batch.map((w) => w.body).join(",")}]`);
    results = batchResults(answer.status, answer.body, batch.length);
  } catch (err) {
    results = { ok: false, reason: (err as Error).message };
  }
  batch.forEach((w, i) => w.resolve(Array.isArray(results) ? judgeResult(results[i]) : results));
}
