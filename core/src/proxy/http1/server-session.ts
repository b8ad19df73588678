import type { Duplex } from 'node:stream';
import { Headers, Request, type HTTPFlow, type Response } from '../../flow/index.js';
import type { ClientConnection } from '../connection.js';
import { Deferred } from '../deferred.js';
import { clientDisconnected, UpstreamError } from '../errors.js';
import { errorResponse } from '../errorpage.js';
import { HttpExchange } from '../http/exchange.js';
import type { BodyWriter, ClientSide, ResponseHeadInfo, Target, UpgradedStream } from '../http/sides.js';
import { andThen } from '../http/step.js';
import type { TunnelRequest } from '../connect.js';
import { Http1BodyWriter, writeMessage } from './body-writer.js';
import { BodyCollector } from './collector.js';
import { headTimeouts, type HeadWaiter } from './head-timeout.js';
import { responseFieldsForClient } from './hop-by-hop.js';
import { Http1Error } from './errors.js';
import { bodilessResponse, fixLength, saysClose, toChunked, withoutContentLength } from './outbound.js';
import { getHeader, isChunked } from './raw-headers.js';
import { RequestParser } from './request-parser.js';
import { h1Reason, h1Version, HTTP2 } from '../http2/translate.js';
import { serializeResponseHead } from './serialize.js';
import type { Http1Handler, RawHeaders, RequestHead } from './types.js';

const HIGH_WATER = 1 << 20;
/** The body of a request without one: shared (zero bytes cannot be changed). */
const NO_BODY = Buffer.alloc(0);

/**
 * The HTTP/1 connection on one client stream (the raw socket, or the decrypted TLS stream):
 * parses requests one at a time and runs each as an {@link HttpExchange} with an
 * {@link Http1Request} as its client side; keep-alive and pipelined requests follow in order.
 * CONNECT goes to the connection (a tunnel), a 101 hands the stream to the next layer.
 */
export class Http1ServerSession implements Http1Handler<RequestHead>, TunnelRequest, HeadWaiter {
  readonly parser: RequestParser;
  /** The request being handled. */
  private current: Http1Request | null = null;
  parseError: Http1Error | null = null;
  private active = false;
  /** A request head was received on this stream (after it, idle time between requests is tcp_timeout's). */
  private served = false;
  closed = false;
  /** The stream now belongs to another layer (CONNECT tunnel, upgrade). */
  private handedOver = false;
  /** The client stream closed (each request's `closed` resolves then). */
  clientLeft = false;
  private readonly exchangeDone = (): void => this.finishExchange();
  private readonly exchangeFailed = (err: unknown): void => this.abort(err);

  constructor(
    readonly conn: ClientConnection,
    readonly stream: Duplex,
    readonly target: Target | null,
    initial: Buffer | null,
  ) {
    const cfg = conn.config;
    this.parser = new RequestParser(this, {
      strict: cfg.validateInbound,
      ...(cfg.bodySizeLimit !== null ? { bodySizeLimit: cfg.bodySizeLimit } : {}),
    });
    stream.on('data', (chunk: Buffer) => {
      this.parser.push(chunk);
      if (this.parser.isPaused && this.parser.bufferedBytes > HIGH_WATER) stream.pause();
    });
    stream.on('end', () => this.parser.finish());
    stream.on('close', () => {
      this.closed = true;
      this.clientLeft = true;
      this.current?.clientClosed();
    });
    if (initial && initial.length > 0) this.parser.push(initial);
    if (cfg.requestHeadTimeout > 0) headTimeouts.watch(this, cfg.requestHeadTimeout * 1000);
  }

  // --- request parser events -------------------------------------------------------------

  onHead(head: RequestHead): void {
    this.parser.pause();
    this.active = true;
    this.served = true;
    if (head.method === 'CONNECT') return this.connectRequest(head);
    const request = this.makeRequest(head);
    if (!request) return this.finishExchange();
    const side = new Http1Request(this, head);
    this.current = side;
    HttpExchange.forRequest(this.conn, this.conn.connector, side, request).start(
      this.exchangeDone,
      this.exchangeFailed,
    );
  }

  onData(chunk: Buffer): void {
    this.current?.onData(chunk);
  }

  onTrailers(trailers: RawHeaders): void {
    if (this.current) this.current.trailers = trailers;
  }

  onEnd(): void {
    this.current?.bodyEnded();
  }

  onError(error: Http1Error): void {
    this.parseError = error;
    if (this.current?.bodyFailed(error)) return;
    if (this.active) return;
    // A malformed request head: answer and close; nothing else is affected.
    this.conn.log.info(`${this.conn.describe()}: bad request: ${error.message}`);
    this.writeError(error.status, error.message);
    this.close();
  }

