/**
 * Socket-free sides for driving an HttpExchange: each records what the exchange asked of it in
 * one shared event log, and answers as configured (synchronously, or after a tick).
 */
import { Client, HTTPFlow, Request, Server, type Response } from '../../src/flow/index.js';
import type { HookName } from '../../src/hooks/hookmap.js';
import { HookTable } from '../../src/hooks/dispatcher.js';
import { Logger, type LogEntry } from '../../src/kernel/log.js';
import type { RuntimeConfig } from '../../src/proxy/config.js';
import { UpstreamError } from '../../src/proxy/errors.js';
import type { ExchangeContext } from '../../src/proxy/http/exchange.js';
import type {
  BodyWriter,
  ClientSide,
  Connector,
  HeaderPairs,
  ReceivedRequest,
  ResponseHeadInfo,
  ServerSide,
  UpgradedStream,
} from '../../src/proxy/http/sides.js';
import { Duplex } from 'node:stream';

export type Log = string[];
type FlowHook = (flow: HTTPFlow) => void | Promise<void>;

export const pairs = (...kv: Array<[string, string]>): HeaderPairs =>
  kv.map(([k, v]) => [Buffer.from(k), Buffer.from(v)]);
const later = <T>(v: T): Promise<T> => new Promise((r) => setImmediate(() => r(v)));

/** A hook table with one handler per hook (each also logged as `hook <name>`). */
export function hookTable(
  log: Log,
  hooks: Partial<Record<HookName, FlowHook>> = {},
  names: HookName[] = ['requestheaders', 'request', 'responseheaders', 'response', 'error'],
): HookTable {
  const map = new Map<HookName, Array<{ addon: string; fn: (...a: unknown[]) => unknown; self: object; id: number }>>();
  for (const name of names) {
    const fn = (flow: unknown): unknown => {
      log.push(`hook ${name}`);
      return hooks[name]?.(flow as HTTPFlow);
    };
    map.set(name, [{ addon: 'test', fn, self: {}, id: 0 }]);
  }
  return new HookTable(
    map,
    (addon, hook, err) => log.push(`hook ${hook} threw: ${(err as Error).message}`),
    () => undefined,
  );
}

export function context(table: HookTable, cfg: Partial<RuntimeConfig> = {}, logs: LogEntry[] = []): ExchangeContext {
  const log = new Logger();
  log.onEntry((e) => logs.push(e));
  return {
    client: new Client({ peername: ['127.0.0.1', 1234], sockname: ['127.0.0.1', 8080], timestampStart: 0 }),
    config: {
      streamLargeBodies: null,
      bodySizeLimit: null,
      bufferCeiling: null,
      storeStreamedBodies: false,
      ...cfg,
    } as RuntimeConfig,
    hooks: table,
    log,
    describe: () => 'client',
    track: () => undefined,
  };
}

export function request(init: { method?: string; headers?: HeaderPairs } = {}): Request {
  return new Request({
    host: 'example.com',
    port: 80,
    method: init.method ?? 'GET',
    scheme: 'http',
    authority: '',
    path: '/p',
    httpVersion: 'HTTP/1.1',
    headers: init.headers ?? pairs(['Host', 'example.com']),
    content: null,
    timestampStart: 0,
  });
}

export interface ClientOptions {
  body?: Buffer[];
  contentLength?: number;
  trailers?: HeaderPairs | null;
  expectContinue?: boolean;
  /** readBody/streamBody finish after a tick. */
  async?: boolean;
  /** readBody/streamBody fail with this. */
  bodyError?: Error;
}

/** A client half that records what it was asked to send. */
export class FakeClient implements ClientSide {
  readonly contentLength: number;
  readonly hasBody: boolean;
  readonly expectContinue: boolean;
  readonly received: ReceivedRequest | null = null;
  trailers: HeaderPairs | null = null;
  /** Body chunks of a streamed response, and its trailers. */
  readonly streamed: Buffer[] = [];
  streamedTrailers: HeaderPairs | null = null;
  started = false;
  private goneResolve!: () => void;
  readonly closed = new Promise<void>((r) => (this.goneResolve = r));

