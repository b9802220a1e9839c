/** One backend connection: lines in, pushes out, `ok`/`fail` back in input order. */
import type { Socket } from "node:net";
import { FAIL_REPLY, OK_REPLY, checkLine, describeTarget, type Outcome } from "./line-protocol";
import { Lane, type Sender } from "./lane";
import { LineSplitter, type LineEvent } from "./line-splitter";
import { ReplyQueue } from "./reply-queue";

export interface ConnectionOptions {
  sender: Sender;
  maxLineBytes: number;
  /** Receives one line per failure, saying why. */
  log: (message: string) => void;
  /** Unanswered lines at which the shim stops reading this connection until some settle. */
  maxPending?: number;
}

const DEFAULT_MAX_PENDING = 1024;

/**
 * Serves one backend. Every complete line is pushed even if the backend leaves before its
 * answer; a line cut off by the backend leaving was never answered and is not pushed.
 */
export function serveConnection(socket: Socket, options: ConnectionOptions): void {
  const { log } = options;
  const lane = new Lane(options.sender);
  const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  const splitter = new LineSplitter(options.maxLineBytes);
  let lines = 0;
  let ended = false;
  let gone = false;
  let paused = false;
  const queue = new ReplyQueue((text) => {
    if (!gone) socket.write(text);
  });

  const answer = (slot: number, lineNo: number, outcome: Outcome) => {
    if (!outcome.ok) log(`fail ${peer} line ${lineNo}: ${outcome.reason}`);
    queue.settle(slot, outcome.ok ? OK_REPLY : FAIL_REPLY);
    if (paused && queue.pending <= maxPending / 2) {
      paused = false;
      socket.resume();
    }
    // The backend half-closed after its last line: answer everything, then close our side.
    if (ended && queue.pending === 0 && !gone) socket.end();
  };

  const take = (event: LineEvent) => {
    const lineNo = ++lines;
    const slot = queue.reserve();
    if (event.kind !== "line") return answer(slot, lineNo, { ok: false, reason: rejection(event, options.maxLineBytes) });
    const checked = checkLine(event.text);
    if (!checked.ok) return answer(slot, lineNo, checked);
    const target = describeTarget(checked.message);
    void lane.push({ body: checked.body, message: checked.message, bytes: event.bytes }).then((outcome) =>
      answer(slot, lineNo, outcome.ok ? outcome : { ok: false, reason: `${target}: ${outcome.reason}` }),
    );
  };

  socket.setNoDelay(true);
  socket.on("data", (chunk: Buffer) => {
    for (const event of splitter.push(chunk)) take(event);
    if (queue.pending >= maxPending && !paused) {
      paused = true;
      socket.pause();
    }
  });
  socket.on("end", () => {
    ended = true;
    if (queue.pending === 0) socket.end();
  });
  socket.on("error", () => {
    // 'close' follows and says what was lost; the reason (ECONNRESET, EPIPE) adds nothing.
    gone = true;
  });
  socket.on("close", () => {
    gone = true;
    const lost = [
      queue.pending > 0 ? `${queue.pending} answers undelivered (their pushes still go out)` : "",
      splitter.partialBytes > 0 ? `an unfinished line of ${splitter.partialBytes} bytes dropped, never answered` : "",
    ].filter(Boolean);
    if (lost.length > 0) log(`backend ${peer} left: ${lost.join("; ")}`);
  });
}

function rejection(event: Exclude<LineEvent, { kind: "line" }>, maxLineBytes: number): string {
  return event.kind === "oversize"
    ? `line of ${event.bytes} bytes is over the ${maxLineBytes}-byte limit`
    : `line of ${event.bytes} bytes is not UTF-8`;
}
