import type { HTTPFlow, Response, Server } from '../../flow/index.js';
import { Deferred } from '../deferred.js';
import { UpstreamError } from '../errors.js';
import { errorResponse } from '../errorpage.js';
import type {
  BodyWriter,
  ClientSide,
  Connector,
  HeaderPairs,
  ResponseHeadInfo,
  ServerSide,
  UpgradedStream,
} from '../http/sides.js';
import { andThen } from '../http/step.js';
import { withContentLength } from '../http1/raw-headers.js';
import { equalsLower, lower } from '../http1/chars.js';
import { endStream, Http2BodyWriter } from './body-out.js';
import { InboundBody } from './body-in.js';
import { ErrorCode, errorCodeName } from './constants.js';
import { Http2Error, Http2ErrorCodes } from './errors.js';
import type { Http2ServerSession } from './server-session.js';
import { Http2ServerSide } from './server-side.js';
import { Http2StreamDuplex } from './tunnel.js';
import { HTTP2, toH2Fields } from './translate.js';
import type { Http2Head, ResetCause } from './types.js';

const EMPTY = Buffer.alloc(0);
const L_EXPECT = lower('expect');
const L_100_CONTINUE = lower('100-continue');
const L_CONTENT_LENGTH = lower('content-length');
const L_SEC_WEBSOCKET_ACCEPT = lower('sec-websocket-accept');

/** A request body over `body_size_limit`: answered with 413 (as the HTTP/1 codec does). */
export class RequestBodyTooLarge extends Error {
  readonly status = 413;
  constructor(size: number, limit: number) {
    super(`Request body exceeds body_size_limit of ${limit} bytes (${size} bytes so far).`);
    this.name = 'RequestBodyTooLarge';
  }
}

/** A body writer for a response without a body (HEAD, 204, 304): the stream already ended. */
const NO_BODY: BodyWriter = {
  write: () => true,
  retained: false,
  onDrain: (resume) => process.nextTick(resume),
  end: () => undefined,
};

/**
 * The client half of one request on an HTTP/2 stream (see {@link ClientSide}). It is also the
 * exchange's connector (it hands the flow to the connection's real one and keeps the server side
 * it got), so that a client's RST_STREAM reaches that server side: HTTP/2 resets its stream,
 * HTTP/1 closes its connection.
 */
export class Http2Request implements ClientSide, Connector {
  readonly contentLength: number;
  readonly hasBody: boolean;
  readonly expectContinue: boolean;
  readonly received: Http2Head;
  readonly body: InboundBody;
  /** An extended CONNECT (RFC 8441): the stream's DATA is the tunnel's, not a request body. */
  readonly tunnel: Http2StreamDuplex | null;
  /** The exchange's flow (set once it starts). */
  flow: HTTPFlow | null = null;
  private server: ServerSide | null = null;
  /** A response head went out (no error page possible any more). */
  private headSent = false;
  /** Why the client can no longer receive the response (it reset the stream, or left). */
  private gone: string | null = null;
  private closedWait: Deferred | null = null;

  constructor(
    private readonly session: Http2ServerSession,
    readonly id: number,
    head: Http2Head,
    endStream: boolean,
  ) {
    const tunnel = head.protocol !== '';
    this.tunnel = tunnel && !endStream ? new Http2StreamDuplex(session.h2, session.drains, id) : null;
    this.contentLength = endStream || tunnel ? 0 : head.contentLength;
    this.hasBody = !endStream && !tunnel;
    this.expectContinue = this.hasBody && expects100(head.headers);
    this.received = head;
    const limit = session.conn.config.bodySizeLimit;
    this.body = new InboundBody(session.h2, id, limit, (size) => new RequestBodyTooLarge(size, limit!));
    this.body.ended = !this.hasBody;
  }

  get trailers(): HeaderPairs | null {
    return this.body.trailers;
  }

  get closed(): Promise<void> {
    if (this.closedWait === null) {
      this.closedWait = new Deferred();
      if (this.gone !== null) this.closedWait.resolve();
    }
    return this.closedWait.promise;
  }

  /** The client is gone (it reset the stream, or the connection ended). */
  get isGone(): boolean {
    return this.gone !== null;
  }

  // --- Connector (the connection's, keeping the server side) --------------------------------

  serverConnFor(host: string, port: number): Server {
    return this.session.conn.connector.serverConnFor(host, port);
  }

  serverFor(flow: HTTPFlow): ServerSide | Promise<ServerSide> {
    if (this.gone !== null) throw new UpstreamError(this.gone);
    return andThen(this.session.conn.connector.serverFor(flow), (s) => {
      this.server = s;
      if (this.gone !== null) {
        s.abort(this.gone);
        throw new UpstreamError(this.gone);
      }
      return s;
    });
  }

  // --- the request body ---------------------------------------------------------------------

  readBody(limit: number | null): Buffer | null | Promise<Buffer | null> {
    return this.body.read(limit);
  }

  streamBody(into: BodyWriter): void | Promise<void> {
    return this.body.stream(into);
  }

  // --- the response -------------------------------------------------------------------------

  sendInterim(head: ResponseHeadInfo): void {
    this.send(() =>
      this.session.h2.sendHeaders(
        this.id,
        { status: head.statusCode, headers: toH2Fields(head.headers, false) },
        false,
      ),
    );
  }

