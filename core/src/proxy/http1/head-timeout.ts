import { Sweeper, type SweepEntry } from '../sweeper.js';

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

/** A session watched for its request head: since when it waits (0: not waiting). */
class HeadWatch implements SweepEntry {
  /** When the wait was first seen (the connection's start for its first request); 0: not waiting. */
  private since = Date.now();

  constructor(
    private readonly waiter: HeadWaiter,
    readonly timeoutMs: number,
  ) {}

  sweep(now: number): boolean {
    const state = this.waiter.headState();
    if (state === 'done') return false;
    if (state === 'busy') this.since = 0;
    else if (this.since === 0) this.since = now;
    else if (now - this.since >= this.timeoutMs) {
      this.waiter.headTimedOut(this.timeoutMs / 1000);
      return false;
    }
    return true;
  }
}

/**
 * `request_head_timeout` for every HTTP/1 client connection with one timer (slowloris): a sweep
 * asks each session whether it waits for a request head and closes those that waited too long.
 * Nothing runs per request: a head that started is noticed at the next sweep, so a session is
 * closed between the timeout and the timeout plus two sweep periods (a quarter of the timeout,
 * at most 1 s) after its head's first byte, or after the connection opened for its first request.
 */
export class HeadTimeouts {
  private readonly sweeper = new Sweeper();

  /** Watch `waiter` from now on (its first head is due within `timeoutMs`). */
  watch(waiter: HeadWaiter, timeoutMs: number): void {
    this.sweeper.register(new HeadWatch(waiter, timeoutMs));
  }

  /**
   * A wait on a connection before any HTTP/1 session exists (its first bytes, to tell TLS from
   * HTTP; the client's TLS handshake): `close` runs if it did not end within `timeoutMs`; call
   * `done()` once it ended.
   */
  expectWithin(socket: { readonly destroyed: boolean }, timeoutMs: number, close: () => void): { done(): void } {
    let waiting = true;
    this.watch(
      { headState: () => (waiting && !socket.destroyed ? 'waiting' : 'done'), headTimedOut: close },
      timeoutMs,
    );
    return { done: () => void (waiting = false) };
  }
}

/** The process's sweep: holds nothing but the sessions it watches. */
export const headTimeouts = new HeadTimeouts();
