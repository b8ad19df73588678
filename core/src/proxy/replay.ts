import net from 'node:net';
import { FlowError, type Client, type HTTPFlow, type Request, type Server } from '../flow/index.js';
import type { ConnectionContext } from '../hooks/data.js';
import { token } from '../hooks/decorators.js';
import type { HookTable } from '../hooks/dispatcher.js';
import type { Logger } from '../kernel/log.js';
import type { RuntimeConfig } from './config.js';
import { DirectConnector, type ConnectorEnv } from './connector.js';
import { HttpExchange, type ExchangeContext } from './http/exchange.js';
import type { BodyWriter, ClientSide, HeaderPairs, ResponseHeadInfo, UpgradedStream } from './http/sides.js';

/**
 * Client replay (mitmproxy's `replay.client`): send a flow's request to its server again
 * through the proxy's own HTTP exchange. Get it by injection, `@inject(CLIENT_REPLAY)`, in an
 * addon added after the proxy runtime, or with `kernel.resolve(CLIENT_REPLAY)`.
 */
export interface ClientReplay {
  /**
   * Replay `flow.request` as a new live exchange on a server connection of its own: the old
   * response and error are cleared (call `flow.backup()` first to be able to `revert()`),
   * `flow.isReplay` becomes `'request'`, and `requestheaders`, `request`, `responseheaders`,
   * `response` (or `error`) fire for it as for any flow, so addons may change or kill it. HTTPS
   * goes over TLS with SNI (the Host header's name, else the request's host unless it is an IP
   * address), verified as `ssl_insecure` and the trusted-CA options say. Resolves once the
   * response or the error is on the flow; a server failure is `flow.error`, not a rejection.
   */
  replay(flow: HTTPFlow): Promise<void>;
}

/** Injection token of the proxy runtime's {@link ClientReplay}. */
export const CLIENT_REPLAY = token<ClientReplay>('mitmts.clientReplay');

/** What a replay needs from the proxy runtime. */
export interface ReplayRuntime {
  readonly config: RuntimeConfig | undefined;
  readonly hooks: HookTable;
  readonly log: Logger;
}

const EMPTY = Buffer.alloc(0);
const DISCARD: BodyWriter = { write: () => true, retained: false, onDrain: () => undefined, end: () => undefined };

/** The proxy runtime's client replay. */
export class ClientReplayer implements ClientReplay {
  constructor(private readonly runtime: ReplayRuntime) {}

  replay(flow: HTTPFlow): Promise<void> {
    const config = this.runtime.config;
    if (config === undefined)
      return Promise.reject(
        new Error('Client replay needs a configured proxy runtime: replay after the kernel started.'),
      );
    flow.isReplay = 'request';
    flow.response = null;
    flow.error = null;
    flow.live = true;
    const env = new ReplayEnv(flow, config, this.runtime);
    const connector = new DirectConnector(env, replaySni);
    env.connector = connector;
    const exchange = new HttpExchange(flow, new ReplayClient(flow), connector, env);
    return new Promise((resolve) => {
      const finish = (): void => {
        connector.close();
        flow.live = false;
        resolve();
      };
      exchange.start(finish, (err) => {
        const msg = `Cannot replay ${flow.request.method} ${flow.request.url}: ${(err as Error)?.message ?? String(err)}`;
        env.log.info(msg);
        if (flow.error === null) flow.error = new FlowError(msg);
        finish();
      });
    });
  }
}

/** The SNI of a replayed HTTPS request: the name it was made for. */
function replaySni(req: Request): string | null {
  const name = req.prettyHost;
  if (name && !net.isIP(name)) return name;
  return net.isIP(req.host) ? null : req.host;
}

/** Where a replay runs: the flow's client, the runtime's hooks, config and log. */
class ReplayEnv implements ExchangeContext, ConnectorEnv, ConnectionContext {
  connector: DirectConnector | null = null;
  readonly client: Client;
  readonly hooks: HookTable;
  readonly log: Logger;

  constructor(
    private readonly flow: HTTPFlow,
    readonly config: RuntimeConfig,
    runtime: ReplayRuntime,
  ) {
    this.client = flow.clientConn;
    this.hooks = runtime.hooks;
    this.log = runtime.log;
  }

  get server(): Server {
    return this.connector?.server ?? this.flow.serverConn;
  }
  get mode(): string {
    return this.client.proxyMode;
  }
  get context(): ConnectionContext {
    return this;
  }
  describe(): string {
    return 'client replay';
  }
  track(): void {
    // The flow exists already.
  }
}

/** The client half of a replayed request: no socket; the response stays on the flow. */
class ReplayClient implements ClientSide {
  readonly contentLength: number;
  readonly hasBody: boolean;
  readonly expectContinue = false;
  readonly received = null;
  readonly trailers: HeaderPairs | null = null;
  /** Never resolves: there is no client to leave. One per replay, so that its waiters go with it. */
  readonly closed = new Promise<void>(() => undefined);

  constructor(private readonly flow: HTTPFlow) {
    this.contentLength = flow.request.rawContent?.length ?? 0;
    this.hasBody = this.contentLength > 0;
  }

  /** A replayed body is in memory already: never streamed for its size. */
  readBody(): Buffer {
    return this.flow.request.rawContent ?? EMPTY;
  }

  streamBody(into: BodyWriter): void {
    const body = this.flow.request.rawContent;
    if (body && body.length > 0) into.write(body);
    into.end(this.flow.request.trailers?.fields ?? null);
  }

  sendInterim(_head: ResponseHeadInfo): void {}
  sendResponse(): void {}
  startResponse(): BodyWriter {
    // Streamed: kept on the flow only with store_streamed_bodies, as for live flows.
    return DISCARD;
  }
  fail(): void {}
  abort(): void {}
  upgrade(_flow: HTTPFlow, server: UpgradedStream): void {
    // Nobody to hand the new protocol to.
    server.stream.destroy();
  }
}
