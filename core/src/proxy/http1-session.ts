import type { Duplex } from 'node:stream';
import { FlowError, Headers, HTTPFlow, Request, Response, type StreamSetting } from '../flow/index.js';
import type { HookTable } from '../hooks/dispatcher.js';
import type { HookName } from '../hooks/hookmap.js';
import { Deferred } from './deferred.js';
import { errorResponse } from './errorpage.js';
import {
  encodeChunk,
  encodeLastChunk,
  getHeader,
  Http1Error,
  isChunked,
  RequestParser,
  serializeRequestHead,
  serializeResponseHead,
  withContentLength,
  type Http1Handler,
  type RawHeaders,
  type RequestHead,
  type ResponseHead,
} from './http1/index.js';
import type { ClientConnection } from './client.js';
import { UpstreamError, type ExchangeHandler, type ServerConnection } from './upstream.js';

/** Where requests on a tunnel go: fixed by the CONNECT target (or the mode). */
export interface Target {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
}

const HIGH_WATER = 1 << 20;
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
/** The body of a request without one: shared (zero bytes cannot be changed). */
const NO_BODY = Buffer.alloc(0);

class Killed extends Error {}

/**
 * The HTTP/1 layer on one client stream (the raw socket, or the decrypted TLS stream): reads
 * requests one at a time, runs each exchange through the hooks, forwards it upstream and writes
 * the response back; keep-alive and pipelined requests follow in order.
 */
