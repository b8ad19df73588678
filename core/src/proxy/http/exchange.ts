import {
  FlowError,
  Headers,
  HTTPFlow,
  Response,
  WebSocketData,
  type Client,
  type Flow,
  type Request,
  type StreamSetting,
} from '../../flow/index.js';
import type { HookTable } from '../../hooks/dispatcher.js';
import type { Logger } from '../../kernel/log.js';
import type { RuntimeConfig } from '../config.js';
import { CLIENT_DISCONNECTED, clientDisconnected, UpstreamError } from '../errors.js';
import { isWebSocketHandshake, isWebSocketTunnel } from '../websocket/handshake.js';
import { BodyRelay, type StreamFunction } from './body.js';
import { streamedForSize, streamThreshold } from './ceiling.js';
import { LiveBody, liveKeepLimit, markOmitted } from './live.js';
import type { ClientSide, Connector, ResponseHeadInfo, ServerSide } from './sides.js';
import { andThen, settle, type Step } from './step.js';

/** What an exchange needs from the connection it runs on (a client connection, a replay). */
export interface ExchangeContext {
  /** The client the flows belong to (`flow.clientConn`). */
  readonly client: Client;
  readonly config: RuntimeConfig;
  /** The current hook table (an exchange takes it once and keeps it). */
  readonly hooks: HookTable;
  readonly log: Logger;
  /** `host:port` of the client, for log lines. */
  describe(): string;
  /** A new flow exists (the flow store takes it). */
  track(flow: Flow): void;
}

/** The hooks of an HTTP flow's lifecycle. */
type FlowHook = 'requestheaders' | 'request' | 'responseheaders' | 'response' | 'error';

/** The proxy's own `100 Continue` (for buffered requests that expect one). */
const CONTINUE: ResponseHeadInfo = {
  httpVersion: 'HTTP/1.1',
  statusCode: 100,
  reason: 'Continue',
  headers: [],
  contentLength: -1,
  keepAlive: true,
};
const NONE: Buffer[] = [];
/** The body of a request without one. */
const NO_BODY = Buffer.alloc(0);

/**
 * Thrown out of a hook step when the hook killed the flow (or the client left meanwhile); ends
 * the exchange without an answer. As mitmproxy, a kill before the response hook fires `error`.
 */
class Killed extends Error {
  constructor(readonly emitErrorHook: boolean) {
    super('killed');
  }
}

/**
 * One HTTP exchange, protocol-neutral: everything hooks can observe. The order
 * `requestheaders` → `request` → `responseheaders` → `response` (or `error`); a kill at any hook
 * drops the exchange; an addon's response (set in `requestheaders`/`request`) also goes through
 * `responseheaders` and `response`, and the server is never contacted; `stream_large_bodies` and
 * stream functions decide buffered or streamed bodies; a server that fails gives the flow an
 * error and the client a 502 (or a cut exchange once the response started). It never sees a wire
 * head or a socket: the {@link ClientSide}, {@link ServerSide} and {@link Connector} do.
 */
export class HttpExchange {
  private readonly table: HookTable;
  private readonly cfg: RuntimeConfig;
  private server: ServerSide | null = null;
  /** From the connect on, an UpstreamError is the server's: error hook and 502. */
  private upstreamPhase = false;
  /** A stream function threw (the flow's error); the exchange ends once its pumps stop. */
  private streamFailure: string | null = null;
  /** The client waits for the server's `100 Continue` before it sends its (streamed) body. */
  private continueWanted = false;
  /** The client left while a hook waited (watched from the first hook that waits). */
  private clientLeft = false;
  private watchingClient = false;

  constructor(
    readonly flow: HTTPFlow,
    private readonly client: ClientSide,
    private readonly connector: Connector,
    private readonly ctx: ExchangeContext,
  ) {
    this.table = ctx.hooks;
    this.cfg = ctx.config;
  }

  /** A new live flow for `request`, tracked, with the server it would go to as its `serverConn`. */
  static forRequest(ctx: ExchangeContext, connector: Connector, client: ClientSide, request: Request): HttpExchange {
    const flow = new HTTPFlow(ctx.client, connector.serverConnFor(request.host, request.port), true);
    flow.request = request;
    ctx.track(flow);
    return new HttpExchange(flow, client, connector, ctx);
  }

