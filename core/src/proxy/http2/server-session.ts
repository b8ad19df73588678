import type { Duplex } from 'node:stream';
import { Headers, Request } from '../../flow/index.js';
import { parseAuthority } from '../../flow/url.js';
import type { ClientConnection } from '../connection.js';
import { UpstreamError } from '../errors.js';
import { errorResponse } from '../errorpage.js';
import { failFlow, HttpExchange } from '../http/exchange.js';
import type { Target } from '../http/sides.js';
import { getHeader } from '../http1/raw-headers.js';
import { DrainWaiters } from './body-out.js';
import { Http2Connection } from './connection.js';
import { ErrorCode } from './constants.js';
import type { Http2Error } from './errors.js';
import { Http2Request, RequestBodyTooLarge } from './request-side.js';
import { HTTP2 } from './translate.js';
import { PROTOCOL_FIELD } from '../websocket/handshake.js';
import type { Http2Handler, Http2Head, ResetCause } from './types.js';

const PROTOCOL_NAME = Buffer.from(PROTOCOL_FIELD, 'latin1');

/**
 * HTTP/2 on one client stream (a decrypted TLS stream that negotiated `h2`, or a cleartext
 * stream that started with the connection preface): each request stream becomes one
 * {@link HttpExchange} with an {@link Http2Request} as its client side, so every stream is one
 * flow with the same hooks as HTTP/1. Streams are independent: a kill, a reset or a slow hook on
 * one leaves the others alone; per-stream state goes when the stream closes. Smuggling checks
 * and flood guards are the codec's (`validate_inbound_headers`): a malformed request never
 * becomes a flow, a flood ends the connection with GOAWAY.
 */
export class Http2ServerSession implements Http2Handler {
  readonly h2: Http2Connection;
  readonly drains: DrainWaiters;
  private readonly streams = new Map<number, Http2Request>();
  private closed = false;
  private readonly uncorkServers = (): void => this.conn.connector.uncork();

  constructor(
    readonly conn: ClientConnection,
    readonly stream: Duplex,
    /** Where requests go (the CONNECT target, a reverse target); null: each request's `:authority`. */
    readonly target: Target | null,
    initial: Buffer | null,
  ) {
    // RFC 8441: with `websocket` on, clients may open WebSockets on a stream (see docs/ARCHITECTURE.md)
    this.h2 = new Http2Connection('server', this, {
      validateHeaders: conn.config.validateInbound,
      enableConnectProtocol: conn.config.websocket,
    });
    this.drains = new DrainWaiters(this.h2, stream);
    conn.connector.clientLeg = this.h2;
    stream.on('data', (chunk: Buffer) => this.receive(chunk));
    stream.on('close', () => this.onClose());
    this.h2.start();
    if (initial !== null && initial.length > 0) this.receive(initial);
  }

  /**
   * Bytes from the client. Server connections are corked meanwhile, and uncorked once the
   * exchanges this read set going had their turn (a microtask), so that a read makes at most
   * one write per server connection.
   */
  private receive(chunk: Buffer): void {
    const servers = this.conn.connector;
    servers.cork();
    try {
      this.h2.receive(chunk);
    } catch (err) {
      this.conn.log.error(
        `${this.conn.describe()}: internal error in the HTTP/2 session: ${(err as Error)?.stack ?? String(err)}`,
      );
      this.conn.destroy();
    } finally {
      queueMicrotask(this.uncorkServers);
    }
  }

  // --- codec events ----------------------------------------------------------------------------

  write(data: Buffer): void {
    if (!this.closed) this.stream.write(data);
  }

  onHeaders(id: number, head: Http2Head, endStream: boolean): void {
    const request = this.makeRequest(id, head, endStream);
    if (request === null) return;
    const side = new Http2Request(this, id, head, endStream);
    this.streams.set(id, side);
    const exchange = HttpExchange.forRequest(this.conn, side, side, request);
    side.flow = exchange.flow;
    // inline arrows, not fields of the side: the bundle keeps function names, and a named
    // arrow-function field costs an Object.defineProperty per stream
    exchange.start(
      () => this.exchangeDone(side),
      (err) => this.exchangeFailed(side, err),
    );
  }

