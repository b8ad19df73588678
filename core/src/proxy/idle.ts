import type { Socket } from 'node:net';
import { Sweeper, type SweepEntry } from './sweeper.js';

/** A socket watched for idleness: its byte counters at the last sweep that saw them move. */
class IdleWatch implements SweepEntry {
  private bytes: number;
  private since = Date.now();

  constructor(
    private readonly socket: Socket,
    readonly timeoutMs: number,
    private readonly onIdle: () => boolean | void,
  ) {
    this.bytes = socket.bytesRead + socket.bytesWritten;
  }

  sweep(now: number): boolean {
    const bytes = this.socket.bytesRead + this.socket.bytesWritten;
    if (bytes !== this.bytes) {
      this.bytes = bytes;
      this.since = now;
    } else if (now - this.since >= this.timeoutMs) {
      if (this.onIdle() !== true) return false;
      this.since = now;
    }
    return true;
  }
}

/**
 * Idle timeouts (`tcp_timeout`) for every connection with one timer. `socket.setTimeout` re-arms
 * a timer on each read and write, about 1% of the proxy's CPU on small keep-alive requests;
 * here a sweep compares each socket's byte counters with the previous sweep, so the hot path
 * pays nothing. The raw TCP socket's counters also move under TLS, which wraps it.
 * A socket is closed between `timeoutMs` and `timeoutMs` + one sweep period after its last byte.
 */
export class IdleSweeper {
  private readonly sweeper = new Sweeper();

  /**
   * Call `onIdle` once `socket` has moved no byte for `timeoutMs`; stops when it closes, or after
   * `onIdle` unless that returns true (keep watching: the idle time starts again).
   */
  watch(socket: Socket, timeoutMs: number, onIdle: () => boolean | void): void {
    if (socket.destroyed) return;
    const w = new IdleWatch(socket, timeoutMs, onIdle);
    this.sweeper.register(w);
    socket.once('close', () => this.sweeper.unregister(w));
  }
}

/** The process's sweeper: holds nothing but sockets and their callbacks. */
export const idleSweeper = new IdleSweeper();