  /**
   * Run the flow's lifecycle, then call `done`, or `failed` with an error of the client side (a
   * malformed body, a client gone) or a bug. Kills and server failures end in `done`: they are
   * handled here. Synchronous when nothing had to be waited for (a hook, a connect, the server).
   */
  start(done: () => void, failed: (err: unknown) => void): void {
    let r: Step;
    try {
      r = this.begin();
    } catch (err) {
      return this.settleFailure(err, done, failed);
    }
    if (r instanceof Promise)
      r.then(
        () => this.ended(done),
        (err: unknown) => this.settleFailure(err, done, failed),
      );
    else this.ended(done);
  }

  /**
   * The exchange is over, and so is the flow's life (mitmproxy's `flow_done`): `live` turns
   * false, unless a WebSocket layer carries the flow on.
   */
  private ended(then: () => void): void {
    if (this.flow.websocket === null) this.flow.live = false;
    then();
  }

  private settleFailure(err: unknown, done: () => void, failed: (err: unknown) => void): void {
    settle(
      () => this.failed(err),
      () => this.ended(done),
      (e: unknown) => this.ended(() => failed(e)),
    );
  }

  private begin(): Step {
    return andThen(this.hook('requestheaders', true), () => this.readRequest());
  }

  // --- the request -------------------------------------------------------------------------

  private readRequest(): Step {
    const client = this.client;
    const request = this.flow.request;
    const threshold = streamThreshold(this.ctx);
    const setting = streamSetting(request.stream, client.contentLength, threshold);
    if (setting) {
      if (!request.stream) streamedForSize(this.ctx, this.flow, request, client.contentLength);
      return this.streamRequest(setting, client.expectContinue);
    }
    const answered = client.expectContinue && client.hasBody;
    if (answered) {
      client.sendInterim(CONTINUE);
      request.headers.delete('expect');
    }
    // A body of unknown length (chunked, HTTP/2 without content-length) that outgrows the
    // threshold is streamed from there on, what was read first included.
    return andThen(client.readBody(threshold), (body) => {
      if (body === null) {
        streamedForSize(this.ctx, this.flow, request, -1);
        return this.streamRequest(true, client.expectContinue && !answered);
      }
      request.rawContent = body;
      const t = client.trailers;
      if (t) request.trailers = Headers.fromRaw(t);
      request.timestampEnd = now();
      return andThen(this.hook('request', true), () => this.requestDone());
    });
  }

  private requestDone(): Step {
    const response = this.flow.response;
    if (response === null) return this.forward();
    // Answered by an addon: the server is never contacted. As mitmproxy, `responseheaders` fires
    // for that response too, then `response`.
    response.timestampStart = now();
    return andThen(this.hook('responseheaders', true), () => {
      const r = this.flow.response;
      if (r === null) return this.forward();
      return andThen(this.hook('response', false), () => this.client.sendResponse(this.flow.response!, null));
    });
  }

  /** A buffered request goes to the server in one piece; then the response. */
  private forward(): Step {
    this.upstreamPhase = true;
    return andThen(this.connector.serverFor(this.flow), (server) => {
      this.server = server;
      const request = this.flow.request;
      server.send(request, request.rawContent ?? NO_BODY, this.client.received);
      return andThen(
        server.response((h) => this.interim(h), this.cfg.bodySizeLimit),
        (head) => this.responseHeaders(head),
      );
    });
  }

  /**
   * A streamed request: the body goes upstream as it arrives; `request` fires once it is through.
   * `continueWanted`: the client waits for the server's `100 Continue` (the proxy did not answer it).
   */
  private streamRequest(setting: StreamSetting, continueWanted: boolean): Step {
    this.upstreamPhase = true;
    return andThen(this.connector.serverFor(this.flow), (server) => {
      this.server = server;
      const request = this.flow.request;
      const fn = typeof setting === 'function' ? this.guard(setting, 'request') : null;
      const relay = new BodyRelay(
        server.startRequest(request, this.client.received, fn !== null),
        fn,
        this.cfg.storeStreamedBodies,
      );
      this.continueWanted = continueWanted;
      const head = server.response((h) => this.interim(h), this.cfg.bodySizeLimit);
      return andThen(this.client.streamBody(relay), () => {
        this.checkStreamFailure();
        const kept = relay.kept();
        if (kept !== null) request.rawContent = kept;
        const t = this.client.trailers;
        if (t) request.trailers = Headers.fromRaw(t);
        request.timestampEnd = now();
        return andThen(this.hook('request', true), () => andThen(head, (h) => this.responseHeaders(h)));
      });
    });
  }

  /**
   * The server's interim responses go to the client as they come (103 Early Hints among them);
   * a `100 Continue` only to a client that waits for it before it streams its body (a buffered
   * request was answered by the proxy's own). A method, not an arrow-function field: the
   * bundle keeps function names, which costs an `Object.defineProperty` per exchange for a field.
   */
  private interim(head: ResponseHeadInfo): void {
    if (head.statusCode !== 100 || this.continueWanted) this.client.sendInterim(head);
  }

