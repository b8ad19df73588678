/** What the head-timeout sweep asks of an HTTP/1 session. */
export interface HeadWaiter {
  /**
   * `done`: the session left HTTP/1 or closed (stop watching); `busy`: an exchange runs, or the
   * connection idles between requests with nothing received (keep-alive: `tcp_timeout`'s
   * business); `waiting`: a request head has started and is not complete, or the first request
   * of the connection has not come yet.
   */
  headState(): 'done' | 'busy' | 'waiting';
  /** The head did not complete in time: answer 408 if a head started, and close. */
  headTimedOut(seconds: number): void;
}

interface Watched {
  readonly waiter: HeadWaiter;
  readonly timeoutMs: number;
  /** When the wait was first seen (the connection's start for its first request); 0: not waiting. */
  since: number;
}

/**
 * `request_head_timeout` for every HTTP/1 client connection with one timer (slowloris): a sweep
 * asks each session whether it waits for a request head and closes those that waited too long.
 * Nothing runs per request: a head that started is noticed at the next sweep, so a session is
 * closed between the timeout and the timeout plus two sweep periods (a quarter of the timeout,
 * at most 1 s) after its head's first byte, or after the connection opened for its first request.
 */
export class HeadTimeouts {
  private readonly watched = new Set<Watched>();
  private timer: NodeJS.Timeout | null = null;
  private periodMs = 1000;

  /** Watch `waiter` from now on (its first head is due within `timeoutMs`). */
  watch(waiter: HeadWaiter, timeoutMs: number): void {
    this.watched.add({ waiter, timeoutMs, since: Date.now() });
    const period = Math.max(10, Math.min(1000, Math.floor(timeoutMs / 4)));
    if (this.timer === null || period < this.periodMs) this.start(period);
  }

  /**
   * A connection whose mode waits for its first bytes (to tell TLS from HTTP) before any HTTP/1
   * session exists: `close` runs if none came within `timeoutMs`; call `done()` once they came.
   */
  waitForFirstBytes(socket: { readonly destroyed: boolean }, timeoutMs: number, close: () => void): { done(): void } {
    let waiting = true;
    this.watch({ headState: () => (waiting && !socket.destroyed ? 'waiting' : 'done'), headTimedOut: close }, timeoutMs);
    return { done: () => void (waiting = false) };
  }

  private start(period: number): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.periodMs = period;
    this.timer = setInterval(() => this.sweep(), period);
    this.timer.unref();
  }

  private sweep(): void {
    const now = Date.now();
    for (const w of this.watched) {
      const state = w.waiter.headState();
      if (state === 'done') {
        this.watched.delete(w);
      } else if (state === 'busy') {
        w.since = 0;
      } else if (w.since === 0) {
        w.since = now;
      } else if (now - w.since >= w.timeoutMs) {
        this.watched.delete(w);
        w.waiter.headTimedOut(w.timeoutMs / 1000);
      }
    }
    if (this.watched.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
      this.periodMs = 1000;
    }
  }
}

/** The process's sweep: holds nothing but the sessions it watches. */
export const headTimeouts = new HeadTimeouts();