export class Http1Session implements Http1Handler<RequestHead> {
  private readonly parser: RequestParser;
  private body: Buffer[] = [];
  private bodyLength = 0;
  private trailers: RawHeaders | null = null;
  private sink: ((chunk: Buffer) => void) | null = null;
  private bodyEnd: Deferred | null = null;
  private messageEnded = false;
  private parseError: Http1Error | null = null;
  private active = false;
  private closed = false;
  /** The stream now belongs to another layer (CONNECT tunnel, upgrade). */
  private handedOver = false;
  /** The current request's head as parsed (to tell whether an addon changed it). */
  private rawRequest: RequestHead | null = null;
  /** Bytes of the current response went to the client already (no error page possible). */
  private responseStarted = false;
  private clientGone: Deferred = new Deferred();
  private readonly exchangeDone = (keepAlive: boolean): void => this.finishExchange(keepAlive);
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
      this.clientGone.resolve();
      if (this.bodyEnd) this.bodyEnd.reject(new UpstreamError('Client disconnected.'));
    });
    if (initial && initial.length > 0) this.parser.push(initial);
  }

  // --- request parser events -------------------------------------------------------------

  onHead(head: RequestHead): void {
    this.parser.pause();
    this.active = true;
    this.body = [];
    this.bodyLength = 0;
    this.trailers = null;
    this.messageEnded = false;
    this.sink = null;
    this.responseStarted = false;
    this.exchange(head).then(this.exchangeDone, this.exchangeFailed);
  }

  onData(chunk: Buffer): void {
    if (this.sink) this.sink(chunk);
    else {
      this.body.push(chunk);
      this.bodyLength += chunk.length;
    }
  }

  onTrailers(trailers: RawHeaders): void {
    this.trailers = trailers;
  }

  onEnd(): void {
    this.messageEnded = true;
    this.bodyEnd?.resolve();
  }

  onError(error: Http1Error): void {
    this.parseError = error;
    if (this.bodyEnd) {
      this.bodyEnd.reject(error);
      return;
    }
    if (this.active) return;
    // A malformed request head: answer and close; nothing else is affected.
    this.conn.log.info(`${this.conn.describe()}: bad request: ${error.message}`);
    this.writeError(error.status, error.message);
    this.close();
  }

  // --- one exchange ----------------------------------------------------------------------

  private async exchange(head: RequestHead): Promise<boolean> {
    const conn = this.conn;
    const table = conn.hooks;
    if (head.method === 'CONNECT') {
      if (this.target) {
        this.writeError(400, 'CONNECT inside a CONNECT tunnel is not supported.');
        return false;
      }
      this.handedOver = true;
      await conn.connect(this, head);
      return false;
    }
    const request = this.makeRequest(head);
    if (!request) return false;
    this.rawRequest = head;
    const flow = new HTTPFlow(conn.client, conn.placeholderServer(request.host, request.port), true);
    flow.request = request;
    conn.track(flow);
    { const h = hookAsync(table, 'requestheaders', flow); if (h) await h; }
    const cfg = conn.config;
    let streamRequest: StreamSetting = request.stream;
    if (!streamRequest && cfg.streamLargeBodies !== null && head.contentLength > cfg.streamLargeBodies) streamRequest = true;

    if (streamRequest) {
      // The body goes upstream as it arrives; `request` fires once it is through.
      const opening = this.upstreamOrFail(flow, table);
      const sc = opening instanceof Promise ? await opening : opening;
      if (!sc) return false;
      try {
        const reader = this.readResponse(sc, flow, head.expectContinue);
        sc.write(this.requestHead(flow.request, true));
        await this.pipeRequestBody(sc, flow, streamRequest);
        request.timestampEnd = Date.now() / 1000;
        { const h = hookAsync(table, 'request', flow); if (h) await h; }
        await reader.head.promise;
        const r = this.handleResponse(flow, sc, reader, head, table);
        return r instanceof Promise ? await r : r;
      } catch (err) {
        return this.upstreamFailed(flow, table, err);
      }
    }

    if (head.expectContinue && head.bodyKind !== 'none') {
      this.stream.write(CONTINUE);
      request.headers.delete('expect');
    }
    const pending = this.readRequestBody();
    if (pending) await pending;
    request.rawContent = this.takeBody();
    if (this.trailers) request.trailers = Headers.fromRaw(this.trailers);
    request.timestampEnd = Date.now() / 1000;
    { const h = hookAsync(table, 'request', flow); if (h) await h; }

    if (flow.response) {
      // Answered by an addon: the server is never contacted. As mitmproxy, `responseheaders`
      // fires for that response too, then `response`.
      flow.response.timestampStart = Date.now() / 1000;
      { const h = hookAsync(table, 'responseheaders', flow); if (h) await h; }
    }
    if (flow.response) {
      { const h = hookAsync(table, 'response', flow); if (h) await h; }
      return this.sendBuffered(flow, head.keepAlive);
    }
    const opening = this.upstreamOrFail(flow, table);
    const sc = opening instanceof Promise ? await opening : opening;
    if (!sc) return false;
    try {
      const reader = this.readResponse(sc, flow, false);
      sc.write(this.requestHead(flow.request, false, request.rawContent));
      await reader.head.promise;
      const r = this.handleResponse(flow, sc, reader, head, table);
      return r instanceof Promise ? await r : r;
    } catch (err) {
      return this.upstreamFailed(flow, table, err);
    }
  }

  /**
   * The upstream part of an exchange failed. If the server is to blame (reset, bad response,
   * gone), the flow gets the error and the `error` hook fires; the client gets a 502 page if
   * nothing of the response was sent yet, else its connection is cut. Anything else is rethrown.
   */
  private async upstreamFailed(flow: HTTPFlow, table: HookTable, err: unknown): Promise<boolean> {
    const upstream = err instanceof UpstreamError || (err instanceof Http1Error && err.side === 'response');
    if (!upstream) throw err;
    const message = err instanceof Http1Error ? `HTTP protocol error in server response: ${err.message}` : err.message;
    if (!this.responseStarted) {
      await this.failFlow(flow, table, message, 502);
      return false;
    }
    flow.error = new FlowError(message);
    // The flow carries the error (the dumper prints it): the log line is for debugging.
    this.conn.log.debug(`${this.conn.describe()}: ${message}`);
    { const h = hookAsync(table, 'error', flow); if (h) await h; }
    this.conn.destroy();
    return false;
  }

  private makeRequest(head: RequestHead): Request | null {
    const now = Date.now() / 1000;
    const headers = Headers.fromRaw(head.headers);
    const t = this.target;
    if (t) {
      if (head.form !== 'origin' && head.form !== 'asterisk' && head.form !== 'absolute') {
        this.rejectForm(head, 'origin');
        return null;
      }
      return new Request({
        host: head.form === 'absolute' ? head.host : t.host,
        port: head.form === 'absolute' ? head.port : t.port,
        method: head.method,
        scheme: t.scheme,
        authority: '',
        path: head.path,
        httpVersion: head.httpVersion,
        headers,
        content: null,
        timestampStart: now,
      });
    }
    if (head.form !== 'absolute') {
      this.rejectForm(head, 'absolute');
      return null;
    }
    return new Request({
      host: head.host,
      port: head.port,
      method: head.method,
      scheme: head.scheme,
      authority: head.authority,
      path: head.path,
      httpVersion: head.httpVersion,
      headers,
      content: null,
      timestampStart: now,
    });
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

  /** Request head bytes for upstream: origin-form target, Host added if missing, framing fixed. */
  private requestHead(req: Request, streaming: boolean, body?: Buffer | null): Buffer {
    let fields = req.headers.fields;
    // Bytes no addon touched came through the parser's checks: no need to check them again.
    const raw = this.rawRequest;
    const pristine = raw !== null && fields === raw.headers && req.method === raw.method && req.path === raw.path;
    if (getHeader(fields, 'host') === undefined && req.httpVersion !== 'HTTP/2.0') {
      fields = [[Buffer.from('Host'), Buffer.from(hostHeaderValue(req), 'latin1')], ...fields];
    }
    if (!streaming) fields = fixLength(fields, body ?? null, false);
    else if (typeof req.stream === 'function' && getHeader(fields, 'content-length') !== undefined) fields = toChunked(fields);
    const head = serializeRequestHead({ method: req.method, target: req.path, httpVersion: req.httpVersion, headers: fields }, { validate: !pristine, checked: raw?.headers });
    if (streaming || !body || body.length === 0) {
      if (!streaming && isChunked(fields)) return Buffer.concat([head, encodeLastChunk(req.trailers?.fields ?? null)]);
      return head;
    }
    if (isChunked(fields)) return Buffer.concat([head, encodeChunk(body), encodeLastChunk(req.trailers?.fields ?? null)]);
    return Buffer.concat([head, body], head.length + body.length);
  }

  /** Let the parser read the body; returns a promise only if it is not complete yet. */
  private readRequestBody(): Promise<void> | void {
    if (!this.messageEnded && !this.parseError) this.resumeParser();
    if (this.parseError) throw this.parseError;
    if (this.messageEnded) return;
    const d = (this.bodyEnd = new Deferred());
    return d.promise.finally(() => (this.bodyEnd = null));
  }

  private takeBody(): Buffer {
    // No body (most requests): one shared empty buffer, not a new one per request.
    if (this.bodyLength === 0) {
      this.body = [];
      return NO_BODY;
    }
    const b = this.body.length === 1 ? this.body[0]! : Buffer.concat(this.body, this.bodyLength);
    this.body = [];
    this.bodyLength = 0;
    return b;
  }

  private async pipeRequestBody(sc: ServerConnection, flow: HTTPFlow, setting: StreamSetting): Promise<void> {
    const fn = typeof setting === 'function' ? this.guardStream(setting, flow, 'request') : null;
    const chunked = isChunked(flow.request.headers.fields) || (fn !== null && getHeader(flow.request.headers.fields, 'content-length') !== undefined);
    const keep = this.conn.config.storeStreamedBodies ? ([] as Buffer[]) : null;
    const send = (data: Buffer): void => {
      if (data.length === 0) return;
      // A copy: the data may sit in a read buffer that is reused for the next read.
      keep?.push(Buffer.from(data));
      if (!sc.write(chunked ? encodeChunk(data) : data)) {
        this.parser.pause();
        sc.socket.once('drain', () => this.resumeParser());
      }
    };
    this.sink = (chunk) => {
      if (!fn) return send(chunk);
      for (const out of asChunks(fn(chunk))) send(out);
    };
    for (const b of this.body) this.sink(b);
    this.body = [];
    const pending = this.readRequestBody();
    if (pending) await pending;
    if (fn) for (const out of asChunks(fn(Buffer.alloc(0)))) send(out);
    if (chunked) sc.write(encodeLastChunk(this.trailers));
    this.sink = null;
    flow.request.rawContent = keep ? Buffer.concat(keep) : null;
  }

  // --- upstream and the response ---------------------------------------------------------

  /** The server connection, or null after a 502; a promise only when a connection is opened. */
  private upstreamOrFail(flow: HTTPFlow, table: HookTable): ServerConnection | Promise<ServerConnection | null> {
    return this.conn.reusableUpstream(flow) ?? this.openUpstream(flow, table);
  }

  private async openUpstream(flow: HTTPFlow, table: HookTable): Promise<ServerConnection | null> {
    try {
      return await this.conn.upstreamFor(flow);
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      await this.failFlow(flow, table, err.message, 502);
      return null;
    }
  }

  /** Collect one response from the server connection; resolves with its head. */
  private readResponse(sc: ServerConnection, flow: HTTPFlow, forwardContinue: boolean): ResponseReader {
    const reader = new ResponseReader(sc, forwardContinue ? (head) => {
      if (head.statusCode === 100) this.stream.write(serializeResponseHead(head));
    } : null);
    sc.begin(reader, flow.request.method);
    return reader;
  }

  /**
   * The response from its head on: `responseheaders`, then a buffered body (`response`, one
   * write) or a streamed one. Synchronous while every hook is; a promise only where something
   * had to be waited for (a hook, body bytes still on the way).
   */
  private handleResponse(flow: HTTPFlow, sc: ServerConnection, reader: ResponseReader, reqHead: RequestHead, table: HookTable): boolean | Promise<boolean> {
    const head = reader.responseHead!;
    flow.response = new Response({
      httpVersion: head.httpVersion,
      statusCode: head.statusCode,
      reason: head.reason,
      headers: Headers.fromRaw(head.headers),
      content: null,
      timestampStart: Date.now() / 1000,
    });
    const h = hookAsync(table, 'responseheaders', flow);
    if (h) return h.then(() => this.responseBody(flow, sc, reader, reqHead, table));
    return this.responseBody(flow, sc, reader, reqHead, table);
  }

  private responseBody(flow: HTTPFlow, sc: ServerConnection, reader: ResponseReader, reqHead: RequestHead, table: HookTable): boolean | Promise<boolean> {
    const head = reader.responseHead!;
    const response = flow.response!;
    if (head.bodyKind === 'tunnel') return this.switchProtocols(flow, sc, reader, table);
    const cfg = this.conn.config;
    let setting: StreamSetting = response.stream;
    if (!setting && cfg.streamLargeBodies !== null && head.contentLength > cfg.streamLargeBodies) setting = true;
    if (setting) return this.streamed(flow, sc, reader, setting, reqHead, table);
    const read = reader.readBody(cfg.streamLargeBodies);
    if (read === false) return this.buffered(flow, sc, reader, reqHead, table);
    // An unknown-length body that outgrows stream_large_bodies is streamed from there on.
    if (read === true) return this.streamed(flow, sc, reader, true, reqHead, table);
    return read.then((overflow) => (overflow ? this.streamed(flow, sc, reader, true, reqHead, table) : this.buffered(flow, sc, reader, reqHead, table)));
  }

  private buffered(flow: HTTPFlow, sc: ServerConnection, reader: ResponseReader, reqHead: RequestHead, table: HookTable): boolean | Promise<boolean> {
    const response = flow.response!;
    const head = reader.responseHead!;
    response.rawContent = reader.takeBody();
    if (reader.trailers) response.trailers = Headers.fromRaw(reader.trailers);
    response.timestampEnd = Date.now() / 1000;
    const keepAlive = reqHead.keepAlive && head.keepAlive;
    const h = hookAsync(table, 'response', flow);
    if (h) return h.then(() => this.sendBuffered(flow, keepAlive, sc, head));
    return this.sendBuffered(flow, keepAlive, sc, head);
  }

  private async streamed(flow: HTTPFlow, sc: ServerConnection, reader: ResponseReader, setting: StreamSetting, reqHead: RequestHead, table: HookTable): Promise<boolean> {
    const head = reader.responseHead!;
    this.responseStarted = true;
    const keepAlive = await this.streamResponse(flow, reader, setting, reqHead);
    flow.response!.timestampEnd = Date.now() / 1000;
    { const h = hookAsync(table, 'response', flow); if (h) await h; }
    if (!head.keepAlive) sc.close();
    return keepAlive && head.keepAlive;
  }

  /** 101 Switching Protocols: HTTP ends here; the bytes flow on untouched (WebSocket later). */
  private async switchProtocols(flow: HTTPFlow, sc: ServerConnection, reader: ResponseReader, table: HookTable): Promise<boolean> {
    const response = flow.response!;
    response.timestampEnd = Date.now() / 1000;
    { const h = hookAsync(table, 'response', flow); if (h) await h; }
    this.stream.write(serializeResponseHead(toHead(response)));
    this.handedOver = true;
    this.conn.tunnelRaw(this.stream, this.parser.takeRemaining(), sc, reader.takeRemaining());
    return false;
  }

  private async streamResponse(flow: HTTPFlow, reader: ResponseReader, setting: StreamSetting, reqHead: RequestHead): Promise<boolean> {
    const response = flow.response!;
    const fn = typeof setting === 'function' ? this.guardStream(setting, flow, 'response') : null;
    let fields = response.headers.fields;
    const bodiless = flow.request.method === 'HEAD' || response.statusCode < 200 || response.statusCode === 204 || response.statusCode === 304;
    let chunked = !bodiless && isChunked(fields);
    let untilClose = false;
    if (!bodiless && fn && getHeader(fields, 'content-length') !== undefined) {
      if (reqHead.httpVersion === 'HTTP/1.1') {
        fields = toChunked(fields);
        chunked = true;
      } else {
        fields = fields.filter(([n]) => n.toString('latin1').toLowerCase() !== 'content-length');
        untilClose = true;
      }
    }
    if (!bodiless && !chunked && getHeader(fields, 'content-length') === undefined) untilClose = true;
    const keep = this.conn.config.storeStreamedBodies ? ([] as Buffer[]) : null;
    const out = this.stream;
    out.cork();
    out.write(serializeResponseHead({ httpVersion: response.httpVersion, statusCode: response.statusCode, reason: response.reason, headers: fields }));
    const send = (data: Buffer): void => {
      if (data.length === 0) return;
      // A copy: the data may sit in a read buffer that is reused for the next read.
      keep?.push(Buffer.from(data));
      if (!out.write(chunked ? encodeChunk(data) : data)) reader.pauseUntilDrain(out);
    };
    const write = (chunk: Buffer): void => {
      if (!fn) return send(chunk);
      for (const o of asChunks(fn(chunk))) send(o);
    };
    for (const b of reader.drainBuffered()) write(b);
    process.nextTick(() => out.uncork());
    await Promise.race([reader.streamBody(write, out), this.clientGone.promise.then(() => Promise.reject(new UpstreamError('Client disconnected.')))]);
    if (fn) for (const o of asChunks(fn(Buffer.alloc(0)))) send(o);
    if (chunked) out.write(encodeLastChunk(reader.trailers));
    response.rawContent = keep ? Buffer.concat(keep) : null;
    return reqHead.keepAlive && !untilClose;
  }

  /**
   * An addon's stream function runs inside socket events: if it throws, the error is logged
   * with the flow, the flow fails and this connection is cut; nothing else is affected.
   */
  private guardStream(fn: (chunk: Buffer) => Buffer | Iterable<Buffer>, flow: HTTPFlow, side: string): (chunk: Buffer) => Buffer | Iterable<Buffer> {
    return (chunk) => {
      try {
        return fn(chunk);
      } catch (err) {
        const msg = `${side} stream function failed: ${(err as Error)?.message ?? String(err)}`;
        this.conn.log.error(`${this.conn.describe()}: ${msg}${(err as Error)?.stack ? `\n${(err as Error).stack}` : ''}`);
        flow.error = new FlowError(msg);
        this.conn.destroy();
        return [];
      }
    };
  }

  /** Write a buffered response (from the server or an addon); framing fixed if the body changed. */
  private sendBuffered(flow: HTTPFlow, keepAlive: boolean, sc?: ServerConnection, raw?: ResponseHead): boolean {
    const response = flow.response!;
    const method = flow.request.method;
    const bodiless = method === 'HEAD' || response.statusCode < 200 || response.statusCode === 204 || response.statusCode === 304;
    const body = response.rawContent;
    let fields = response.headers.fields;
    if (!bodiless) fields = fixLength(fields, body, true);
    const pristine = raw !== undefined && fields === raw.headers && response.statusCode === raw.statusCode && response.reason === raw.reason;
    const head = serializeResponseHead({ httpVersion: response.httpVersion, statusCode: response.statusCode, reason: response.reason, headers: fields }, { validate: !pristine, checked: raw?.headers });
    let data: Buffer;
    if (bodiless || !body || body.length === 0) {
      data = !bodiless && isChunked(fields) ? Buffer.concat([head, encodeLastChunk(response.trailers?.fields ?? null)]) : head;
    } else if (isChunked(fields)) {
      data = Buffer.concat([head, encodeChunk(body), encodeLastChunk(response.trailers?.fields ?? null)]);
    } else {
      data = Buffer.concat([head, body], head.length + body.length);
    }
    this.stream.write(data);
    if (sc && !keepAlive) sc.close();
    if (!keepAlive) return false;
    // The server's own Connection: close is in `keepAlive` already; look again only at headers
    // an addon set or changed.
    if (raw !== undefined && fields === raw.headers) return true;
    return !/(^|,)\s*close\s*(,|$)/i.test(getHeader(fields, 'connection') ?? '');
  }

  /** The flow failed before a response could be sent: error hook, then an error page. */
  async failFlow(flow: HTTPFlow, table: HookTable, message: string, status: number): Promise<void> {
    flow.error = new FlowError(message);
    // The flow carries the error (the dumper prints it): the log line is for debugging.
    this.conn.log.debug(`${this.conn.describe()}: ${message}`);
    { const h = hookAsync(table, 'error', flow); if (h) await h; }
    if (!this.closed) this.writeError(status, message);
  }

  private writeError(status: number, message: string): void {
    if (this.closed) return;
    const r = errorResponse(status, message);
    this.stream.write(serializeResponseHead(toHead(r)));
    this.stream.write(r.rawContent!);
  }

  // --- connection management ---------------------------------------------------------------

  private finishExchange(keepAlive: boolean): void {
    this.active = false;
    if (this.handedOver) return;
    if (!keepAlive || this.closed || this.parseError) return this.close();
    this.parser.next();
    this.resumeParser();
  }

  private resumeParser(): void {
    if (this.stream.isPaused()) this.stream.resume();
    this.parser.resume();
  }

  private abort(err: unknown): void {
    this.active = false;
    if (err instanceof Killed) {
      this.conn.destroy();
      return;
    }
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
    this.stream.end();
    this.conn.closeSoon();
  }

  /** The stream goes to another layer (a CONNECT tunnel): the bytes read past the request. */
  takeRemaining(): Buffer {
    return this.parser.takeRemaining();
  }
}

