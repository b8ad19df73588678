import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { CertStore } from '../certs/store.js';
import { Client, type Flow, type HTTPFlow, type Server } from '../flow/index.js';
import type { ConnectionContext, NextLayer } from '../hooks/data.js';
import type { HookTable } from '../hooks/dispatcher.js';
import type { Logger } from '../kernel/log.js';
import type { RuntimeConfig } from './config.js';
import { handleConnect, type TunnelRequest } from './connect.js';
import { DirectConnector } from './connector.js';
import type { ExchangeContext } from './http/exchange.js';
import type { Target, UpgradedStream } from './http/sides.js';
import { Http1ServerSession } from './http1/server-session.js';
import type { RequestHead } from './http1/index.js';
import { idleSweeper } from './idle.js';
import { Http2ServerSession } from './http2/server-session.js';
import { innerLayerByAlpn, innerLayerByBytes, startsWithPreface, tunnelLayer } from './layers.js';
import type { ProxyMode } from './modes.js';
import { firstBytes, pipeBoth } from './relay.js';
import { relayTcp } from './tcp.js';
import { interceptTls } from './tls/intercept.js';
import type { UpstreamTls } from './transport.js';
import { type LiveWebSockets, relayWebSocket } from './websocket/layer.js';

/** What connections need from the proxy server. */
export interface ProxyRuntime {
  readonly config: RuntimeConfig;
  /** The current hook table (each exchange takes it once and keeps it). */
  readonly hooks: HookTable;
  readonly log: Logger;
  readonly certs: CertStore;
  /** The CA certificate file users install, for the "does not trust" hint. */
  readonly caCertPath: string;
  track(flow: Flow): void;
  /** Live WebSocket relays, by flow. */
  readonly webSockets: LiveWebSockets;
  opened(conn: ClientConnection): void;
  closed(conn: ClientConnection): void;
}

/** Where an intercepted TLS stream goes when the mode fixes it (see {@link ClientConnection.intercept}). */
export interface TlsRoute {
  /** TLS towards the server, or null for a plain server. */
  readonly server: UpstreamTls | null;
  /** The HTTP target inside; null: no HTTP, relay the decrypted bytes as TCP. */
  readonly http: Target | null;
}

/** Starts a connection's first layer for its proxy mode (see `modes/`). */
export type ModeHandler = (conn: ClientConnection) => Promise<void>;

const EMPTY = Buffer.alloc(0);

/**
 * One client connection: `client_connected`, its mode's first layer, then the layers its bytes
 * call for (HTTP proxy requests, CONNECT tunnels, TLS interception, raw TCP, passthrough), then
 * `client_disconnected`. Its {@link DirectConnector} holds the server connection.
 */
export class ClientConnection implements ConnectionContext, ExchangeContext {
  readonly client: Client;
  readonly connector: DirectConnector;
  /**
   * The client's byte stream: the socket, or the TLS stream when the client speaks TLS to the
   * proxy itself (`HTTPS_PROXY=https://...`). Layers read and write this, never the socket.
   */
  stream: Duplex;
  private done = false;

  constructor(
    readonly runtime: ProxyRuntime,
    readonly socket: net.Socket,
    readonly proxyMode: ProxyMode,
  ) {
    const now = Date.now() / 1000;
    this.client = new Client({
      peername: [socket.remoteAddress ?? '', socket.remotePort ?? 0],
      sockname: [socket.localAddress ?? '', socket.localPort ?? 0],
      timestampStart: now,
      proxyMode: proxyMode.fullSpec,
    });
    this.connector = new DirectConnector(this);
    this.stream = socket;
  }

  get server(): Server {
    return this.connector.server;
  }
  get mode(): string {
    return this.proxyMode.fullSpec;
  }
  get config(): RuntimeConfig {
    return this.runtime.config;
  }
  get hooks(): HookTable {
    return this.runtime.hooks;
  }
  get log(): Logger {
    return this.runtime.log;
  }
  /** The context TLS hooks of this connection's server side see. */
  get context(): ConnectionContext {
    return this;
  }

  describe(): string {
    const [h, p] = this.client.peername;
    return `${h.includes(':') ? `[${h}]` : h}:${p}`;
  }

  track(flow: Flow): void {
    this.runtime.track(flow);
  }