  // --- request_head_timeout (see HeadTimeouts) ---------------------------------------------

  headState(): 'done' | 'busy' | 'waiting' {
    if (this.closed || this.handedOver) return 'done';
    if (this.active) return 'busy';
    return !this.served || this.parser.bufferedBytes > 0 ? 'waiting' : 'busy';
  }

  headTimedOut(seconds: number): void {
    const started = this.parser.bufferedBytes > 0;
    this.conn.log.debug(
      `${this.conn.describe()}: ${started ? 'request head not complete' : 'no request'} after ${seconds} s (request_head_timeout): closing the connection.`,
    );
    if (started) this.writeError(408, `Request head not complete after ${seconds} s (request_head_timeout).`);
    this.close();
    // Do not wait for the client to close its side: the descriptor goes once the answer is out.
    this.stream.end(() => this.conn.destroy());
  }

  // --- requests ------------------------------------------------------------------------------

  private connectRequest(head: RequestHead): void {
    if (this.target) {
      this.writeError(400, 'CONNECT inside a CONNECT tunnel is not supported.');
      return this.finishExchange();
    }
    this.handedOver = true;
    this.conn.connect(this, head).then(this.exchangeDone, this.exchangeFailed);
  }

  private makeRequest(head: RequestHead): Request | null {
    const t = this.target;
    if (t) {
      if (head.form !== 'origin' && head.form !== 'asterisk' && head.form !== 'absolute') {
        this.rejectForm(head, 'origin');
        return null;
      }
      const absolute = head.form === 'absolute' && !t.reverse;
      const request = newRequest(head, absolute ? head.host : t.host, absolute ? head.port : t.port, t.scheme, '');
      const host = t.reverse?.hostHeader;
      if (host) request.headers.set('Host', host);
      return request;
    }
    if (head.form !== 'absolute') {
      this.rejectForm(head, 'absolute');
      return null;
    }
    return newRequest(head, head.host, head.port, head.scheme, head.authority);
  }

  private rejectForm(head: RequestHead, expected: string): void {
    const got = head.form === 'origin' ? 'relative' : head.form;
    const msg =
      expected === 'absolute'
        ? `Invalid HTTP request form (expected: absolute, got: ${got}). Configure the client to use mitmts as its HTTP proxy (e.g. curl -x http://host:port), or run mitmts in reverse mode.`
        : `Invalid HTTP request form (expected: ${expected}, got: ${got}).`;
    this.conn.log.info(`${this.conn.describe()}: ${msg}`);
    this.writeError(400, msg);
  }

  // --- the connection --------------------------------------------------------------------------

  write(data: Buffer): void {
    if (!this.closed) this.stream.write(data);
  }

  writeError(status: number, message: string): void {
    if (this.closed) return;
    const r = errorResponse(status, message);
    this.stream.write(serializeResponseHead(toHead(r)));
    this.stream.write(r.rawContent!);
  }

  /** The stream goes to another layer: its bytes read past the last head, listeners removed. */
  handOver(): Buffer {
    this.handedOver = true;
    this.stream.removeAllListeners('data');
    this.stream.removeAllListeners('end');
    return this.parser.takeRemaining();
  }

  // TunnelRequest (CONNECT)
  respond(data: Buffer): void {
    this.write(data);
  }

  fail(status: number, message: string): void {
    this.writeError(status, message);
    this.close();
  }

  takeOver(): Buffer {
    return this.handOver();
  }

  resumeParser(): void {
    if (this.stream.isPaused()) this.stream.resume();
    this.parser.resume();
  }

  private finishExchange(): void {
    this.active = false;
    const side = this.current;
    this.current = null;
    if (this.handedOver) return;
    if (
      side === null ||
      !side.keepAlive ||
      this.closed ||
      this.parseError ||
      this.stream.destroyed ||
      !this.parser.isIdle
    )
      return this.close();
    this.parser.next();
    this.resumeParser();
  }

  /** The exchange threw: a client-side error (bad body, client gone) or a bug. */
  private abort(err: unknown): void {
    this.active = false;
    this.current = null;
    if (err instanceof Http1Error) {
      this.conn.log.info(`${this.conn.describe()}: ${err.message}`);
      if (err.side === 'request') this.writeError(err.status, err.message);
      this.close();
      return;
    }
    if (err instanceof UpstreamError) {
      this.conn.log.info(`${this.conn.describe()}: ${err.message}`);
      this.conn.destroy();
      return;
    }
    this.conn.log.error(`${this.conn.describe()}: internal error: ${(err as Error)?.stack ?? String(err)}`);
    this.conn.destroy();
  }

