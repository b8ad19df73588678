import { Duplex } from 'node:stream';
import type { DrainWaiters } from './body-out.js';
import type { Http2Connection } from './connection.js';
import { ErrorCode } from './constants.js';

const EMPTY = Buffer.alloc(0);

/**
 * One HTTP/2 stream as a byte stream, for what runs inside an extended CONNECT (RFC 8441: the
 * WebSocket layer reads and writes it like a socket). DATA from the peer is pushed as it comes
 * and acknowledged (`consume`, the peer's window) only once read, so a reader that stops stops
 * the peer. Writes become DATA frames; a write waits while the peer's window or the socket is
 * full. The end of what we write is END_STREAM; the peer's END_STREAM ends what we read, and
 * then the whole stream (`allowHalfOpen` off: a WebSocket peer that half-closes is gone, RFC 8441
 * section 5). A reset by the peer, or the connection's end, destroys it; `destroy()` from our
 * side resets the stream (CANCEL).
 */
export class Http2StreamDuplex extends Duplex {
  /** DATA bytes handed out but not yet acknowledged to the peer. */
  private unconsumed = 0;
  private streamGone = false;

  constructor(
    private readonly h2: Http2Connection,
    private readonly drains: DrainWaiters,
    readonly id: number,
  ) {
    super({ allowHalfOpen: false });
  }

  /** DATA from the peer (a view into the received bytes); `end` is END_STREAM. */
  data(chunk: Buffer, end: boolean): void {
    if (this.destroyed) {
      this.h2.consume(this.id, chunk.length);
      return;
    }
    if (chunk.length > 0) {
      if (this.push(chunk)) this.h2.consume(this.id, chunk.length);
      else this.unconsumed += chunk.length;
    }
    if (end) this.push(null);
  }

  /** The stream was reset or its connection ended: nothing more comes or goes. */
  gone(): void {
    this.streamGone = true;
    this.destroy();
  }

  override _read(): void {
    const n = this.unconsumed;
    if (n === 0) return;
    this.unconsumed = 0;
    this.h2.consume(this.id, n);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (!this.h2.isOpen(this.id)) return done();
    const sent = this.h2.sendData(this.id, chunk, false);
    if (sent && !this.drains.socketFull) done();
    else this.drains.wait(this.id, () => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    if (this.h2.isOpen(this.id)) this.h2.sendData(this.id, EMPTY, true);
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (!this.streamGone && !this.writableFinished && this.h2.isOpen(this.id)) this.h2.reset(this.id, ErrorCode.CANCEL);
    if (this.unconsumed > 0) this.h2.consume(this.id, this.unconsumed);
    this.unconsumed = 0;
    done(err);
  }
}