  // --- the response ------------------------------------------------------------------------

  private responseHeaders(head: ResponseHeadInfo): Step {
    this.flow.response = new Response({
      httpVersion: head.httpVersion,
      statusCode: head.statusCode,
      reason: head.reason,
      headers: Headers.fromRaw(head.headers),
      content: null,
      timestampStart: now(),
    });
    return andThen(this.hook('responseheaders', true), () => this.responseBody(head));
  }

  private responseBody(head: ResponseHeadInfo): Step {
    if (head.statusCode === 101 || (head.statusCode < 300 && this.webSocketTunnel())) return this.switchProtocols();
    const threshold = streamThreshold(this.ctx);
    const response = this.flow.response!;
    const setting = streamSetting(response.stream, head.contentLength, threshold);
    if (setting) {
      if (!response.stream) streamedForSize(this.ctx, this.flow, response, head.contentLength);
      return this.streamResponse(head, setting, null);
    }
    // A live body (an event stream): forwarded as it arrives, recorded, its hooks fired.
    if (this.cfg.liveBodies?.(this.flow)) return this.streamResponse(head, false, new LiveBody(this.flow, this.table));
    // An unknown-length body that outgrows the threshold is streamed from there on.
    return andThen(this.server!.readBody(threshold), (body) => {
      if (body !== null) return this.bufferedResponse(head, body);
      streamedForSize(this.ctx, this.flow, response, -1);
      return this.streamResponse(head, true, null);
    });
  }

  private bufferedResponse(head: ResponseHeadInfo, body: Buffer): Step {
    const server = this.server!;
    const response = this.flow.response!;
    response.rawContent = body;
    const t = server.trailers;
    if (t) response.trailers = Headers.fromRaw(t);
    response.timestampEnd = now();
    return andThen(this.hook('response', false), () => {
      this.client.sendResponse(this.flow.response!, head);
      server.release();
    });
  }

  /** Stream the response body (a live one is kept whole and tapped by its hooks). */
  private streamResponse(head: ResponseHeadInfo, setting: StreamSetting, live: LiveBody | null): Promise<void> {
    const server = this.server!;
    const response = this.flow.response!;
    const fn = typeof setting === 'function' ? this.guard(setting, 'response') : null;
    const keep = live !== null || this.cfg.storeStreamedBodies;
    const cap = live !== null ? this.cfg.liveBodiesKeep : null;
    const limit = cap !== null ? liveKeepLimit(this.flow, cap, this.ctx.log, this.ctx.describe()) : null;
    const relay = new BodyRelay(
      this.client.startResponse(response, head, fn !== null),
      fn,
      keep,
      live?.tap ?? null,
      limit,
    );
    const gone = this.client.closed.then(() => Promise.reject(clientDisconnected()));
    return Promise.race([server.streamBody(relay), gone]).then(() => {
      this.checkStreamFailure();
      response.rawContent = relay.kept();
      if (relay.omitted > 0) markOmitted(this.flow, cap!, relay.omitted);
      const t = server.trailers;
      if (t) response.trailers = Headers.fromRaw(t);
      response.timestampEnd = now();
      return andThen(
        andThen(live?.finish(), () => this.hook('response', false)),
        () => server.release(),
      );
    });
  }

  /** The request is a WebSocket extended CONNECT (RFC 8441; HTTP/2 clients send one only when the proxy announced it, with `websocket` on). */
  private webSocketTunnel(): boolean {
    const r = this.flow.request;
    return isWebSocketTunnel(r.method, r.headers);
  }

  /**
   * 101 Switching Protocols, or a 2xx to a WebSocket extended CONNECT: HTTP ends here; both streams go on to the next layer. As mitmproxy,
   * a WebSocket handshake (with `websocket` on) gets `flow.websocket` before the `response` hook,
   * so that addons can tell a WebSocket connection follows.
   */
  private switchProtocols(): Step {
    const flow = this.flow;
    flow.response!.timestampEnd = now();
    if (
      this.webSocketTunnel() ||
      (this.cfg.websocket && isWebSocketHandshake(flow.request.headers, 101, flow.response!.headers))
    )
      flow.websocket = new WebSocketData();
    return andThen(this.hook('response', false), () => this.client.upgrade(this.flow, this.server!.takeOver()));
  }

  // --- hooks and failures ------------------------------------------------------------------

