import type { HTTPFlow, Server } from '../../flow/index.js';
import { Deferred } from '../deferred.js';
import { UpstreamError } from '../errors.js';
import type { ServerTransport, TransportReader } from '../transport.js';
import { DrainWaiters } from './body-out.js';
import { Http2Connection } from './connection.js';
import { ErrorCode, errorCodeName, FrameType } from './constants.js';
import type { Http2Error } from './errors.js';
import { Http2ServerSide } from './server-side.js';
import type { Http2Handler, Http2Head, ResetCause } from './types.js';

const EMPTY = Buffer.alloc(0);

/** What a server's HTTP/2 connection needs from the connector that made it. */
export interface Http2ConnOwner {
  /** The client's HTTP/2 connection (corked while this server's bytes are processed), if any. */
  readonly clientLeg: Http2Connection | null;
  /**
   * A stream this connection cannot carry (its GOAWAY excluded it before it was processed):
   * put it on another connection to the same server.
   */
  moveStream(side: Http2ServerSide): void;
  /** Debug log (prefixed with the client). */
  debug(message: string): void;
  /** Error log (prefixed with the client). */
  error(message: string): void;
}

/** The server did not answer the HTTP/2 preface with HTTP/2 (cleartext prior knowledge). */
export class NotHttp2Error extends Error {
  constructor(what: string) {
    super(`the server does not speak HTTP/2 with prior knowledge (${what})`);
    this.name = 'NotHttp2Error';
  }
}

/**
 * HTTP/2 on a server transport (ALPN `h2`, or cleartext with prior knowledge): one client-role
 * codec connection, each exchange one {@link Http2ServerSide} (a stream). Streams open in FIFO
 * order as the server's SETTINGS_MAX_CONCURRENT_STREAMS allows (provisionally 100 until its
 * SETTINGS arrive); stream ids are this connection's own, so hooks finishing out of order
 * never open a lower id after a higher one. After the server's GOAWAY no stream opens here:
 * queued and excluded streams move to another connection, the others finish, then it closes.
 * A PING goes out after `http2_ping_keepalive` seconds without a byte from the server.
 */
export class Http2ClientConn implements TransportReader, Http2Handler {
  readonly h2: Http2Connection;
  readonly drains: DrainWaiters;
  /** Resolves once the server's first SETTINGS arrived (prior knowledge); rejects with NotHttp2Error. */
  readonly ready: Promise<void>;
  private readonly readyWait: Deferred;
  private readonly streams = new Map<number, Http2ServerSide>();
  /** Sides waiting for the server's concurrency limit, oldest first from `queueHead`. */
  private queue: Http2ServerSide[] = [];
  private queueHead = 0;
  /** Exchanges using this connection (open or queued). */
  private users = 0;
  private goneAway = false;
  private gotBytes = false;
  private lost: string | null = null;
  private lastRead = Date.now();
  private pinger: NodeJS.Timeout | null = null;
  private readonly uncorkClient = (): void => this.owner.clientLeg?.uncork();

  constructor(
    readonly transport: ServerTransport,
    private readonly owner: Http2ConnOwner,
    options: { validate: boolean; pingKeepalive: number },
  ) {
    this.h2 = new Http2Connection('client', this, { validateHeaders: options.validate });
    this.drains = new DrainWaiters(this.h2, transport.socket);
    this.readyWait = new Deferred();
    this.ready = this.readyWait.promise;
    transport.attach(this);
    this.h2.start();
    const pending = transport.takePending();
    if (pending.length > 0) this.onRead(pending, false);
    if (options.pingKeepalive > 0) this.keepAlive(options.pingKeepalive * 1000);
  }

  get server(): Server {
    return this.transport.server;
  }

  /** New streams may go here: open, no GOAWAY from the server. */
  get accepting(): boolean {
    return !this.goneAway && this.lost === null && this.transport.alive && !this.h2.isClosed;
  }

  /** An exchange uses the connection. */
  get busy(): boolean {
    return this.users > 0;
  }

  /** A new exchange on this connection (its stream opens when the request is sent). */
  exchange(flow: HTTPFlow): Http2ServerSide {
    this.users++;
    return new Http2ServerSide(this, flow);
  }

  /** Take over a stream another connection could not carry. */
  adopt(side: Http2ServerSide): void {
    this.users++;
    side.conn = this;
    side.flow.serverConn = this.server;
    this.submit(side);
  }

  // --- streams ------------------------------------------------------------------------------------

  /** Open the side's stream now if the server allows one more, else queue it. */
  submit(side: Http2ServerSide): void {
    if (this.queueHead === this.queue.length && this.h2.canOpenStream()) side.open();
    else this.queue.push(side);
  }

  /** The side's stream is open. */
  opened(side: Http2ServerSide): void {
    this.streams.set(side.id, side);
  }

  /** The exchange is over with this side. */
  done(side: Http2ServerSide): void {
    this.users--;
    const i = this.queue.indexOf(side, this.queueHead);
    if (i >= 0) this.queue.splice(i, 1);
    if (this.goneAway && this.users === 0) this.shutdown();
  }

  /** A stream the server did not process goes again: here (REFUSED_STREAM) or elsewhere (GOAWAY). */
  retry(side: Http2ServerSide, elsewhere: boolean): void {
    if (!elsewhere && this.accepting) return this.submit(side);
    this.users--;
    this.owner.moveStream(side);
    if (this.goneAway && this.users === 0) this.shutdown();
  }

