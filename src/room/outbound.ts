/**
 * How far behind each socket is on what the room sent it. workerd queues every `send` without
 * bound and tells nothing of it (no `bufferedAmount`, no backpressure on hibernatable sockets),
 * so the room counts for itself. Pure: no Workers or Node APIs.
 *
 * - A socket that acknowledges what it read (the client library's `{"type":"ack","bytes":n}`,
 *   every ACK_EVERY_CHARS) is behind by exactly what was sent and not acknowledged.
 * - Any other socket (raw, legacy, other libraries) tells nothing: it is taken to be behind by
 *   what it was sent in the current window of OUTBOUND_WINDOW_MS, i.e. it must read at least
 *   the bound per window.
 * Sizes are UTF-16 lengths of the text frames, which both sides can count for free (bytes for ASCII).
 */

export const OUTBOUND_WINDOW_MS = 10_000;

interface Account {
  sent: number;
  acked: number;
  acking: boolean;
  windowStart: number;
  /** `sent` when the current window began. */
  windowBase: number;
}

/**
 * Per-socket outbound counters, held weakly (a socket that is gone takes its counters along;
 * hibernation forgets them all, which only forgives).
 * @example
 * const meter = new OutboundMeter<WebSocket>(4 << 20);
 * ws.send(text);
 * if (meter.sent(ws, text.length, Date.now())) closeTooSlow(ws);
 */
export class OutboundMeter<K extends object> {
  private readonly accounts = new WeakMap<K, Account>();

  constructor(readonly maxBehind: number) {}

  /** Counts `length` sent to `key`; true when that leaves it more than `maxBehind` behind. */
  sent(key: K, length: number, now: number): boolean {
    const account = this.account(key, now);
    account.sent += length;
    if (account.acking) return account.sent - account.acked > this.maxBehind;
    if (now - account.windowStart >= OUTBOUND_WINDOW_MS) {
      account.windowStart = now;
      account.windowBase = account.sent - length;
    }
    return account.sent - account.windowBase > this.maxBehind;
  }

  /** The socket read `length` more; from now on it is judged by its acknowledgements. */
  acked(key: K, length: number, now: number): void {
    const account = this.account(key, now);
    account.acking = true;
    // Never more than was counted: after a wake the counters start again from zero.
    account.acked = Math.min(account.acked + length, account.sent);
  }

  /** How far behind the socket is by the rule that applies to it. */
  behind(key: K): number {
    const account = this.accounts.get(key);
    if (!account) return 0;
    return account.sent - (account.acking ? account.acked : account.windowBase);
  }

  private account(key: K, now: number): Account {
    let account = this.accounts.get(key);
    if (!account) this.accounts.set(key, (account = { sent: 0, acked: 0, acking: false, windowStart: now, windowBase: 0 }));
    return account;
  }
}
