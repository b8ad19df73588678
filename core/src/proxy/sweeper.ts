/** One thing a {@link Sweeper} watches. */
export interface SweepEntry {
  /** The entry's timeout: the sweep runs every quarter of the shortest one (10 ms to 1 s). */
  readonly timeoutMs: number;
  /** Called at each sweep with the sweep's clock; false: drop the entry (done, or timed out). */
  sweep(now: number): boolean;
}

/**
 * Timeouts for many connections with one timer. Arming a timer per connection (or re-arming it
 * on each read, as `socket.setTimeout` does) costs on the hot path; here entries only record
 * what they need and a periodic sweep asks each whether its deadline has passed. A deadline is
 * noticed within one sweep period (a quarter of the entry's timeout, at most 1 s). The timer
 * runs only while something is registered and never keeps the process alive.
 */
export class Sweeper {
  private readonly entries = new Set<SweepEntry>();
  private timer: NodeJS.Timeout | null = null;
  private periodMs = 1000;

  /** Watch `entry` from the next sweep on, shortening the period if its timeout needs it. */
  register(entry: SweepEntry): void {
    this.entries.add(entry);
    const period = Math.max(10, Math.min(1000, Math.floor(entry.timeoutMs / 4)));
    if (this.timer === null || period < this.periodMs) this.start(period);
  }

  /** Stop watching `entry` (nothing happens if it is not registered). */
  unregister(entry: SweepEntry): void {
    if (this.entries.delete(entry)) this.stopIfEmpty();
  }

  private start(period: number): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.periodMs = period;
    this.timer = setInterval(() => this.sweep(), period);
    this.timer.unref();
  }

  private sweep(): void {
    const now = Date.now();
    for (const e of this.entries) {
      if (!e.sweep(now)) this.entries.delete(e);
    }
    this.stopIfEmpty();
  }

  private stopIfEmpty(): void {
    if (this.entries.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
      this.periodMs = 1000;
    }
  }
}