  /** `client_connected` (an addon may refuse the client), then the mode's first layer. */
  async start(mode: ModeHandler): Promise<void> {
    this.runtime.opened(this);
    const socket = this.socket;
    socket.setNoDelay(true);
    socket.on('error', (err) => this.log.debug(`${this.describe()}: client connection error: ${err.message}`));
    socket.on('close', () => this.onClose());
    const cfg = this.config;
    if (cfg.tcpTimeout > 0) idleSweeper.watch(socket, cfg.tcpTimeout * 1000, () => this.idle());
    socket.pause();
    const r = this.hooks.trigger('client_connected', this.client);
    if (r) await r;
    if (this.client.error) {
      this.log.info(`${this.describe()}: client connection refused: ${this.client.error}`);
      socket.destroy();
      return;
    }
    await mode(this);
  }

  /** HTTP/1 on `stream` (requests in absolute form when `target` is null, else into the tunnel). */
  serveHttp1(stream: Duplex, target: Target | null, initial: Buffer | null): void {
    new Http1ServerSession(this, stream, target, initial);
    stream.resume();
  }

  /**
   * HTTP/2 on `stream` (ALPN `h2`, or a cleartext stream that started with the preface): each
   * stream one flow; requests go to `target`, or where their `:scheme`/`:authority` say when null.
   */
  serveHttp2(stream: Duplex, target: Target | null, initial: Buffer | null): void {
    new Http2ServerSession(this, stream, target, initial);
    stream.resume();
  }

  /**
   * HTTP on a cleartext stream: HTTP/2 with prior knowledge when it starts with the connection
   * preface (gRPC's cleartext form; only with the `http2` option), else HTTP/1. Regular mode
   * calls it with no target, reverse mode with its fixed one.
   */
  async serveHttp(stream: Duplex, target: Target | null, initial: Buffer | null): Promise<void> {
    if (!this.config.http2) return this.serveHttp1(stream, target, initial);
    let data = initial ?? EMPTY;
    for (;;) {
      const h2 = data.length > 0 ? startsWithPreface(data) : null;
      if (h2 !== null) return h2 ? this.serveHttp2(stream, target, data) : this.serveHttp1(stream, target, data);
      const more = await firstBytes(stream, null);
      if (!more) return this.destroy();
      data = data.length > 0 ? Buffer.concat([data, more.data]) : more.data;
    }
  }

  /** A CONNECT request on an HTTP/1 session: see {@link handleConnect}. */
  connect(req: TunnelRequest, head: RequestHead): Promise<void> {
    return handleConnect(this, req, head);
  }

  /** Is this host left alone (ignore_hosts, or not in allow_hosts)? */
  ignored(host: string, port: number): boolean {
    const cfg = this.config;
    if (!cfg.ignoreHosts.empty) return cfg.ignoreHosts.matches(host, port);
    if (!cfg.allowHosts.empty) return !cfg.allowHosts.matches(host, port);
    return false;
  }

  /**
   * The client socket now carries a stream to `target` (after CONNECT; later SOCKS5, transparent
   * mode): passthrough for ignored hosts, else the layer its first bytes call for (TLS, HTTP,
   * TCP), which `next_layer` may change.
   */
  async tunnel(target: { host: string; port: number }, initial: Buffer): Promise<void> {
    if (this.ignored(target.host, target.port)) return this.passthrough(this.stream, initial, target);
    const first =
      initial.length > 0
        ? { from: 'client' as const, data: initial }
        : await firstBytes(this.stream, this.connector.transport);
    if (!first) return this.destroy();
    const cfg = this.config;
    const clientData = first.from === 'client' ? first.data : EMPTY;
    const serverData = first.from === 'server' ? first.data : EMPTY;
    const nl: NextLayer = {
      context: this,
      dataClient: () => clientData,
      dataServer: () => serverData,
      layer: tunnelLayer(first, cfg.tcpHosts.matches(target.host, target.port), cfg.rawTcp),
      ignoreConnection: false,
    };
    const r = this.hooks.trigger('next_layer', nl);
    if (r) await r;
    if (nl.ignoreConnection || nl.layer === 'passthrough')
      return this.passthrough(this.stream, clientData, target, serverData);
    switch (nl.layer) {
      case 'tls':
        return this.intercept(target, clientData);
      case 'http':
        return this.serveHttp(this.stream, { scheme: 'http', ...target }, clientData);
      case 'tcp':
        return this.tcp(this.stream, clientData, serverData, target, null);
      default:
        this.log.info(`${this.describe()}: no layer for this connection (raw TCP is off); closing it.`);
        return this.destroy();
    }
  }

