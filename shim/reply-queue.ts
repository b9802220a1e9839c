/** Per-connection answers in input order. Pure: no Node APIs. */

/**
 * Hands out one slot per input line and writes the answers in slot order, however out of order
 * they settle. Answers that become writable together go out in one `write`.
 * @example
 * const queue = new ReplyQueue((text) => socket.write(text));
 * const a = queue.reserve(), b = queue.reserve();
 * queue.settle(b, "fail\n"); // nothing written yet: a is still pending
 * queue.settle(a, "ok\n");   // writes "ok\nfail\n"
 */
export class ReplyQueue {
  private readonly settled = new Map<number, string>();
  private nextSlot = 0;
  private nextToWrite = 0;

  constructor(private readonly write: (text: string) => void) {}

  /** Reserves the slot of the next input line. */
  reserve(): number {
    return this.nextSlot++;
  }

  /** Records the answer of `slot`; writes every answer that is now next in line. */
  settle(slot: number, answer: string): void {
    if (slot < this.nextToWrite || slot >= this.nextSlot || this.settled.has(slot)) {
      throw new Error(`slot ${slot} is not pending`);
    }
    this.settled.set(slot, answer);
    let out = "";
    for (let text = this.settled.get(this.nextToWrite); text !== undefined; text = this.settled.get(this.nextToWrite)) {
      this.settled.delete(this.nextToWrite++);
      out += text;
    }
    if (out !== "") this.write(out);
  }

  /** Lines reserved and not yet answered. */
  get pending(): number {
    return this.nextSlot - this.nextToWrite;
  }
}
