/**
 * Frames for connections whose upgrade is still being answered, sent just after the 101.
 *
 * Why: workerd keeps about 8 KB more per socket, for the socket's whole life, when a frame is sent
 * on it before the Durable Object's `fetch` has returned its 101 (even a one-byte frame; a frame
 * sent from a timer after the return costs ~1 KB). Measured with the bench's idle-socket method
 * (bench/idle-memory.ts: RSS growth over 4000 idle sockets in 16 objects on a fresh plain workerd):
 * the thin baseline 72 KB per socket, 81 KB with a frame sent before its 101, 73 KB with the same
 * frame sent from `setTimeout(…, 0)`. A Pusher connection's `connection_established` is such a frame.
 */
export class OpeningFrames<Socket> {
  private readonly pending = new Map<Socket, string[]>();

  constructor(
    private readonly send: (ws: Socket, text: string) => boolean,
    private readonly later: (run: () => void) => void = (run) => void setTimeout(run, 0),
  ) {}

  /** From now until `release` or `flush`, frames for `ws` wait (in order). */
  hold(ws: Socket): void {
    this.pending.set(ws, []);
  }

  /** Queues `text` when `ws` is held; false when it is not (send it now). */
  queue(ws: Socket, text: string): boolean {
    const frames = this.pending.get(ws);
    if (!frames) return false;
    frames.push(text);
    return true;
  }

  /** Sends the held frames, then lets frames through, once the 101 has been returned. */
  release(ws: Socket): void {
    if (this.pending.has(ws)) this.later(() => this.flush(ws));
  }

  /** Sends the held frames now, in order (before a close, or from `release`), and stops holding. */
  flush(ws: Socket): void {
    const frames = this.pending.get(ws);
    if (!frames) return;
    this.pending.delete(ws);
    for (const text of frames) if (!this.send(ws, text)) return;
  }

  /** Forgets `ws` and its held frames (an upgrade that failed). */
  drop(ws: Socket): void {
    this.pending.delete(ws);
  }
}