  close(): void {
    this.handedOver = false;
    if (this.closed) return;
    this.closed = true;
    if (!this.stream.destroyed) this.stream.end();
    this.conn.closeSoon();
  }
}

/** The client half of one HTTP/1 request (see {@link ClientSide}). */
export class Http1Request implements ClientSide {
  readonly contentLength: number;
  readonly hasBody: boolean;
  readonly expectContinue: boolean;
  readonly received: RequestHead;
  trailers: RawHeaders | null = null;
  /** The connection may carry the next request after this exchange. */
  keepAlive = false;
  private readonly body = new BodyCollector();
  private ended = false;
  private sink: BodyWriter | null = null;
  /** A buffered body past this many bytes is to be streamed (see {@link readBody}). */
  private limit: number | null = null;
  /** Resolves with the body (once whole), or null once it outgrew the limit, when a reader waits. */
  private bodyEnd: Deferred<Buffer | null> | null = null;
  /** Bytes of the response went out (no error page possible any more). */
  private headSent = false;
  /** {@link closed}, made when first asked for: per request, so that waiters end with it. */
  private gone: Deferred | null = null;

  constructor(
    private readonly session: Http1ServerSession,
    private readonly head: RequestHead,
  ) {
    this.contentLength = head.contentLength;
    this.hasBody = head.bodyKind !== 'none';
    this.expectContinue = head.expectContinue;
    this.received = head;
  }

  get closed(): Promise<void> {
    if (this.gone === null) {
      this.gone = new Deferred();
      if (this.session.clientLeft) this.gone.resolve();
    }
    return this.gone.promise;
  }

  // --- the request body ------------------------------------------------------------------------

  readBody(limit: number | null): Buffer | null | Promise<Buffer | null> {
    if (this.head.bodyKind === 'length') this.body.expect(this.contentLength);
    this.limit = limit;
    const wait = this.bodyRead();
    if (wait === null) return this.body.take();
    if (this.outgrown()) {
      this.bodyEnd = null;
      return null;
    }
    return wait;
  }

  /** The buffered body outgrew the limit: reading pauses until the exchange streams it. */
  private outgrown(): boolean {
    if (this.limit === null || this.body.length <= this.limit) return false;
    this.session.parser.pause();
    return true;
  }

  streamBody(into: BodyWriter): void | Promise<void> {
    this.sink = into;
    for (const b of this.body.drain()) into.write(b);
    return andThen(this.bodyRead() ?? undefined, () => {
      this.sink = null;
      into.end(this.trailers);
    });
  }

  onData(chunk: Buffer): void {
    const sink = this.sink;
    if (sink === null) {
      this.body.add(chunk);
      const d = this.bodyEnd;
      if (d !== null && this.outgrown()) {
        this.bodyEnd = null;
        d.resolve(null);
      }
      return;
    }
    if (!sink.write(chunk)) {
      const s = this.session;
      s.parser.pause();
      sink.onDrain(() => s.resumeParser());
    }
  }

  bodyEnded(): void {
    this.ended = true;
    const d = this.bodyEnd;
    this.bodyEnd = null;
    // Streamed bodies went to the sink already.
    d?.resolve(this.sink === null ? this.body.take() : NO_BODY);
  }

  /** The parser failed while the body was awaited: true if that wait took the error. */
  bodyFailed(error: Http1Error): boolean {
    const d = this.bodyEnd;
    if (d === null) return false;
    this.bodyEnd = null;
    d.reject(error);
    return true;
  }

  clientClosed(): void {
    const d = this.bodyEnd;
    this.bodyEnd = null;
    d?.reject(clientDisconnected());
    this.gone?.resolve();
  }

  /** Let the parser read the body; null if it is complete, else a promise of the end. */
  private bodyRead(): Promise<Buffer | null> | null {
    const s = this.session;
    if (!this.ended && s.parseError === null) s.resumeParser();
    if (s.parseError !== null) throw s.parseError;
    if (this.ended) return null;
    this.bodyEnd = new Deferred<Buffer | null>();
    return this.bodyEnd.promise;
  }

  // --- the response ------------------------------------------------------------------------------

  sendInterim(head: ResponseHeadInfo): void {
    this.session.write(
      serializeResponseHead({
        httpVersion: h1Version(head.httpVersion),
        statusCode: head.statusCode,
        reason: h1Reason(head),
        headers: head.headers,
      }),
    );
  }