  sendResponse(response: Response, from: ResponseHeadInfo | null): void {
    const h2 = this.session.h2;
    const id = this.id;
    const bodiless = noBody(this.received.method, response.statusCode);
    const body = bodiless ? EMPTY : (response.rawContent ?? EMPTY);
    const fields = lengthFixed(this.responseFields(response, from), body, bodiless);
    const t = bodiless ? undefined : response.trailers?.fields;
    const trailers = t !== undefined && t.length > 0 ? t : null;
    this.send(() => {
      h2.sendHeaders(id, { status: response.statusCode, headers: fields }, body.length === 0 && trailers === null);
      if (body.length > 0) h2.sendData(id, body, trailers === null);
      if (trailers !== null) endStream(h2, id, trailers);
    });
    this.headSent = true;
  }

  startResponse(response: Response, from: ResponseHeadInfo, lengthMayChange: boolean): BodyWriter {
    const bodiless = noBody(this.received.method, response.statusCode);
    let fields = this.responseFields(response, from);
    if (lengthMayChange && !bodiless)
      fields = fields.filter(([n]) => !(n.length === 14 && equalsLower(n, 0, L_CONTENT_LENGTH)));
    this.send(() => this.session.h2.sendHeaders(this.id, { status: response.statusCode, headers: fields }, bodiless));
    this.headSent = true;
    return bodiless ? NO_BODY : new Http2BodyWriter(this.session.h2, this.session.drains, this.id);
  }

  fail(status: number, message: string): void {
    const h2 = this.session.h2;
    if (this.gone !== null || !h2.isOpen(this.id)) return;
    const forwarded = this.server instanceof Http2ServerSide ? this.server.resetCode : null;
    if (forwarded !== null) h2.reset(this.id, forwarded);
    else if (this.headSent) h2.reset(this.id, ErrorCode.INTERNAL_ERROR);
    else this.sendResponse(errorResponse(status, message), null);
  }

  abort(): void {
    this.session.h2.reset(this.id, ErrorCode.CANCEL);
  }

  upgrade(flow: HTTPFlow, server: UpgradedStream): void {
    const tunnel = this.tunnel;
    if (tunnel !== null && flow.websocket !== null) {
      // RFC 8441: the WebSocket handshake is answered with 200 (an HTTP/1.1 server's 101 too); then the stream is the WebSocket
      const response = flow.response!;
      const fields = toH2Fields(response.headers.fields, false).filter(
        ([n]) => !(n.length === 20 && equalsLower(n, 0, L_SEC_WEBSOCKET_ACCEPT)),
      );
      this.send(() =>
        this.session.h2.sendHeaders(
          this.id,
          { status: response.statusCode === 101 ? 200 : response.statusCode, headers: fields },
          false,
        ),
      );
      this.headSent = true;
      this.session.conn.upgraded(flow, { stream: tunnel, rest: EMPTY }, server);
      return;
    }
    // HTTP/2 has no 101 (RFC 9113 section 8.6); a server that switched protocols anyway is cut.
    server.stream.destroy();
    this.session.conn.log.info(
      `${this.session.conn.describe()}: the server answered an HTTP/2 request with 101 Switching Protocols; HTTP/2 cannot switch protocols, stream ${this.id} reset.`,
    );
    this.session.h2.reset(this.id, ErrorCode.INTERNAL_ERROR);
  }

  // --- events from the session ---------------------------------------------------------------

  /** The client reset the stream, its connection ended, or the codec refused the rest of the request (`why`). */
  clientGone(code: number, cause: ResetCause, why?: string): void {
    if (this.gone !== null) return;
    this.gone = why ?? (cause === 'peer' ? `Client reset the stream: ${errorCodeName(code)}.` : 'Client disconnected.');
    this.body.fail(new UpstreamError(this.gone));
    this.closedWait?.resolve();
    this.server?.abort(this.gone);
    this.tunnel?.gone();
  }

  /** The fields of a response for this client: HTTP/1 ones without the connection-specific fields. */
  private responseFields(response: Response, from: ResponseHeadInfo | null): HeaderPairs {
    const fields = response.headers.fields;
    return response.httpVersion === HTTP2 && from !== null && fields === from.headers
      ? fields
      : toH2Fields(fields, false);
  }

  /** Send through the codec; fields it cannot send (an addon's CR/LF) are the response's error. */
  private send(f: () => void): void {
    try {
      f();
    } catch (err) {
      if (err instanceof Http2Error && err.code === Http2ErrorCodes.BAD_OUTBOUND)
        throw new UpstreamError(`Cannot send the response over HTTP/2: ${err.message}`);
      throw err;
    }
  }
}

function expects100(fields: HeaderPairs): boolean {
  for (let i = 0; i < fields.length; i++) {
    const [n, v] = fields[i]!;
    if (n.length === 6 && equalsLower(n, 0, L_EXPECT) && v.length === 12 && equalsLower(v, 0, L_100_CONTINUE))
      return true;
  }
  return false;
}

/** A response to this method with this status has no body (RFC 9110 sections 6.4.1, 9.3.2). */
function noBody(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304;
}

/** A declared content-length that disagrees with the body (an addon changed it) is corrected; HTTP/2 peers treat a mismatch as malformed. */
function lengthFixed(fields: HeaderPairs, body: Buffer, bodiless: boolean): HeaderPairs {
  if (bodiless) return fields;
  for (let i = 0; i < fields.length; i++) {
    const [n, v] = fields[i]!;
    if (n.length !== 14 || !equalsLower(n, 0, L_CONTENT_LENGTH)) continue;
    return v.length > 0 && Number(v.toString('latin1')) === body.length
      ? fields
      : withContentLength(fields, body.length);
  }
  return fields;
}