  constructor(
    private readonly log: Log,
    private readonly o: ClientOptions = {},
  ) {
    const len = (o.body ?? []).reduce((n, b) => n + b.length, 0);
    this.contentLength = o.contentLength ?? len;
    this.hasBody = len > 0 || this.contentLength !== 0;
    this.expectContinue = o.expectContinue ?? false;
  }

  readBody(limit: number | null): Buffer | null | Promise<Buffer | null> {
    this.log.push(limit === null ? 'client.readBody' : `client.readBody limit=${limit}`);
    if (this.o.bodyError) return Promise.reject(this.o.bodyError);
    const b = Buffer.concat(this.o.body ?? []);
    if (limit !== null && b.length > limit) return null;
    this.trailers = this.o.trailers ?? null;
    return this.o.async ? later(b) : b;
  }

  streamBody(into: BodyWriter): void | Promise<void> {
    this.log.push('client.streamBody');
    const pump = (): void => {
      for (const c of this.o.body ?? []) into.write(c);
      this.trailers = this.o.trailers ?? null;
      into.end(this.trailers);
    };
    if (this.o.bodyError) return Promise.reject(this.o.bodyError);
    if (!this.o.async) return pump();
    return later(undefined).then(pump);
  }

  sendInterim(head: ResponseHeadInfo): void {
    this.log.push(`client.interim ${head.statusCode}`);
  }

  sendResponse(response: Response, from: ResponseHeadInfo | null): void {
    this.log.push(
      `client.sendResponse ${response.statusCode} ${from ? 'from server' : 'from addon'} ${JSON.stringify(response.rawContent?.toString('latin1'))}`,
    );
  }

  startResponse(response: Response, _from: ResponseHeadInfo, lengthMayChange: boolean): BodyWriter {
    this.log.push(`client.startResponse ${response.statusCode}${lengthMayChange ? ' (length may change)' : ''}`);
    this.started = true;
    const log = this.log;
    const streamed = this.streamed;
    return {
      write: (c) => (streamed.push(Buffer.from(c)), true),
      retained: false,
      onDrain: () => undefined,
      end: (t) => {
        this.streamedTrailers = t;
        log.push('client.endResponse');
      },
    };
  }

  fail(status: number, message: string): void {
    this.log.push(`client.fail ${status}${this.started ? ' (cut)' : ''}: ${message}`);
  }

  abort(): void {
    this.log.push('client.abort');
  }

  upgrade(flow: HTTPFlow, server: UpgradedStream): void {
    this.log.push(`client.upgrade ${flow.response!.statusCode} rest=${server.rest.toString('latin1')}`);
  }

  /** The client disconnects. */
  disconnect(): void {
    this.goneResolve();
  }
}

export interface ServerOptions {
  status?: number;
  headers?: HeaderPairs;
  contentLength?: number;
  body?: Buffer[];
  trailers?: HeaderPairs | null;
  interim?: number[];
  /** The head and body come after a tick. */
  async?: boolean;
  /** Fail before the head, or while the body is read or streamed. */
  failAt?: 'head' | 'body';
  /** A streamed body stops (never ends) after its chunks: only the client's leaving ends it. */
  hang?: boolean;
}

/** A server half that records the request it got and answers as configured. */
export class FakeServer implements ServerSide {
  readonly server = new Server({ address: ['example.com', 80] });
  trailers: HeaderPairs | null = null;
  sentBody: Buffer | null = null;
  readonly streamedRequest: Buffer[] = [];
  requestTrailers: HeaderPairs | null = null;
  bodySizeLimit: number | null = null;

  constructor(
    private readonly log: Log,
    private readonly o: ServerOptions = {},
  ) {}

