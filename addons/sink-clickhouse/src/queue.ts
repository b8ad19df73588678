/**
 * A bounded send queue: items are sent in batches (when a batch is full, or `flushMs` after the
 * first item waits), one batch in flight at a time; a failed batch is retried with exponential
 * backoff and nothing else is sent meanwhile. When the queue is full the oldest waiting items
 * are dropped and counted: a sink must never hold the proxy's memory hostage to a server that
 * is down. The batch in flight is never dropped (it is retried first); of the others, the
 * newest are kept.
 */

export interface QueueOptions {
  /** Items per batch. */
  readonly batch: number;
  /** Send a partial batch this long after its first item arrived. */
  readonly flushMs: number;
  /** Most items waiting (the batch in flight included); beyond it the oldest are dropped. */
  readonly max: number;
  /** First retry delay; doubles per failure up to {@link maxBackoffMs}. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
}

export interface QueueStats {
  /** Items waiting, the batch in flight included. */
  readonly queued: number;
  readonly sent: number;
  readonly batches: number;
  readonly dropped: number;
  readonly retries: number;
  /** The last send error, or null once a send succeeded. */
  readonly lastError: string | null;
}

export class BatchQueue<T> {
  private waiting: T[] = [];
  private inflight: T[] | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private sent = 0;
  private batches = 0;
  private dropped = 0;
  private retries = 0;
  private lastError: string | null = null;
  private closed = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly send: (items: T[]) => Promise<void>,
    private readonly opts: QueueOptions,
    /** Called once per failed attempt (for a log line). */
    private readonly onError: (err: Error, attempt: number, retryInMs: number) => void = () => undefined,
  ) {}

  push(item: T): void {
    if (this.closed) return;
    this.waiting.push(item);
    const over = this.waiting.length + (this.inflight?.length ?? 0) - this.opts.max;
    if (over > 0) {
      this.waiting.splice(0, over);
      this.dropped += over;
    }
    if (this.inflight) return;
    if (this.waiting.length >= this.opts.batch) this.kick(0);
    else this.timer ??= setTimeout(() => this.kick(0), this.opts.flushMs).unref();
  }

  get stats(): QueueStats {
    return {
      queued: this.waiting.length + (this.inflight?.length ?? 0),
      sent: this.sent,
      batches: this.batches,
      dropped: this.dropped,
      retries: this.retries,
      lastError: this.lastError,
    };
  }

  /** Send what waits (retrying as usual); resolves once empty, or after `timeoutMs`. Then stops. */
  async close(timeoutMs: number): Promise<void> {
    if (this.inflight === null && this.waiting.length > 0) this.kick(0);
    if (this.inflight !== null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs).unref();
        this.idle.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private kick(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (delayMs > 0) {
      this.timer = setTimeout(() => this.kick(0), delayMs).unref();
      return;
    }
    if (this.closed || this.inflight !== null) return;
    if (this.waiting.length === 0) {
      for (const f of this.idle.splice(0)) f();
      return;
    }
    const batch = this.waiting.splice(0, this.opts.batch);
    this.inflight = batch;
    this.send(batch).then(
      () => {
        this.inflight = null;
        this.failures = 0;
        this.lastError = null;
        this.sent += batch.length;
        this.batches++;
        // More than a batch waiting: send on; else wait for the next batch or the timer.
        if (this.waiting.length >= this.opts.batch || (this.idle.length > 0 && this.waiting.length > 0)) this.kick(0);
        else if (this.waiting.length > 0) this.timer = setTimeout(() => this.kick(0), this.opts.flushMs).unref();
        else for (const f of this.idle.splice(0)) f();
      },
      (err: Error) => {
        // Retry the same batch first: it goes back to the front of the queue.
        this.inflight = null;
        this.waiting = batch.concat(this.waiting);
        const over = this.waiting.length - this.opts.max;
        if (over > 0) {
          this.waiting.splice(0, over);
          this.dropped += over;
        }
        this.failures++;
        this.retries++;
        this.lastError = err.message;
        const delay = Math.min(
          this.opts.maxBackoffMs ?? 30_000,
          (this.opts.backoffMs ?? 500) * 2 ** (this.failures - 1),
        );
        this.onError(err, this.failures, delay);
        if (!this.closed) this.kick(delay);
      },
    );
  }
}