/**
 * Run a flow hook. Returns a promise only if a handler was async (the caller awaits it);
 * a flow killed by the hook aborts the exchange.
 */
function hookAsync(table: HookTable, name: HookName, flow: HTTPFlow): Promise<void> | void {
  const r = table.triggerFlow(name as 'request', flow);
  if (r) return r.then(() => checkKilled(flow));
  checkKilled(flow);
}

function checkKilled(flow: HTTPFlow): void {
  if (flow.error !== null && flow.error.msg === FlowError.KILLED_MESSAGE) throw new Killed('killed');
}

function toHead(r: Response): { httpVersion: string; statusCode: number; reason: string; headers: RawHeaders } {
  return { httpVersion: r.httpVersion, statusCode: r.statusCode, reason: r.reason, headers: r.headers.fields };
}

function* asChunks(out: Buffer | Iterable<Buffer>): Iterable<Buffer> {
  if (Buffer.isBuffer(out)) yield out;
  else yield* out;
}

/** Content-Length matching a buffered body (unless chunked); adds one for close-delimited bodies. */
function fixLength(fields: RawHeaders, body: Buffer | null, isResponse: boolean): RawHeaders {
  if (isChunked(fields)) return fields;
  const len = body ? body.length : 0;
  const cl = getHeader(fields, 'content-length');
  if (cl === undefined) {
    if (len === 0 && !isResponse) return fields;
    return withContentLength(fields, len);
  }
  if (cl.trim() === String(len)) return fields;
  return withContentLength(fields, len);
}