  /**
   * Run a flow hook; a flow the hook killed ends the exchange (with the `error` hook if
   * `emitErrorHook`: mitmproxy's `check_killed`). A client that leaves while the hook waits (a
   * held flow) ends it too, with the flow's error "Client disconnected." even if the flow was
   * killed because of that (the intercept addon kills the held flows of a client that left).
   */
  private hook(name: FlowHook, emitErrorHook: boolean): Step {
    const flow = this.flow;
    const r = this.table.triggerFlow(name as 'request', flow);
    if (r) {
      this.watchClient();
      return r.then(() => this.afterHook(emitErrorHook));
    }
    checkKilled(flow, emitErrorHook);
  }

  private watchClient(): void {
    if (this.watchingClient) return;
    this.watchingClient = true;
    void this.client.closed.then(() => {
      this.clientLeft = true;
    });
  }

  private afterHook(emitErrorHook: boolean): void {
    const flow = this.flow;
    if (this.clientLeft) {
      if (flow.error === null || flow.error.msg === FlowError.KILLED_MESSAGE)
        flow.error = new FlowError(CLIENT_DISCONNECTED);
      flow.live = false;
      throw new Killed(emitErrorHook);
    }
    checkKilled(flow, emitErrorHook);
  }

  /** Run a step; what it throws or rejects with goes to {@link failed}. */
  private attempt(step: () => Step): Step {
    let r: Step;
    try {
      r = step();
    } catch (err) {
      return this.failed(err);
    }
    return r instanceof Promise ? r.then(undefined, (err: unknown) => this.failed(err)) : r;
  }

  private failed(err: unknown): Step {
    if (err instanceof Killed)
      return err.emitErrorHook ? andThen(this.table.triggerFlow('error', this.flow), () => this.abort()) : this.abort();
    if (this.upstreamPhase && err instanceof UpstreamError) {
      this.upstreamPhase = false;
      const message = this.streamFailure ?? err.message;
      return this.attempt(() => this.upstreamFailed(message));
    }
    this.server?.abort();
    throw err;
  }

  /**
   * The server side failed (no connection, reset, a bad response): the flow gets the error and
   * the `error` hook fires; the client gets a 502 page, or its exchange is cut if the response
   * had started.
   */
  private upstreamFailed(message: string): Step {
    this.server?.abort();
    const flow = this.flow;
    return andThen(failFlow(this.ctx, this.table, flow, message), () => {
      checkKilled(flow, false);
      this.client.fail(502, message);
    });
  }

  /** Killed, or a stream function threw: drop both halves without an answer. */
  private abort(): void {
    this.server?.abort();
    this.client.abort();
  }

  /**
   * An addon's stream function runs inside socket events: if it throws, the error is logged with
   * the flow, the flow fails and this exchange is cut (its connection, for HTTP/1); nothing else
   * is affected.
   */
  private guard(fn: StreamFunction, side: 'request' | 'response'): StreamFunction {
    return (chunk) => {
      if (this.streamFailure !== null) return NONE;
      try {
        return fn(chunk);
      } catch (err) {
        const msg = `${side} stream function failed: ${(err as Error)?.message ?? String(err)}`;
        this.ctx.log.error(`${this.ctx.describe()}: ${msg}${(err as Error)?.stack ? `\n${(err as Error).stack}` : ''}`);
        this.flow.error = new FlowError(msg);
        this.streamFailure = msg;
        this.abort();
        return NONE;
      }
    };
  }

  private checkStreamFailure(): void {
    if (this.streamFailure !== null) throw new UpstreamError(this.streamFailure);
  }
}

/**
 * A flow failed before a response could be sent: its error, a debug line (the flow carries the
 * error; the dumper prints it), the `error` hook. The caller then answers the client.
 */
export function failFlow(ctx: ExchangeContext, table: HookTable, flow: HTTPFlow, message: string): Step {
  flow.error = new FlowError(message);
  ctx.log.debug(`${ctx.describe()}: ${message}`);
  return table.triggerFlow('error', flow);
}

/**
 * Stream this body? The message's own setting (`flow.request.stream`, `flow.response.stream`),
 * else `stream_large_bodies` by the declared length. (A body of unknown length is measured as it
 * is buffered: see `ClientSide.readBody` and `ServerSide.readBody`.)
 */
function streamSetting(own: StreamSetting, contentLength: number, threshold: number | null): StreamSetting {
  if (own) return own;
  return threshold !== null && contentLength > threshold;
}

function checkKilled(flow: HTTPFlow, emitErrorHook: boolean): void {
  if (flow.error !== null && flow.error.msg === FlowError.KILLED_MESSAGE) throw new Killed(emitErrorHook);
}

function now(): number {
  return Date.now() / 1000;
}
