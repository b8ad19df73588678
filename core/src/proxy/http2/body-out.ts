import type { Writable } from 'node:stream';
import type { BodyWriter, HeaderPairs } from '../http/sides.js';
import type { Http2Connection } from './connection.js';
import { toH2Fields } from './translate.js';

const EMPTY = Buffer.alloc(0);

/**
 * When a stream of one HTTP/2 connection can take more body: its queued DATA is written (the
 * peer's window opened, `onWindowAvailable`) and the socket under the connection has drained.
 * The connection's handler forwards `onWindowAvailable` and `onStreamClose` here.
 */
export class DrainWaiters {
  private readonly byStream = new Map<number, () => void>();
  private bySocket: Array<() => void> | null = null;

  constructor(
    private readonly h2: Http2Connection,
    private readonly socket: Writable,
  ) {
    socket.on('drain', () => this.socketDrained());
  }

  /** The socket's buffer is full (its `write` returned false). */
  get socketFull(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** The socket still holds bytes it was given (views of them must not be reused yet). */
  get socketHolds(): boolean {
    return this.socket.writableLength > 0;
  }

  /** Call `resume` once stream `id` can take more (later, never from inside this call). */
  wait(id: number, resume: () => void): void {
    if (this.h2.queuedBytes(id) > 0) this.byStream.set(id, resume);
    else if (this.socket.writableNeedDrain) (this.bySocket ??= []).push(resume);
    else process.nextTick(resume);
  }

  /** `onWindowAvailable(id)`: the stream's queue is written. */
  windowAvailable(id: number): void {
    const resume = this.byStream.get(id);
    if (resume === undefined) return;
    this.byStream.delete(id);
    if (this.socket.writableNeedDrain) (this.bySocket ??= []).push(resume);
    else resume();
  }

  /** `onStreamClose(id)`: nobody waits on a closed stream. */
  forget(id: number): void {
    if (this.byStream.size > 0) this.byStream.delete(id);
  }

  private socketDrained(): void {
    const waiting = this.bySocket;
    this.bySocket = null;
    if (waiting !== null) for (const resume of waiting) resume();
  }
}

/**
 * A streamed body onto an open HTTP/2 stream (a response to the client, a request to a server):
 * DATA within the peer's windows, backpressure until the window opens and the socket drains,
 * the trailers (HTTP/1 ones translated) or an empty END_STREAM frame at the end.
 */
export class Http2BodyWriter implements BodyWriter {
  constructor(
    private readonly h2: Http2Connection,
    private readonly drains: DrainWaiters,
    private readonly id: number,
  ) {}

  write(chunk: Buffer): boolean {
    if (chunk.length === 0) return true;
    return this.h2.sendData(this.id, chunk, false) && !this.drains.socketFull;
  }

  get retained(): boolean {
    return this.h2.queuedBytes(this.id) > 0 || this.drains.socketHolds;
  }

  onDrain(resume: () => void): void {
    this.drains.wait(this.id, resume);
  }

  end(trailers: HeaderPairs | null): void {
    endStream(this.h2, this.id, trailers);
  }
}

/** End an open stream we send on: with trailers (connection-specific ones dropped), else an empty END_STREAM DATA frame. */
export function endStream(h2: Http2Connection, id: number, trailers: HeaderPairs | null): void {
  if (trailers !== null && trailers.length > 0) h2.sendTrailers(id, toH2Fields(trailers, false));
  else h2.sendData(id, EMPTY, true);
}