  private get head(): ResponseHeadInfo {
    const len = (this.o.body ?? []).reduce((n, b) => n + b.length, 0);
    return {
      httpVersion: 'HTTP/1.1',
      statusCode: this.o.status ?? 200,
      reason: 'OK',
      headers: this.o.headers ?? pairs(['Content-Length', String(len)]),
      contentLength: this.o.contentLength ?? len,
      keepAlive: true,
    };
  }

  send(req: Request, body: Buffer): void {
    this.log.push(`server.send ${req.method} ${JSON.stringify(body.toString('latin1'))}`);
    this.sentBody = body;
  }

  startRequest(req: Request, _from: ReceivedRequest | null, lengthMayChange: boolean): BodyWriter {
    this.log.push(`server.startRequest ${req.method}${lengthMayChange ? ' (length may change)' : ''}`);
    return {
      write: (c) => (this.streamedRequest.push(Buffer.from(c)), true),
      retained: false,
      onDrain: () => undefined,
      end: (t) => {
        this.requestTrailers = t;
        this.log.push('server.endRequest');
      },
    };
  }

  response(
    onInterim: ((head: ResponseHeadInfo) => void) | null,
    bodySizeLimit: number | null,
  ): ResponseHeadInfo | Promise<ResponseHeadInfo> {
    this.bodySizeLimit = bodySizeLimit;
    const deliver = (): ResponseHeadInfo => {
      for (const s of this.o.interim ?? [])
        onInterim?.({
          httpVersion: 'HTTP/1.1',
          statusCode: s,
          reason: '',
          headers: [],
          contentLength: -1,
          keepAlive: true,
        });
      if (this.o.failAt === 'head') throw new UpstreamError('Server closed the connection without a response.');
      return this.head;
    };
    return this.o.async ? later(undefined).then(deliver) : deliver();
  }

  readBody(limit: number | null): Buffer | null | Promise<Buffer | null> {
    this.log.push(`server.readBody limit=${limit}`);
    const b = Buffer.concat(this.o.body ?? []);
    if (this.o.failAt === 'body')
      return Promise.reject(new UpstreamError('Server closed the connection before the response was complete.'));
    if (limit !== null && b.length > limit) return null;
    this.trailers = this.o.trailers ?? null;
    return this.o.async ? later(b) : b;
  }

  streamBody(into: BodyWriter): void | Promise<void> {
    this.log.push('server.streamBody');
    const pump = (): void | Promise<void> => {
      for (const c of this.o.body ?? []) into.write(c);
      if (this.o.failAt === 'body') throw new UpstreamError('Server connection lost: read ECONNRESET');
      if (this.o.hang) return new Promise<void>(() => undefined);
      this.trailers = this.o.trailers ?? null;
      into.end(this.trailers);
    };
    return this.o.async ? later(undefined).then(pump) : pump();
  }

  takeOver(): UpgradedStream {
    this.log.push('server.takeOver');
    return {
      stream: new Duplex({
        read() {},
        write(_c, _e, cb) {
          cb();
        },
      }),
      rest: Buffer.from('ws-bytes'),
    };
  }

  release(): void {
    this.log.push('server.release');
  }

  abort(): void {
    this.log.push('server.abort');
  }
}

/** A connector that hands out one server side (after a tick with `async`) or refuses. */
export class FakeConnector implements Connector {
  constructor(
    private readonly log: Log,
    private readonly server: FakeServer,
    private readonly o: { async?: boolean; refuse?: string } = {},
  ) {}

  serverConnFor(host: string, port: number): Server {
    return new Server({ address: [host, port] });
  }

  serverFor(flow: HTTPFlow): ServerSide | Promise<ServerSide> {
    this.log.push('connector.serverFor');
    const get = (): ServerSide => {
      if (this.o.refuse) throw new UpstreamError(this.o.refuse);
      flow.serverConn = this.server.server;
      return this.server;
    };
    return this.o.async ? later(undefined).then(get) : get();
  }
}

export function flowFor(ctx: ExchangeContext, req: Request = request()): HTTPFlow {
  const f = new HTTPFlow(ctx.client, new Server({ address: [req.host, req.port] }), true);
  f.request = req;
  return f;
}
