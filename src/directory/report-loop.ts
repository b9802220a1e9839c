/**
 * Keeps one directory report in flight per Durable Object: changes made while a report is on
 * its way are carried by the next one, so a burst of connects costs a few reports, not one each.
 */

/** Longest a connect or close waits for the directory before going on without it. */
const SETTLE_MS = 5_000;

export class ReportLoop {
  private running: Promise<void> | null = null;
  private dirty = false;

  /**
   * @param send reports what changed; false when a shard missed it
   * @param onMissed called when a report did not land (the caller retries from its alarm)
   */
  constructor(
    private readonly send: () => Promise<boolean>,
    private readonly onMissed: () => void,
  ) {}

  /** Something changed: report it once the report in flight (if any) is done. */
  sync(): Promise<void> {
    this.dirty = true;
    return (this.running ??= this.drain().finally(() => (this.running = null)));
  }

  /** Resolves once every change so far reached the directory (or after SETTLE_MS). */
  settled(): Promise<void> {
    if (!this.running) return Promise.resolve();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, SETTLE_MS)));
    // A pending timer would keep the object from hibernating: clear it as soon as the report lands.
    return Promise.race([this.running, timeout]).finally(() => clearTimeout(timer!));
  }

  private async drain(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      if (!(await this.send())) this.onMissed();
    }
  }
}