  /** Why a stream ended with its connection (`onReset` cause `connection`). */
  lostReason(code: number): string {
    if (this.lost !== null) return this.lost;
    return code === ErrorCode.CANCEL || code === ErrorCode.NO_ERROR
      ? 'Server connection closed.'
      : `Server closed the HTTP/2 connection: ${errorCodeName(code)}.`;
  }

  private pump(): void {
    const q = this.queue;
    while (this.queueHead < q.length && this.h2.canOpenStream()) q[this.queueHead++]!.open();
    if (this.queueHead === q.length && this.queueHead > 0) {
      this.queue = [];
      this.queueHead = 0;
    }
  }

  // --- transport events -----------------------------------------------------------------------------

  onRead(chunk: Buffer, pooled: boolean): boolean {
    this.lastRead = Date.now();
    if (!this.gotBytes) {
      this.gotBytes = true;
      // prior knowledge: a server that speaks HTTP/2 starts with SETTINGS
      if (chunk.length >= 4 && chunk[3] !== FrameType.SETTINGS)
        return this.notHttp2(`it answered ${JSON.stringify(chunk.toString('latin1', 0, Math.min(chunk.length, 24)))}`);
    }
    // the client's connection is corked until the exchanges this read resumed had their turn
    // (their promise reactions are queued during receive(), before this microtask)
    const peer = this.owner.clientLeg;
    peer?.cork();
    try {
      this.h2.receive(chunk);
    } catch (err) {
      this.owner.error(`internal error on an HTTP/2 server connection: ${(err as Error)?.stack ?? String(err)}`);
      this.lost = `Internal error: ${(err as Error)?.message ?? String(err)}`;
      this.transport.close();
    } finally {
      if (peer !== null) queueMicrotask(this.uncorkClient);
    }
    // views of a pooled read may be held by the other leg
    return pooled;
  }

  onReadEnd(): void {
    this.h2.close();
  }

  onLost(error: Error | null): void {
    this.stopKeepAlive();
    if (!this.gotBytes) this.readyWait.reject(new NotHttp2Error('it closed the connection'));
    this.lost ??= error ? `Server connection lost: ${error.message}` : 'Server closed the connection.';
    this.h2.close();
  }

  takeRemaining(): Buffer {
    return EMPTY;
  }

  // --- codec events ---------------------------------------------------------------------------------

  write(data: Buffer): void {
    if (this.transport.alive) this.transport.write(data);
  }

  onHeaders(id: number, head: Http2Head, endStream: boolean): void {
    this.streams.get(id)?.onHead(head, endStream);
  }

  onInformational(id: number, head: Http2Head): void {
    this.streams.get(id)?.onInformational(head);
  }

  onData(id: number, chunk: Buffer, endStream: boolean): void {
    const side = this.streams.get(id);
    if (side !== undefined) side.onData(chunk, endStream);
    else this.h2.consume(id, chunk.length);
  }

  onTrailers(id: number, trailers: Array<[Buffer, Buffer]>): void {
    this.streams.get(id)?.onTrailers(trailers);
  }

  onReset(id: number, code: number, cause: ResetCause): void {
    const side = this.streams.get(id);
    this.streams.delete(id);
    side?.onReset(code, cause);
  }

  onStreamClose(id: number): void {
    this.streams.get(id)?.closed();
    this.streams.delete(id);
    this.drains.forget(id);
    this.pump();
  }

  onWindowAvailable(id: number): void {
    this.drains.windowAvailable(id);
  }

  onSettings(): void {
    this.readyWait.resolve();
    this.pump();
  }

  onStreamError(err: Http2Error): void {
    this.owner.debug(`HTTP/2 server stream ${err.streamId}: ${err.message}`);
    // the codec reset the stream; the exchange fails with the server's broken response
    const side = this.streams.get(err.streamId);
    this.streams.delete(err.streamId);
    side?.fail(new UpstreamError(`HTTP/2 protocol error in server response: ${err.message}`));
  }

  onGoaway(lastStreamId: number, errorCode: number): void {
    this.goneAway = true;
    this.owner.debug(`HTTP/2 server sent GOAWAY (last stream ${lastStreamId}, ${errorCodeName(errorCode)}).`);
    // streams never opened go elsewhere; the codec resets the opened ones above lastStreamId
    const waiting = this.queue.slice(this.queueHead);
    this.queue = [];
    this.queueHead = 0;
    for (const side of waiting) this.retry(side, true);
    if (this.users === 0) this.shutdown();
  }

  onError(err: Http2Error): void {
    this.owner.debug(`HTTP/2 connection error with the server, closing it: ${err.message}`);
    this.lost = `HTTP/2 protocol error in server response: ${err.message}`;
    // the codec's GOAWAY is written when its receive() returns
    queueMicrotask(() => this.shutdown());
  }

  /** Close now. */
  close(): void {
    this.stopKeepAlive();
    this.transport.close();
  }

  /** Close once what is written went out. */
  private shutdown(): void {
    this.stopKeepAlive();
    if (this.transport.alive) this.transport.socket.end();
  }

  private notHttp2(what: string): false {
    this.readyWait.reject(new NotHttp2Error(what));
    this.lost = `The server does not speak HTTP/2: ${what}.`;
    this.transport.close();
    return false;
  }

  private keepAlive(ms: number): void {
    this.pinger = setInterval(() => {
      if (!this.transport.alive) return this.stopKeepAlive();
      if (Date.now() - this.lastRead >= ms) this.h2.ping();
    }, ms);
    this.pinger.unref();
  }

  private stopKeepAlive(): void {
    if (this.pinger !== null) clearInterval(this.pinger);
    this.pinger = null;
  }
}