  onData(id: number, chunk: Buffer, endStream: boolean): void {
    const side = this.streams.get(id);
    if (side === undefined) this.h2.consume(id, chunk.length);
    else if (side.tunnel !== null) side.tunnel.data(chunk, endStream);
    else side.body.data(chunk, endStream);
  }

  onTrailers(id: number, trailers: Array<[Buffer, Buffer]>): void {
    this.streams.get(id)?.body.trailersIn(trailers);
  }

  onReset(id: number, code: number, cause: ResetCause): void {
    this.streams.get(id)?.clientGone(code, cause);
  }

  onStreamClose(id: number): void {
    const side = this.streams.get(id);
    if (side === undefined) return;
    this.streams.delete(id);
    this.drains.forget(id);
    side.tunnel?.gone();
    // closed before its request ended: the codec refused the rest (a stream error)
    if (!side.body.ended) side.clientGone(ErrorCode.PROTOCOL_ERROR, 'peer');
  }

  onWindowAvailable(id: number): void {
    this.drains.windowAvailable(id);
  }

  onStreamError(err: Http2Error): void {
    // Malformed requests (smuggling attempts among them) end here: the codec reset the stream.
    // A request whose body broke the rules (content-length vs DATA) has a flow: it fails.
    this.conn.log.info(`${this.conn.describe()}: HTTP/2 stream ${err.streamId} refused: ${err.message}`);
    this.streams
      .get(err.streamId)
      ?.clientGone(err.errorCode, 'peer', `HTTP/2 protocol error in client request: ${err.message}`);
  }

  onError(err: Http2Error): void {
    this.conn.log.info(`${this.conn.describe()}: HTTP/2 connection error, closing it: ${err.message}`);
    // the codec's GOAWAY goes out when its receive() returns; then the stream ends
    queueMicrotask(() => {
      if (this.closed) return;
      this.closed = true;
      this.stream.end();
      this.conn.closeSoon();
    });
  }

  // --- exchanges -------------------------------------------------------------------------------

  /** An exchange ended: a request body the response did not wait for is cut off (RST_STREAM NO_ERROR). */
  exchangeDone(side: Http2Request): void {
    this.release(side);
  }

  /**
   * An exchange threw: a request body over body_size_limit (413), the client gone while its body
   * was read, or a bug. The flow gets the error and the `error` hook fires, as for a server's
   * failure; the client gets an error page, or its stream is reset.
   */
  exchangeFailed(side: Http2Request, err: unknown): void {
    const log = this.conn.log;
    let message: string;
    if (err instanceof RequestBodyTooLarge) {
      message = err.message;
      log.info(`${this.conn.describe()}: ${message}`);
      side.fail(err.status, message);
    } else if (err instanceof UpstreamError) {
      message = err.message;
      log.debug(`${this.conn.describe()}: stream ${side.id}: ${message}`);
      side.fail(502, message);
    } else {
      message = `Internal error: ${(err as Error)?.message ?? String(err)}`;
      log.error(
        `${this.conn.describe()}: internal error on HTTP/2 stream ${side.id}: ${(err as Error)?.stack ?? String(err)}`,
      );
      this.h2.reset(side.id, ErrorCode.INTERNAL_ERROR);
    }
    const flow = side.flow;
    if (flow !== null && flow.error === null) {
      const r = failFlow(this.conn, this.conn.hooks, flow, message);
      if (r) r.catch(() => undefined);
    }
    this.release(side);
  }