  /**
   * TLS interception; inside, the protocol the negotiated ALPN names (no ALPN: the first bytes).
   * In a tunnel the server speaks TLS too; a mode with a fixed target (reverse) gives a `route`:
   * the server's TLS (null: plain) and the HTTP target inside (null: relay TCP, as `reverse:tls`).
   */
  async intercept(target: { host: string; port: number }, initial: Buffer, route?: TlsRoute): Promise<void> {
    const t = await interceptTls(this, target, initial, route?.server);
    switch (t.kind) {
      case 'closed':
        return this.destroy();
      case 'not-tls':
        return this.tcp(this.stream, t.data, EMPTY, target, null);
      case 'passthrough':
        return this.passthrough(this.stream, t.data, target);
    }
    const upstream = route ? route.server : t.upstream;
    if (route?.http === null) return this.tcp(t.stream, EMPTY, EMPTY, target, upstream);
    const https: Target = route?.http ?? { scheme: 'https', ...target };
    const layer = innerLayerByAlpn(t.alpn);
    if (layer === 'http1') return this.serveHttp1(t.stream, https, null);
    if (layer === 'http2') return this.serveHttp2(t.stream, https, null);
    const inner = await firstBytes(t.stream, this.connector.transport);
    if (!inner) return this.destroy();
    if (innerLayerByBytes(inner, this.config.rawTcp) === 'http1')
      return this.serveHttp1(t.stream, https, inner.from === 'client' ? inner.data : null);
    return this.tcp(
      t.stream,
      inner.from === 'client' ? inner.data : EMPTY,
      inner.from === 'server' ? inner.data : EMPTY,
      target,
      upstream,
    );
  }

  /** Raw TCP (`tcp_*` hooks) between `stream` and the server at `target` (with TLS if `tlsOpts`). */
  async tcp(
    stream: Duplex,
    clientData: Buffer,
    serverData: Buffer,
    target: { host: string; port: number },
    tlsOpts: UpstreamTls | null,
  ): Promise<void> {
    const t = await this.connector.forRelay(target, tlsOpts);
    if (!t) return this.destroy();
    await relayTcp(this, stream, clientData, t, Buffer.concat([serverData, t.detach()]));
  }

  /** Pass bytes through untouched (ignore_hosts): no flow, no hooks beyond the connection ones. */
  async passthrough(
    stream: Duplex,
    clientData: Buffer,
    target: { host: string; port: number },
    serverData: Buffer = EMPTY,
  ): Promise<void> {
    const t = await this.connector.forRelay(target, null);
    if (!t) return this.destroy();
    pipeBoth(stream, clientData, t.socket, Buffer.concat([serverData, t.detach()]));
  }

  /**
   * After a 101 upgrade: both raw streams and the bytes each side sent past the heads. A
   * WebSocket handshake (the exchange gave the flow `flow.websocket`; not with `websocket` off)
   * goes to the WebSocket layer; any other protocol is relayed as a TCP flow (`rawtcp`), or the
   * connection is closed, as mitmproxy does.
   */
  upgraded(flow: HTTPFlow, client: UpgradedStream, server: UpgradedStream): void {
    const fail = (err: unknown): void => {
      this.log.error(`${this.describe()}: internal error: ${(err as Error)?.stack ?? String(err)}`);
      this.destroy();
    };
    if (flow.websocket !== null) {
      relayWebSocket(this, flow, client, server).catch(fail);
    } else if (this.config.rawTcp) {
      relayTcp(this, client.stream, client.rest, { server: flow.serverConn, socket: server.stream }, server.rest).catch(
        fail,
      );
    } else {
      this.log.warn(
        `${this.describe()}: the server switched protocols (101), but no protocol is enabled to upgrade to (websocket, rawtcp); closing the connection.`,
      );
      this.destroy();
    }
  }

  /** Live WebSocket relays of this proxy, by flow (for `inject.websocket`). */
  get webSockets(): LiveWebSockets {
    return this.runtime.webSockets;
  }

  /** The client stream was ended by its layer (pending writes flush): drop the server side. */
  closeSoon(): void {
    this.connector.close();
  }

  /**
   * tcp_timeout passed without a byte: close. A client whose request waits for a silent server
   * stays (true: keep watching); the server connection's own timeout fails that exchange, and
   * the client gets a 502 that says why.
   */
  private idle(): boolean {
    if (this.connector.busy) return true;
    this.destroy();
    return false;
  }

  destroy(): void {
    this.connector.close();
    if (!this.socket.destroyed) this.socket.destroy();
  }

  private onClose(): void {
    if (this.done) return;
    this.done = true;
    this.client.timestampEnd = Date.now() / 1000;
    this.connector.close();
    this.runtime.closed(this);
    const r = this.hooks.trigger('client_disconnected', this.client);
    if (r) r.catch(() => undefined);
  }
}
