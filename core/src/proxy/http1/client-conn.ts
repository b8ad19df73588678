import type { Request, Server } from '../../flow/index.js';
import { Deferred } from '../deferred.js';
import { UpstreamError } from '../errors.js';
import type { BodyWriter, ReceivedRequest, ResponseHeadInfo, ServerSide, UpgradedStream } from '../http/sides.js';
import type { ServerTransport, TransportReader } from '../transport.js';
import { Http1BodyWriter, writeMessage } from './body-writer.js';
import { BodyCollector } from './collector.js';
import type { Http1Error } from './errors.js';
import { fixLength, hostHeaderValue, toChunked } from './outbound.js';
import { getHeader, getHeaders, isChunked } from './raw-headers.js';
import { withoutHopByHop } from './hop-by-hop.js';
import { ResponseParser } from './response-parser.js';
import { serializeRequestHead } from './serialize.js';
import { h1Method, h1RequestFields, h1Version, HTTP2 } from '../http2/translate.js';
import { wrongAccept } from '../websocket/handshake.js';
import type { RawHeaders, ResponseHandler, ResponseHead } from './types.js';

/**
 * HTTP/1 on a server transport: one response parser, one exchange at a time
 * ({@link Http1ServerSide}). A connection is reused only when its last response ended cleanly
 * and nothing is left unread: bytes a server sends past a response (beyond its Content-Length, a
 * body on a 204 or on a HEAD response, a response nobody asked for) would otherwise be read as
 * the next request's response. Such a connection is closed, with the stray bytes in the debug log.
 */
export class Http1ClientConn implements TransportReader, ResponseHandler {
  readonly parser: ResponseParser;
  private current: Http1ServerSide | null = null;
  /** The last exchange read its whole response, and nothing came after it. */
  private clean = true;
  /**
   * Set while a pooled read is processed when something kept a reference to the bytes (a parsed
   * head, a buffered body, a queued client write): that read buffer must not be reused.
   */
  lent = false;
  /**
   * A body is being streamed through, or collected into its own buffer: pooled reads are handed
   * on without a copy.
   */
  streaming = false;

  constructor(
    readonly transport: ServerTransport,
    /** `validate_inbound_headers`. */
    strict: boolean,
    /** Debug log for the stray bytes of a dirty connection. */
    private readonly debug: (message: string) => void,
    /** `keep_hop_by_hop_headers`: forward the client's hop-by-hop headers (mitmproxy's behaviour). */
    readonly keepHopByHop = false,
  ) {
    this.parser = new ResponseParser(this, { strict });
    transport.attach(this);
  }

  get server(): Server {
    return this.transport.server;
  }

  /** Open, idle, its last response read cleanly and nothing unread: a request may use it. */
  get reusable(): boolean {
    return this.current === null && this.clean && this.transport.alive && this.parser.bufferedBytes === 0;
  }

  /** An exchange is using the connection. */
  get busy(): boolean {
    return this.current !== null;
  }

  /** Start an exchange (the caller checked {@link reusable}). */
  exchange(): Http1ServerSide {
    const side = new Http1ServerSide(this);
    this.current = side;
    this.clean = false;
    // A new connection may be gone before its first exchange (a TLS 1.3 server that refuses a
    // missing client certificate closes right after the handshake): the exchange fails at once
    // with why, instead of waiting for a close that already happened.
    if (!this.transport.alive) side.onClose(this.transport.closedReason);
    return side;
  }

  /** The request is on its way: the response's framing depends on its method. */
  begin(method: string): void {
    this.parser.next(method);
  }

  /**
   * The exchange is over. With `reusable` (its response ended, keep-alive) the connection waits
   * for the next request, unless the server sent more than the response; else it is closed.
   */
  finish(side: Http1ServerSide, reusable: boolean): void {
    if (this.current !== side) return;
    this.current = null;
    if (!reusable) {
      this.transport.close();
      return;
    }
    if (this.parser.bufferedBytes > 0) return this.stray(this.parser.takeRemaining());
    this.clean = true;
  }

