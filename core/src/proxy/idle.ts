import type { Socket } from 'node:net';

interface Watched {
  readonly socket: Socket;
  readonly timeoutMs: number;
  readonly onIdle: () => boolean | void;
  bytes: number;
  since: number;
}

/**
 * Idle timeouts (`tcp_timeout`) for every connection with one timer. `socket.setTimeout` re-arms
 * a timer on each read and write, about 1% of the proxy's CPU on small keep-alive requests;
 * here a sweep compares each socket's byte counters with the previous sweep, so the hot path
 * pays nothing. The raw TCP socket's counters also move under TLS, which wraps it.
 * A socket is closed between `timeoutMs` and `timeoutMs` + one sweep period after its last byte.
 */
export class IdleSweeper {
  private readonly watched = new Set<Watched>();
  private timer: NodeJS.Timeout | null = null;
  private periodMs = 1000;

  /**
   * Call `onIdle` once `socket` has moved no byte for `timeoutMs`; stops when it closes, or after
   * `onIdle` unless that returns true (keep watching: the idle time starts again).
   */
  watch(socket: Socket, timeoutMs: number, onIdle: () => boolean | void): void {
    if (socket.destroyed) return;
    const w: Watched = { socket, timeoutMs, onIdle, bytes: socket.bytesRead + socket.bytesWritten, since: Date.now() };
    this.watched.add(w);
    socket.once('close', () => this.unwatch(w));
    const period = Math.max(10, Math.min(1000, Math.floor(timeoutMs / 4)));
    if (this.timer === null || period < this.periodMs) this.start(period);
  }

  private unwatch(w: Watched): void {
    this.watched.delete(w);
    if (this.watched.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
      this.periodMs = 1000;
    }
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
      const bytes = w.socket.bytesRead + w.socket.bytesWritten;
      if (bytes !== w.bytes) {
        w.bytes = bytes;
        w.since = now;
      } else if (now - w.since >= w.timeoutMs) {
        if (w.onIdle() === true) w.since = now;
        else this.unwatch(w);
      }
    }
  }
}

/** The process's sweeper: holds nothing but sockets and their callbacks. */
export const idleSweeper = new IdleSweeper();
