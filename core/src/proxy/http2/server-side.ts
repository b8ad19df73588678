import type { HTTPFlow, Request, Server } from '../../flow/index.js';
import { Deferred } from '../deferred.js';
import { UpstreamError } from '../errors.js';
import type {
  BodyWriter,
  HeaderPairs,
  ReceivedRequest,
  ResponseHeadInfo,
  ServerSide,
  UpgradedStream,
} from '../http/sides.js';
import { endStream } from './body-out.js';
import { InboundBody } from './body-in.js';
import type { Http2ClientConn } from './client-conn.js';
import { ErrorCode, errorCodeName } from './constants.js';
import { Http2Error, Http2ErrorCodes } from './errors.js';
import { h2RequestInit, HTTP2 } from './translate.js';
import { Http2StreamDuplex } from './tunnel.js';
import type { Http2Head, Http2RequestInit, ResetCause } from './types.js';

const EMPTY = Buffer.alloc(0);

/** Stream not opened yet (waiting for the server's concurrency limit). */
const UNOPENED = 0;

/**
 * One request/response on a server's HTTP/2 connection (see {@link ServerSide}); it is also the
 * writer of a streamed request body. The stream opens when the connection allows one more
 * (the server's SETTINGS_MAX_CONCURRENT_STREAMS, FIFO); until then a streamed body waits here.
 * A stream the server never processed (refused, or above the last stream id of its GOAWAY) is
 * sent again, on a new connection after a GOAWAY, when the request was buffered; other resets
 * fail the exchange with the server's error code, which an HTTP/2 client then gets too.
 */
export class Http2ServerSide implements ServerSide, BodyWriter {
  /** The stream id on the connection, 0 until it is opened. */
  id = UNOPENED;
  /** The server reset the stream with this code (forwarded to an HTTP/2 client). */
  resetCode: number | null = null;
  private init: Http2RequestInit | null = null;
  /** The buffered request body (kept until the stream opens; a retry sends it again). */
  private body: Buffer | null = null;
  private requestTrailers: HeaderPairs | null = null;
  /** The request body is streamed through this side ({@link write}). */
  private streaming = false;
  /** Streamed bytes went out: the request can no longer be sent again. */
  private sent = false;
  /** Streamed chunks and the end (trailers) that came before the stream opened. */
  private early: Buffer[] | null = null;
  private earlyEnd: HeaderPairs | null | undefined = undefined;
  private drainWaiter: (() => void) | null = null;
  private head: ResponseHeadInfo | null = null;
  private headWait: Deferred<ResponseHeadInfo> | null = null;
  private onInterim: ((head: ResponseHeadInfo) => void) | null = null;
  private limit: number | null = null;
  private inbound: InboundBody | null = null;
  private failure: Error | null = null;
  private finished = false;
  /** The stream of an extended CONNECT the server accepted (RFC 8441): the WebSocket's bytes. */
  private tunnel: Http2StreamDuplex | null = null;

  constructor(
    /** The connection the stream is on (another one after a GOAWAY retry). */
    public conn: Http2ClientConn,
    readonly flow: HTTPFlow,
  ) {}

  get server(): Server {
    return this.conn.server;
  }

  get trailers(): HeaderPairs | null {
    return this.inbound?.trailers ?? null;
  }

  // --- the request ------------------------------------------------------------------------------

  send(request: Request, body: Buffer, from: ReceivedRequest | null): void {
    this.init = h2RequestInit(request, from, false);
    this.body = body;
    const t = request.trailers?.fields;
    this.requestTrailers = t !== undefined && t.length > 0 ? t : null;
    this.conn.submit(this);
  }

  startRequest(request: Request, from: ReceivedRequest | null, lengthMayChange: boolean): BodyWriter {
    this.init = h2RequestInit(request, from, lengthMayChange);
    this.streaming = true;
    this.conn.submit(this);
    return this;
  }

  /** The connection may open the stream now: HEADERS, then the body so far. */
  open(): void {
    const h2 = this.conn.h2;
    const body = this.body;
    const trailers = this.requestTrailers;
    // an extended CONNECT (RFC 8441) keeps its stream open: the tunnel's bytes follow the response
    const ends =
      !this.streaming && (body === null || body.length === 0) && trailers === null && this.init!.protocol === undefined;
    try {
      this.id = h2.openStream(this.init!, ends);
    } catch (err) {
      if (err instanceof Http2Error && err.code === Http2ErrorCodes.BAD_OUTBOUND) {
        this.fail(new UpstreamError(`Cannot send the request over HTTP/2: ${err.message}`));
        this.finish();
        return;
      }
      throw err;
    }
    this.conn.opened(this);
    this.inbound = new InboundBody(
      h2,
      this.id,
      this.limit,
      (size) =>
        new UpstreamError(`Response body exceeds body_size_limit of ${this.limit} bytes (${size} bytes so far).`),
    );
    if (!this.streaming) {
      if (body !== null && body.length > 0) h2.sendData(this.id, body, trailers === null);
      if (trailers !== null) endStream(h2, this.id, trailers);
      return;
    }
    const early = this.early;
    this.early = null;
    if (early !== null) for (const c of early) this.write(c);
    if (this.earlyEnd !== undefined) endStream(h2, this.id, this.earlyEnd);
    const w = this.drainWaiter;
    this.drainWaiter = null;
    if (w !== null) this.onDrain(w);
  }