  /** After a 101 the connection leaves HTTP. */
  leave(): UpgradedStream {
    this.current = null;
    return { stream: this.transport.socket, rest: this.transport.detach() };
  }

  // --- transport events ----------------------------------------------------------------------

  onRead(chunk: Buffer, pooled: boolean): boolean {
    if (this.current === null) {
      this.stray(chunk);
      return false;
    }
    if (!pooled) {
      this.parser.push(chunk);
      return false;
    }
    if (!this.streaming) {
      // Heads and buffered bodies keep what they parse: give them their own (small) copy.
      this.parser.push(Buffer.from(chunk));
      return false;
    }
    this.lent = false;
    this.parser.push(chunk);
    return this.lent || this.parser.bufferedBytes > 0;
  }

  onReadEnd(): void {
    this.parser.finish();
  }

  onLost(error: Error | null): void {
    this.current?.onClose(error);
  }

  takeRemaining(): Buffer {
    return this.parser.takeRemaining();
  }

  // --- response parser events ----------------------------------------------------------------

  onHead(head: ResponseHead): void {
    this.lent = true;
    this.current?.onHead(head);
  }
  onInformational(head: ResponseHead): void {
    this.lent = true;
    this.current?.onInformational(head);
  }
  onData(chunk: Buffer): void {
    this.current?.onData(chunk);
  }
  onTrailers(trailers: RawHeaders): void {
    this.lent = true;
    this.current?.onTrailers(trailers);
  }
  onEnd(): void {
    this.streaming = false;
    this.current?.onEnd();
  }
  onError(error: Http1Error): void {
    this.streaming = false;
    const c = this.current;
    this.transport.close();
    c?.fail(new UpstreamError(`HTTP protocol error in server response: ${error.message}`));
  }

  /** Bytes the server sent past a response: never read them as the next response. */
  private stray(bytes: Buffer): void {
    this.clean = false;
    const a = this.transport.server.address;
    const where = a ? `${a[0].includes(':') ? `[${a[0]}]` : a[0]}:${a[1]}` : 'the server';
    const preview = JSON.stringify(bytes.toString('latin1', 0, 64)) + (bytes.length > 64 ? '...' : '');
    this.debug(
      `${where} sent ${bytes.length} bytes after the end of a response (${preview}): closing that server connection; the next request gets a new one.`,
    );
    this.transport.close();
  }
}

/** One request/response on an {@link Http1ClientConn}. */
export class Http1ServerSide implements ServerSide {
  trailers: RawHeaders | null = null;
  private head: ResponseHead | null = null;
  private headWait: Deferred<ResponseHeadInfo> | null = null;
  private onInterim: ((head: ResponseHeadInfo) => void) | null = null;
  private readonly body = new BodyCollector();
  private ended = false;
  private end: Deferred | null = null;
  private limit: number | null = null;
  private overflow: Deferred<boolean> | null = null;
  private sink: BodyWriter | null = null;
  private failure: Error | null = null;
  /**
   * The `Sec-WebSocket-Key` of an Upgrade request the proxy made from an HTTP/2 extended CONNECT
   * (RFC 8441; the client never saw the key, so only the proxy can check the server's answer).
   */
  private upgradeKey: string | null = null;

  constructor(private readonly conn: Http1ClientConn) {}

  get server(): Server {
    return this.conn.server;
  }

  send(request: Request, body: Buffer, from: ReceivedRequest | null): void {
    this.conn.begin(h1Method(request));
    this.upgradeKey = keyWeMade(request, writeBufferedRequest(this.conn, request, body, from));
  }

