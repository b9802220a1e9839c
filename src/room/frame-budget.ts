/**
 * Per-connection budget of client frames: every frame a socket sends counts, in frames and in
 * bytes, against fixed windows of BUDGET_WINDOW_MS. Pure: no Workers or Node APIs. Shared by the
 * rooms and the gateway tier.
 */

export const BUDGET_WINDOW_MS = 10_000;
/**
 * Frames a connection may still send after it was closed: a client that reads stops at our close
 * within a round trip; one that goes on past this many is not reading and ignores it.
 */
export const FRAMES_AFTER_CLOSE = 200;
/**
 * Error frames one connection is answered per window; the rest of the window's refused frames go
 * unanswered. Each answer is a send (tens of µs in workerd) into a buffer a flooding client may
 * never read: the answers a flood costs stay bounded while the socket stays open.
 */
export const ANSWERS_PER_WINDOW = 100;

export interface BudgetLimits {
  /** Frames one connection may send per window. */
  frames: number;
  /** Bytes one connection may send per window (a text frame counts its UTF-16 length: bytes for ASCII). */
  bytes: number;
}

interface Spent {
  start: number;
  frames: number;
  bytes: number;
  answers: number;
  afterClose: number;
}

/**
 * Counts each connection's frames and bytes per window; asked before a frame is parsed, so a
 * refused frame costs a lookup and two additions. One small record per connection, reused from
 * window to window; keys are held weakly, so a socket that is gone takes its record with it (and
 * hibernation forgets every record, which only forgives).
 * @example
 * const budget = new FrameBudget<WebSocket>({ frames: 2000, bytes: 16 << 20 });
 * if (!budget.spend(ws, message.length, Date.now())) closeOverBudget(ws);
 */
export class FrameBudget<K extends object> {
  private readonly spent = new WeakMap<K, Spent>();

  constructor(readonly limits: BudgetLimits) {}

  /** Counts one frame of `size` bytes; false when it takes the connection past either limit. */
  spend(key: K, size: number, now: number): boolean {
    let spent = this.spent.get(key);
    if (!spent) this.spent.set(key, (spent = { start: now, frames: 0, bytes: 0, answers: 0, afterClose: 0 }));
    else if (now - spent.start >= BUDGET_WINDOW_MS) {
      spent.start = now;
      spent.frames = 0;
      spent.bytes = 0;
      spent.answers = 0;
    }
    spent.frames++;
    spent.bytes += size;
    return spent.frames <= this.limits.frames && spent.bytes <= this.limits.bytes;
  }

  /** Counts an error frame to answer in this window (after `spend`); false past ANSWERS_PER_WINDOW. */
  answer(key: K): boolean {
    const spent = this.spent.get(key);
    return spent === undefined || ++spent.answers <= ANSWERS_PER_WINDOW;
  }

  /**
   * Counts a frame that arrived after the connection was closed (the runtime goes on delivering
   * them until the peer answers the close); true once it is past FRAMES_AFTER_CLOSE.
   */
  ignoresClose(key: K): boolean {
    let spent = this.spent.get(key);
    if (!spent) this.spent.set(key, (spent = { start: 0, frames: 0, bytes: 0, answers: 0, afterClose: 0 }));
    return ++spent.afterClose > FRAMES_AFTER_CLOSE;
  }

  /** What a refused client is told: the limits and the variables that set them. */
  describe(): string {
    const { frames, bytes } = this.limits;
    return `over the frame budget: at most ${frames} frames and ${bytes} bytes per ${BUDGET_WINDOW_MS / 1000} s ` +
      "(CLIENT_FRAMES_PER_10S, CLIENT_BYTES_PER_10S)";
  }
}