  // BodyWriter: a streamed request body
  write(chunk: Buffer): boolean {
    if (chunk.length === 0) return true;
    if (this.id === UNOPENED) {
      (this.early ??= []).push(Buffer.from(chunk));
      return false;
    }
    this.sent = true;
    return this.conn.h2.sendData(this.id, chunk, false) && !this.conn.drains.socketFull;
  }

  get retained(): boolean {
    return this.id !== UNOPENED && (this.conn.h2.queuedBytes(this.id) > 0 || this.conn.drains.socketHolds);
  }

  onDrain(resume: () => void): void {
    if (this.id === UNOPENED) this.drainWaiter = resume;
    else this.conn.drains.wait(this.id, resume);
  }

  end(trailers: HeaderPairs | null): void {
    if (this.id === UNOPENED) this.earlyEnd = trailers;
    else endStream(this.conn.h2, this.id, trailers);
  }

  // --- the response -----------------------------------------------------------------------------

  response(
    onInterim: ((head: ResponseHeadInfo) => void) | null,
    bodySizeLimit: number | null,
  ): ResponseHeadInfo | Promise<ResponseHeadInfo> {
    this.onInterim = onInterim;
    this.limit = bodySizeLimit;
    if (this.inbound !== null) this.inbound.maxSize = bodySizeLimit;
    if (this.head !== null) return this.head;
    if (this.failure !== null) throw this.failure;
    this.headWait = new Deferred<ResponseHeadInfo>();
    return this.headWait.promise;
  }

  readBody(limit: number | null): Buffer | null | Promise<Buffer | null> {
    return this.inbound!.read(limit);
  }

  streamBody(into: BodyWriter): void | Promise<void> {
    return this.inbound!.stream(into);
  }

  takeOver(): UpgradedStream {
    const tunnel = this.tunnel;
    if (tunnel === null) throw new UpstreamError('HTTP/2 has no protocol switch (101).');
    // the connection keeps this exchange as a user until the tunnel closes
    tunnel.once('close', () => this.finish());
    return { stream: tunnel, rest: EMPTY };
  }

  release(): void {
    this.inbound?.discard();
    this.finish();
  }

  abort(reason = 'The exchange was aborted.'): void {
    if (this.finished) return;
    if (this.id !== UNOPENED) this.conn.h2.reset(this.id, ErrorCode.CANCEL);
    this.fail(new UpstreamError(reason));
    this.finish();
  }

  // --- events from the connection -----------------------------------------------------------------

  onHead(head: Http2Head, endStream: boolean): void {
    const info: ResponseHeadInfo = {
      httpVersion: HTTP2,
      statusCode: head.status,
      reason: '',
      headers: head.headers,
      contentLength: endStream ? 0 : head.contentLength,
      keepAlive: true,
    };
    const limit = this.limit;
    if (limit !== null && info.contentLength > limit) {
      this.conn.h2.reset(this.id, ErrorCode.CANCEL);
      this.fail(
        new UpstreamError(
          `Response body of ${info.contentLength} bytes (content-length) exceeds body_size_limit of ${limit} bytes.`,
        ),
      );
      return;
    }
    if (endStream) this.inbound!.ended = true;
    else if (this.init!.protocol !== undefined && head.status >= 200 && head.status < 300)
      this.tunnel = new Http2StreamDuplex(this.conn.h2, this.conn.drains, this.id);
    this.head = info;
    const w = this.headWait;
    this.headWait = null;
    w?.resolve(info);
  }

  onInformational(head: Http2Head): void {
    this.onInterim?.({
      httpVersion: HTTP2,
      statusCode: head.status,
      reason: '',
      headers: head.headers,
      contentLength: -1,
      keepAlive: true,
    });
  }

  onData(chunk: Buffer, endStream: boolean): void {
    if (this.tunnel !== null) this.tunnel.data(chunk, endStream);
    else this.inbound?.data(chunk, endStream);
  }

  /** The stream closed (both ends, or a reset): a tunnel on it is over. */
  closed(): void {
    this.tunnel?.gone();
  }

  onTrailers(trailers: HeaderPairs): void {
    this.inbound?.trailersIn(trailers);
  }

  /**
   * The stream ended abnormally. Never processed (REFUSED_STREAM, above a GOAWAY's last stream
   * id) and buffered: sent again. A reset after the whole response (RFC 9113 section 8.1) only
   * stops what we still send. Otherwise the exchange fails.
   */
  onReset(code: number, cause: ResetCause): void {
    if (this.tunnel !== null) return this.tunnel.gone();
    if (this.inbound?.ended && this.head !== null) return;
    const unprocessed = cause === 'goaway' || (cause === 'peer' && code === ErrorCode.REFUSED_STREAM);
    if (unprocessed && this.head === null && !this.sent && !this.finished) {
      this.id = UNOPENED;
      this.inbound = null;
      this.conn.retry(this, cause === 'goaway');
      return;
    }
    if (cause === 'peer') this.resetCode = code;
    const why = cause === 'peer' ? `Server reset the stream: ${errorCodeName(code)}.` : this.conn.lostReason(code);
    this.fail(new UpstreamError(why));
  }

  /** The exchange cannot go on: whoever waits gets `err`. */
  fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    const w = this.headWait;
    this.headWait = null;
    w?.reject(err);
    this.inbound?.fail(err);
  }

  /** The exchange is over with this side: the connection forgets it. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.conn.done(this);
  }
}