function toChunked(fields: RawHeaders): RawHeaders {
  const out = fields.filter(([n]) => {
    const l = n.toString('latin1').toLowerCase();
    return l !== 'content-length' && l !== 'transfer-encoding';
  });
  out.push([Buffer.from('Transfer-Encoding'), Buffer.from('chunked')]);
  return out;
}

/** Receives one response from a server connection and hands it to the exchange. */
class ResponseReader implements ExchangeHandler {
  readonly head = new Deferred();
  responseHead: ResponseHead | null = null;
  trailers: RawHeaders | null = null;
  private chunks: Buffer[] = [];
  private length = 0;
  private ended = false;
  private end: Deferred | null = null;
  private limit: number | null = null;
  private overflow: Deferred<boolean> | null = null;
  private sink: ((chunk: Buffer) => void) | null = null;
  private out: Duplex | null = null;
  private failure: Error | null = null;

  constructor(
    private readonly sc: ServerConnection,
    private readonly informational: ((head: ResponseHead) => void) | null,
  ) {}

  onHead(head: ResponseHead): void {
    this.sc.parser.pause();
    this.responseHead = head;
    this.head.resolve();
  }
  onInformational(head: ResponseHead): void {
    this.informational?.(head);
  }
  onData(chunk: Buffer): void {
    if (this.sink) {
      this.sink(chunk);
      // A write the kernel did not take at once still points into the read buffer.
      if (this.out !== null && this.out.writableLength > 0) this.sc.lent = true;
      return;
    }
    this.sc.lent = true;
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (this.limit !== null && this.length > this.limit && this.overflow) {
      this.sc.parser.pause();
      this.overflow.resolve(true);
    }
  }
  onTrailers(trailers: RawHeaders): void {
    this.trailers = trailers;
  }
  onEnd(): void {
    this.ended = true;
    this.sc.streaming = false;
    this.overflow?.resolve(false);
    this.end?.resolve();
  }
  onError(error: Http1Error): void {
    this.fail(error);
  }
  onClose(error: Error | null): void {
    if (this.ended) return;
    this.fail(new UpstreamError(error ? `Server connection lost: ${error.message}` : this.responseHead ? 'Server closed the connection before the response was complete.' : 'Server closed the connection without a response.'));
  }