  sendResponse(response: Response, from: ResponseHeadInfo | null): void {
    const bodiless = bodilessResponse(this.head.method, response.statusCode);
    const body = response.rawContent;
    let fields = response.headers.fields;
    if (!bodiless) fields = fixLength(fields, body, true);
    // The server's own Connection: close is in `from.keepAlive` already; look again only at
    // headers an addon set or changed.
    this.keepAlive =
      this.head.keepAlive &&
      (from === null || from.keepAlive) &&
      ((from !== null && fields === from.headers) || !saysClose(getHeader(fields, 'connection')));
    fields = this.hopByHop(fields);
    const pristine =
      from !== null &&
      fields === from.headers &&
      response.statusCode === from.statusCode &&
      response.reason === from.reason;
    const head = serializeResponse(response, fields, { validate: !pristine, checked: from?.headers });
    if (!this.session.closed)
      writeMessage(this.session.stream, head, body, isChunked(fields), response.trailers?.fields ?? null, bodiless);
    this.headSent = true;
  }

  /** Without the server's hop-by-hop headers, with the proxy's own Connection (unless keep_hop_by_hop_headers). */
  private hopByHop(fields: RawHeaders): RawHeaders {
    if (this.session.conn.config.keepHopByHop) return fields;
    return responseFieldsForClient(fields, this.keepAlive, this.head.httpVersion === 'HTTP/1.0');
  }

  startResponse(response: Response, from: ResponseHeadInfo, lengthMayChange: boolean): BodyWriter {
    let fields = response.headers.fields;
    const bodiless = bodilessResponse(this.head.method, response.statusCode);
    let chunked = !bodiless && isChunked(fields);
    let untilClose = false;
    if (!bodiless && lengthMayChange && getHeader(fields, 'content-length') !== undefined) {
      if (this.head.httpVersion === 'HTTP/1.1') {
        fields = toChunked(fields);
        chunked = true;
      } else {
        fields = withoutContentLength(fields);
        untilClose = true;
      }
    }
    if (!bodiless && !chunked && getHeader(fields, 'content-length') === undefined) {
      // HTTP/2 frames bodies itself: an HTTP/1.1 client gets chunked coding instead of a close
      if (response.httpVersion === HTTP2 && this.head.httpVersion === 'HTTP/1.1') {
        fields = toChunked(fields);
        chunked = true;
      } else {
        untilClose = true;
      }
    }
    this.keepAlive = this.head.keepAlive && !untilClose && from.keepAlive;
    const out = this.session.stream;
    out.cork();
    this.session.write(serializeResponse(response, this.hopByHop(fields)));
    process.nextTick(() => out.uncork());
    this.headSent = true;
    return new Http1BodyWriter(out, chunked);
  }

  fail(status: number, message: string): void {
    this.keepAlive = false;
    if (this.headSent) this.session.conn.destroy();
    else this.session.writeError(status, message);
  }

  abort(): void {
    this.keepAlive = false;
    this.session.conn.destroy();
  }

  upgrade(flow: HTTPFlow, server: UpgradedStream): void {
    const s = this.session;
    s.write(serializeResponse(flow.response!, flow.response!.headers.fields));
    this.headSent = true;
    s.conn.upgraded(flow, { stream: s.stream, rest: s.handOver() }, server);
  }
}

function newRequest(head: RequestHead, host: string, port: number, scheme: string, authority: string): Request {
  return new Request({
    host,
    port,
    method: head.method,
    scheme,
    authority,
    path: head.path,
    httpVersion: head.httpVersion,
    headers: Headers.fromRaw(head.headers),
    content: null,
    timestampStart: Date.now() / 1000,
  });
}

/**
 * The response head's bytes. A head an addon changed must be checked (CR/LF in a value would
 * split the message); that failure is reported as the server response's protocol error.
 */
function serializeResponse(
  r: Response,
  fields: RawHeaders,
  options?: { validate: boolean; checked: RawHeaders | undefined },
): Buffer {
  try {
    return serializeResponseHead(
      { httpVersion: h1Version(r.httpVersion), statusCode: r.statusCode, reason: h1Reason(r), headers: fields },
      options,
    );
  } catch (err) {
    if (err instanceof Http1Error) throw new UpstreamError(`HTTP protocol error in server response: ${err.message}`);
    throw err;
  }
}

function toHead(r: Response): { httpVersion: string; statusCode: number; reason: string; headers: RawHeaders } {
  return { httpVersion: r.httpVersion, statusCode: r.statusCode, reason: r.reason, headers: r.headers.fields };
}
