/** Keeps one connection's pushes in line order. Pure: no Node APIs. */
import type { Outcome } from "./line-protocol";

/** A line ready for `POST /push`: its exact text, the parsed object and its size in bytes. */
export interface Line {
  body: string;
  message: Record<string, unknown>;
  bytes: number;
}

/** Sends one line (a call of its own) or several (one batch call, one outcome each). */
export interface Sender {
  one(line: Line): Promise<Outcome>;
  many(lines: Line[]): Promise<Outcome[]>;
}

// The Worker takes up to 1000 messages and MAX_BODY_BYTES (1 MiB by default) per call.
export const MAX_BATCH_MESSAGES = 1000;
export const MAX_BATCH_BYTES = 512 * 1024;

/**
 * One call in flight per connection, as Workerman handled a connection's lines one after another:
 * pages receive a backend's lines in the order it wrote them. Lines that arrive while a call is
 * out go together in the next one, so a pipelining backend costs one round trip per batch.
 * @example const lane = new Lane(sender); await lane.push(line) // { ok: true }
 */
export class Lane {
  private waiting: Array<{ line: Line; resolve: (outcome: Outcome) => void }> = [];
  private busy = false;

  constructor(private readonly sender: Sender) {}

  push(line: Line): Promise<Outcome> {
    const outcome = new Promise<Outcome>((resolve) => this.waiting.push({ line, resolve }));
    if (!this.busy) void this.drain();
    return outcome;
  }

  private async drain(): Promise<void> {
    this.busy = true;
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0, nextGroupSize(this.waiting.map((w) => w.line)));
      const outcomes = await this.send(group.map((w) => w.line));
      group.forEach((w, i) => w.resolve(outcomes[i]));
    }
    this.busy = false;
  }

  private async send(lines: Line[]): Promise<Outcome[]> {
    try {
      return lines.length === 1 ? [await this.sender.one(lines[0])] : await this.sender.many(lines);
    } catch (err) {
      return lines.map(() => ({ ok: false, reason: (err as Error).message }));
    }
  }
}

/**
 * How many lines from the front go in the next call: a run within the batch limits, or one
 * line alone when it is too big to share a call. (Batch items keep their exact text, PHP's
 * `\/` and `\uXXXX` escapes included, so any line may share a call.)
 */
export function nextGroupSize(lines: Line[]): number {
  let bytes = 2;
  let count = 0;
  for (const line of lines) {
    if (count === MAX_BATCH_MESSAGES || bytes + line.bytes + 1 > MAX_BATCH_BYTES) break;
    bytes += line.bytes + 1;
    count++;
  }
  return Math.max(count, 1);
}