  private fail(err: Error): void {
    this.failure = err;
    this.sc.streaming = false;
    this.head.reject(err);
    this.overflow?.reject(err);
    this.end?.reject(err);
  }

  /** Buffer the body; resolves true instead if it grows beyond `limit` (then stream it). */
  readBody(limit: number | null): Promise<boolean> | boolean {
    this.limit = limit;
    if (!this.ended && !this.failure) {
      if (limit !== null && this.length > limit) return true;
      this.sc.parser.resume();
    }
    if (this.failure) throw this.failure;
    if (this.ended) return false;
    if (limit !== null && this.length > limit) {
      this.sc.parser.pause();
      return true;
    }
    this.overflow = new Deferred<boolean>();
    return this.overflow.promise;
  }

  takeBody(): Buffer {
    const b = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    this.chunks = [];
    this.length = 0;
    return b;
  }

  drainBuffered(): Buffer[] {
    const c = this.chunks;
    this.chunks = [];
    this.length = 0;
    return c;
  }

  /** Hand every further body chunk to `sink` (which writes to `out`); resolves at the end of the body. */
  streamBody(sink: (chunk: Buffer) => void, out: Duplex): Promise<void> {
    this.sink = sink;
    this.out = out;
    this.sc.streaming = true;
    if (this.ended) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    this.end = new Deferred();
    this.sc.parser.resume();
    return this.end.promise;
  }

  pauseUntilDrain(out: Duplex): void {
    if (this.sc.parser.isPaused) return;
    this.sc.parser.pause();
    this.sc.socket.pause();
    out.once('drain', () => {
      this.sc.socket.resume();
      this.sc.parser.resume();
    });
  }

  takeRemaining(): Buffer {
    return this.sc.parser.takeRemaining();
  }
}

/** `host` or `host:port` (default ports left out), IPv6 in brackets. */
function hostHeaderValue(req: Request): string {
  const host = req.host.includes(':') ? `[${req.host}]` : req.host;
  const dflt = req.scheme === 'https' ? 443 : 80;
  return req.port === dflt ? host : `${host}:${req.port}`;
}