  /** Nothing more is read for this request: acknowledge what is held, stop a body nobody reads. */
  private release(side: Http2Request): void {
    side.body.discard();
    // an extended CONNECT the server refused: no tunnel follows the response
    if (side.tunnel !== null && side.flow?.websocket == null) side.tunnel.destroy();
    if (side.body.ended || !this.h2.isOpen(side.id)) return;
    const h2 = this.h2;
    const id = side.id;
    if (h2.queuedBytes(id) === 0) h2.reset(id, ErrorCode.NO_ERROR);
    else this.drains.wait(id, () => h2.reset(id, ErrorCode.NO_ERROR));
  }

  /**
   * The flow's request from a stream's head: `:authority` and `:path` as received, host and port
   * from the tunnel's target, else from `:authority` (or `host`) and `:scheme`. Null when it
   * cannot be one (answered here: no destination, CONNECT, a declared body over the limit).
   */
  private makeRequest(id: number, head: Http2Head, endStream: boolean): Request | null {
    const tunnel = head.protocol !== '';
    if (tunnel && head.protocol.toLowerCase() !== 'websocket')
      return this.refuse(
        id,
        endStream,
        501,
        `Extended CONNECT for ${JSON.stringify(head.protocol)}: only websocket is supported by mitmts.`,
      );
    if (head.method === 'CONNECT' && !tunnel)
      return this.refuse(id, endStream, 501, 'CONNECT over HTTP/2 is not supported by mitmts.');
    const limit = this.conn.config.bodySizeLimit;
    if (limit !== null && head.contentLength > limit) {
      return this.refuse(
        id,
        endStream,
        413,
        `Request body of ${head.contentLength} bytes (content-length) exceeds body_size_limit of ${limit} bytes.`,
      );
    }
    const t = this.target;
    let host: string;
    let port: number;
    let scheme: string;
    if (t !== null) {
      host = t.host;
      port = t.port;
      scheme = t.scheme;
    } else {
      scheme = head.scheme;
      const authority = head.authority || getHeader(head.headers, 'host') || '';
      if (scheme !== 'http' && scheme !== 'https')
        return this.refuse(
          id,
          endStream,
          400,
          `HTTP/2 request with :scheme ${JSON.stringify(scheme)}: only http and https can be proxied.`,
        );
      let p: number | null;
      try {
        [host, p] = parseAuthority(authority, true);
      } catch {
        return this.refuse(
          id,
          endStream,
          400,
          authority
            ? `HTTP/2 request with an invalid :authority ${JSON.stringify(authority)}.`
            : 'HTTP/2 request without :authority or host: the destination is unknown.',
        );
      }
      port = p ?? (scheme === 'https' ? 443 : 80);
    }
    // reverse mode: the target's authority replaces the client's (as Host does on HTTP/1), unless keep_host_header
    const rewrite = t?.reverse?.hostHeader ?? null;
    const request = new Request({
      host,
      port,
      method: head.method,
      scheme,
      authority: rewrite ?? head.authority,
      path: head.path,
      httpVersion: HTTP2,
      headers: Headers.fromRaw(
        tunnel ? [[PROTOCOL_NAME, Buffer.from(head.protocol, 'latin1')], ...head.headers] : head.headers,
      ),
      content: null,
      timestampStart: Date.now() / 1000,
    });
    if (rewrite !== null && request.headers.has('host')) request.headers.set('Host', rewrite);
    return request;
  }

  /** Answer a request that never becomes a flow with an error page; a body still coming is cut off. */
  private refuse(id: number, endStream: boolean, status: number, message: string): null {
    this.conn.log.info(`${this.conn.describe()}: HTTP/2 stream ${id}: ${message}`);
    const r = errorResponse(status, message);
    const body = r.rawContent!;
    this.h2.sendHeaders(
      id,
      {
        status,
        headers: [
          [Buffer.from('content-type'), Buffer.from('text/html')],
          [Buffer.from('content-length'), Buffer.from(String(body.length))],
        ],
      },
      false,
    );
    this.h2.sendData(id, body, true);
    if (!endStream) this.h2.reset(id, ErrorCode.NO_ERROR);
    return null;
  }

  private onClose(): void {
    this.closed = true;
    this.h2.close();
  }
}