  startRequest(request: Request, from: ReceivedRequest | null, lengthMayChange: boolean): BodyWriter {
    let fields = forServer(this.conn, withHost(request, request.headers.fields));
    const declared = getHeader(fields, 'content-length') !== undefined;
    // an HTTP/2 body of unknown length needs chunked coding on HTTP/1
    if ((lengthMayChange && declared) || (request.httpVersion === HTTP2 && !declared && !isChunked(fields)))
      fields = toChunked(fields);
    this.conn.begin(h1Method(request));
    this.upgradeKey = keyWeMade(request, fields);
    this.conn.transport.write(serializeHead(request, fields, from, this.conn.transport.forwardProxy));
    return new Http1BodyWriter(this.conn.transport.socket, isChunked(fields));
  }

  response(
    onInterim: ((head: ResponseHeadInfo) => void) | null,
    bodySizeLimit: number | null,
  ): ResponseHeadInfo | Promise<ResponseHeadInfo> {
    this.onInterim = onInterim;
    this.conn.parser.bodySizeLimit = bodySizeLimit ?? Infinity;
    if (this.head !== null) return this.head;
    if (this.failure !== null) throw this.failure;
    this.headWait = new Deferred<ResponseHeadInfo>();
    return this.headWait.promise;
  }

  readBody(limit: number | null): Buffer | null | Promise<Buffer | null> {
    this.limit = limit;
    const parser = this.conn.parser;
    const head = this.head;
    if (head !== null && head.bodyKind === 'length' && (limit === null || head.contentLength <= limit))
      this.body.expect(head.contentLength);
    if (!this.ended && this.failure === null) {
      if (limit !== null && this.body.length > limit) return null;
      parser.resume();
    }
    if (this.failure !== null) throw this.failure;
    if (this.ended) return this.body.take();
    if (limit !== null && this.body.length > limit) {
      parser.pause();
      return null;
    }
    this.overflow = new Deferred<boolean>();
    return this.overflow.promise.then((over) => (over ? null : this.body.take()));
  }

  streamBody(into: BodyWriter): void | Promise<void> {
    this.sink = into;
    this.conn.streaming = false;
    const buffered = this.body.drain();
    let ready = true;
    for (const b of buffered) if (!into.write(b)) ready = false;
    if (this.ended) {
      into.end(this.trailers);
      return;
    }
    if (this.failure !== null) return Promise.reject(this.failure);
    this.conn.streaming = true;
    this.end = new Deferred();
    if (ready) this.conn.parser.resume();
    else into.onDrain(() => this.conn.parser.resume());
    return this.end.promise;
  }

  takeOver(): UpgradedStream {
    return this.conn.leave();
  }

  release(): void {
    this.conn.finish(this, this.ended && this.head !== null && this.head.keepAlive);
  }

  abort(reason = 'The exchange was aborted.'): void {
    this.conn.finish(this, false);
    // the connection is gone from under the exchange: whoever waits for it hears why
    if (!this.ended) this.fail(new UpstreamError(reason));
  }

  // --- events from the connection ------------------------------------------------------------

  onHead(head: ResponseHead): void {
    this.conn.parser.pause();
    const key = this.upgradeKey;
    if (key !== null && head.statusCode === 101) {
      const wrong = wrongAccept(key, getHeaders(head.headers, 'sec-websocket-accept'));
      if (wrong !== null) {
        this.abort(
          `The server's answer to the WebSocket upgrade the proxy made from the client's HTTP/2 extended CONNECT is wrong: ${wrong} The WebSocket was refused.`,
        );
        return;
      }
    }
    this.head = head;
    this.headWait?.resolve(head);
  }

  onInformational(head: ResponseHead): void {
    this.onInterim?.(head);
  }

  onData(chunk: Buffer): void {
    const sink = this.sink;
    if (sink !== null) {
      if (!sink.write(chunk)) this.pauseUntilDrain(sink);
      // A write the receiver did not take at once still points into the read buffer.
      if (sink.retained) this.conn.lent = true;
      return;
    }
    const body = this.body;
    if (body.add(chunk)) this.conn.streaming = true;
    else this.conn.lent = true;
    if (this.limit !== null && body.length > this.limit && this.overflow) {
      this.conn.parser.pause();
      this.overflow.resolve(true);
    }
  }

