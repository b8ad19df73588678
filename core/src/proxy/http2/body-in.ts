import { Deferred } from '../deferred.js';
import type { BodyWriter, HeaderPairs } from '../http/sides.js';
import type { Http2Connection } from './connection.js';

const EMPTY = Buffer.alloc(0);

/** Held until a reader comes: nothing is consumed, so the peer's window closes behind it. */
const HOLD = 0;
/** Buffered for the exchange: consumed as it arrives. */
const BUFFER = 1;
/** Streamed into a writer: consumed once the writer took each chunk. */
const STREAM = 2;
/** Nobody reads it any more: acknowledged and dropped as it arrives. */
const DISCARD = 3;

/**
 * The body of one message arriving on an HTTP/2 stream (a request on the client's connection, a
 * response on a server's), as the exchange reads it. Flow control follows the reader: bytes are
 * acknowledged to the peer (`consume`) only once they left the proxy or were accepted into a
 * buffered body; until a reader comes (a hook still runs) they are held, and the peer's window
 * stops it. A streamed body therefore costs at most one stream window of memory.
 */
export class InboundBody {
  private chunks: Buffer[] = [];
  /** Bytes in {@link chunks}. */
  private length = 0;
  /** Bytes received in all (body_size_limit). */
  private total = 0;
  /** Bytes the codec handed out that are not acknowledged yet. */
  private owed = 0;
  private mode = HOLD;
  /** BUFFER: give up buffering (resolve null) once past this many bytes. */
  private limit: number | null = null;
  private wait: Deferred<Buffer | null> | null = null;
  private done: Deferred | null = null;
  private sink: BodyWriter | null = null;
  private paused = false;
  private resumer: (() => void) | null = null;
  /** The message ended (END_STREAM or trailers). */
  ended = false;
  trailers: HeaderPairs | null = null;
  /** Why the body cannot be read (a reset, the connection lost, over body_size_limit). */
  failure: Error | null = null;

  constructor(
    private readonly h2: Http2Connection,
    private readonly id: number,
    /** `body_size_limit` (null: none). */
    public maxSize: number | null,
    /** The error for a body over `maxSize` bytes (the owner resets the stream when it sees it). */
    private readonly tooLarge: (size: number) => Error,
  ) {}

  /** DATA from the codec (a view into the received bytes). */
  data(chunk: Buffer, end: boolean): void {
    if (this.failure !== null) return;
    const n = chunk.length;
    this.total += n;
    if (this.maxSize !== null && this.total > this.maxSize) {
      this.owed += n;
      this.fail(this.tooLarge(this.total));
      return;
    }
    if (end) this.ended = true;
    if (n > 0) {
      if (this.mode === STREAM) this.forward(chunk);
      else if (this.mode === DISCARD) this.h2.consume(this.id, n);
      else this.keep(chunk);
    }
    if (end) this.finish();
  }

  /** Trailers end the message. */
  trailersIn(trailers: HeaderPairs): void {
    if (this.failure !== null) return;
    this.trailers = trailers;
    this.ended = true;
    this.finish();
  }

  /** The stream failed (reset, connection lost): waiting readers get `err`. */
  fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    const w = this.wait;
    const d = this.done;
    this.wait = this.done = null;
    w?.reject(err);
    d?.reject(err);
  }

  /**
   * The whole body, buffered; null once it outgrows `limit` (then {@link stream} the rest: the
   * bytes past the limit stay unacknowledged until then).
   */
  read(limit: number | null): Buffer | null | Promise<Buffer | null> {
    if (this.failure !== null) throw this.failure;
    if (limit !== null && this.length > limit) return null;
    this.mode = BUFFER;
    this.limit = limit;
    this.settle();
    if (this.ended) return this.take();
    this.wait = new Deferred<Buffer | null>();
    return this.wait.promise;
  }

  /** Stream the body (what is held first) into `into`, then `into.end(trailers)`. */
  stream(into: BodyWriter): void | Promise<void> {
    if (this.failure !== null) throw this.failure;
    this.mode = STREAM;
    this.sink = into;
    const held = this.chunks;
    const n = this.owed;
    this.chunks = [];
    this.length = 0;
    this.owed = 0;
    let ok = true;
    for (let i = 0; i < held.length; i++) if (!into.write(held[i]!)) ok = false;
    this.accepted(n, ok);
    if (this.ended) {
      into.end(this.trailers);
      return;
    }
    this.done = new Deferred();
    return this.done.promise;
  }

  /**
   * The exchange is over: what is held is acknowledged and dropped, later DATA too (so the
   * codec forgets the stream once it closes).
   */
  discard(): void {
    if (this.mode === STREAM) return;
    this.mode = DISCARD;
    this.chunks = [];
    this.length = 0;
    this.settle();
  }

  private keep(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (this.mode === HOLD) {
      this.owed += chunk.length;
    } else if (this.limit !== null && this.length > this.limit) {
      // over stream_large_bodies: hold the rest for the stream that follows
      this.owed += chunk.length;
      this.mode = HOLD;
      const w = this.wait;
      this.wait = null;
      w?.resolve(null);
    } else {
      this.h2.consume(this.id, chunk.length);
    }
  }

  private forward(chunk: Buffer): void {
    const ok = this.sink!.write(chunk);
    if (this.paused) this.owed += chunk.length;
    else this.accepted(chunk.length, ok);
  }

  /** `n` bytes went to the writer: acknowledge them now, or once it drains. */
  private accepted(n: number, ok: boolean): void {
    if (ok) {
      this.h2.consume(this.id, n);
      return;
    }
    this.owed += n;
    this.paused = true;
    this.sink!.onDrain((this.resumer ??= () => this.resume()));
  }

  private resume(): void {
    this.paused = false;
    this.settle();
  }

  /** Acknowledge what is owed. */
  private settle(): void {
    const n = this.owed;
    this.owed = 0;
    if (n > 0) this.h2.consume(this.id, n);
  }

  private finish(): void {
    if (this.mode === BUFFER) {
      const w = this.wait;
      this.wait = null;
      w?.resolve(this.take());
    } else if (this.mode === STREAM) {
      const d = this.done;
      this.done = null;
      this.sink!.end(this.trailers);
      d?.resolve();
    }
  }

  private take(): Buffer {
    const c = this.chunks;
    const b = c.length === 0 ? EMPTY : c.length === 1 ? c[0]! : Buffer.concat(c, this.length);
    this.chunks = [];
    this.length = 0;
    return b;
  }
}
