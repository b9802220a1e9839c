/** Splits a TCP byte stream into text lines with a bounded buffer. Pure: no Node APIs. */

const LF = 0x0a;
const CR = 0x0d;

/** What one terminated line turned out to be. */
export type LineEvent =
  | { kind: "line"; text: string; bytes: number }
  | { kind: "oversize"; bytes: number }
  | { kind: "not_utf8"; bytes: number };

/**
 * Cuts a stream into `\n`-terminated lines (a `\r` before the `\n` is dropped). A line longer
 * than `maxLineBytes` is discarded as it arrives, so a peer that never sends `\n` costs at most
 * `maxLineBytes` of memory; it still yields one `oversize` event when its `\n` comes, keeping
 * one answer per input line.
 * @example new LineSplitter(1024).push(bytes) // [{ kind: "line", text: "{\"uid\":\"u1\"}", bytes: 12 }]
 */
export class LineSplitter {
  private parts: Uint8Array[] = [];
  private size = 0;
  /** Bytes of the current line dropped for being over the limit; -1 while under it. */
  private dropped = -1;
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });

  /** Room for the line plus the `\r` of a `\r\n`. */
  private readonly cap: number;

  constructor(readonly maxLineBytes: number) {
    this.cap = maxLineBytes + 1;
  }

  /** Feeds one chunk; returns the lines it completed, in order. */
  push(chunk: Uint8Array): LineEvent[] {
    const events: LineEvent[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(LF); nl !== -1; nl = chunk.indexOf(LF, start)) {
      events.push(this.finish(chunk.subarray(start, nl)));
      start = nl + 1;
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
    return events;
  }

  /** Bytes of an unterminated line still held or dropped (lost if the peer goes now). */
  get partialBytes(): number {
    return this.dropped >= 0 ? this.dropped : this.size;
  }

  private keep(piece: Uint8Array): void {
    if (this.dropped >= 0) {
      this.dropped += piece.length;
    } else if (this.size + piece.length > this.cap) {
      this.dropped = this.size + piece.length;
      this.parts = [];
      this.size = 0;
    } else {
      // A copy, so a small remainder does not pin the whole socket chunk.
      this.parts.push(piece.slice());
      this.size += piece.length;
    }
  }

  private finish(tail: Uint8Array): LineEvent {
    if (this.dropped >= 0 || this.size + tail.length > this.cap) {
      const bytes = this.partialBytes + tail.length;
      this.reset();
      return { kind: "oversize", bytes };
    }
    let line = tail;
    if (this.parts.length > 0) {
      line = new Uint8Array(this.size + tail.length);
      let offset = 0;
      for (const part of this.parts) {
        line.set(part, offset);
        offset += part.length;
      }
      line.set(tail, offset);
    }
    this.reset();
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length > this.maxLineBytes) return { kind: "oversize", bytes: line.length };
    try {
      return { kind: "line", text: this.decoder.decode(line), bytes: line.length };
    } catch {
      return { kind: "not_utf8", bytes: line.length };
    }
  }

  private reset(): void {
    this.parts = [];
    this.size = 0;
    this.dropped = -1;
  }
}