  onTrailers(trailers: RawHeaders): void {
    this.trailers = trailers;
  }

  onEnd(): void {
    this.ended = true;
    this.conn.streaming = false;
    this.overflow?.resolve(false);
    if (this.sink !== null && this.end !== null) {
      this.sink.end(this.trailers);
      this.end.resolve();
    }
  }

  onClose(error: Error | null): void {
    if (this.ended) return;
    this.fail(
      new UpstreamError(
        error
          ? `Server connection lost: ${error.message}`
          : this.head
            ? 'Server closed the connection before the response was complete.'
            : 'Server closed the connection without a response.',
      ),
    );
  }

  fail(err: Error): void {
    this.failure = err;
    this.conn.streaming = false;
    this.headWait?.reject(err);
    this.overflow?.reject(err);
    this.end?.reject(err);
  }

  private pauseUntilDrain(into: BodyWriter): void {
    const parser = this.conn.parser;
    if (parser.isPaused) return;
    parser.pause();
    const socket = this.conn.transport.socket;
    socket.pause();
    into.onDrain(() => {
      socket.resume();
      parser.resume();
    });
  }
}

/**
 * Head and whole body of a buffered request (origin-form target, absolute form to an upstream proxy, Host
 * added if missing, framing fixed) in one corked write; the body is not copied.
 */
function writeBufferedRequest(
  conn: Http1ClientConn,
  req: Request,
  body: Buffer,
  from: ReceivedRequest | null,
): RawHeaders {
  const fields = fixLength(forServer(conn, withHost(req, req.headers.fields)), body, false);
  writeMessage(
    conn.transport.socket,
    serializeHead(req, fields, from, conn.transport.forwardProxy),
    body,
    isChunked(fields),
    req.trailers?.fields ?? null,
  );
  return fields;
}

/** The `Sec-WebSocket-Key` the proxy put in `fields` when it made an Upgrade request of an HTTP/2 extended CONNECT, else null. */
function keyWeMade(req: Request, fields: RawHeaders): string | null {
  return req.httpVersion === HTTP2 && h1Method(req) !== req.method
    ? (getHeader(fields, 'sec-websocket-key') ?? null)
    : null;
}

/**
 * The request's fields without the client's hop-by-hop headers (unless keep_hop_by_hop_headers).
 * Proxy-Authorization stays only on requests that go to an upstream proxy (absolute form), not into its tunnels.
 */
function forServer(conn: Http1ClientConn, fields: RawHeaders): RawHeaders {
  return conn.keepHopByHop
    ? fields
    : withoutHopByHop(fields, { request: true, keepProxyAuthorization: conn.transport.forwardProxy });
}

function withHost(req: Request, fields: RawHeaders): RawHeaders {
  if (req.httpVersion === HTTP2) return h1RequestFields(req);
  if (getHeader(fields, 'host') !== undefined) return fields;
  return [[Buffer.from('Host'), Buffer.from(hostHeaderValue(req.host, req.port, req.scheme), 'latin1')], ...fields];
}

/**
 * Bytes no addon touched came through the parser's checks: no need to check them again. To an
 * upstream proxy (`absolute`) the target is the whole URL, checked (its host may be an addon's).
 */
function serializeHead(req: Request, fields: RawHeaders, from: ReceivedRequest | null, absolute: boolean): Buffer {
  const pristine =
    !absolute &&
    from !== null &&
    req.headers.fields === from.headers &&
    req.method === from.method &&
    req.path === from.path;
  const target = absolute ? `${req.scheme}://${hostHeaderValue(req.host, req.port, req.scheme)}${req.path}` : req.path;
  return serializeRequestHead(
    { method: h1Method(req), target, httpVersion: h1Version(req.httpVersion), headers: fields },
    { validate: !pristine, checked: from?.headers },
  );
}
