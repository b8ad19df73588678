import net from 'node:net';
import { Server, type HTTPFlow, type Request } from '../flow/index.js';
import type { Logger } from '../kernel/log.js';
import { UpstreamError } from './errors.js';
import { Http1ClientConn } from './http1/client-conn.js';
import { Http2ClientConn, NotHttp2Error, type Http2ConnOwner } from './http2/client-conn.js';
import type { Http2Connection } from './http2/connection.js';
import type { Http2ServerSide } from './http2/server-side.js';
import { HTTP2 } from './http2/translate.js';
import { isWebSocketTunnel } from './websocket/handshake.js';
import type { Connector, ServerSide } from './http/sides.js';
import { ServerTransport, type TransportEnv, type UpstreamTls } from './transport.js';
import { formatAddress, sameVia, type Via } from './upstream-proxy.js';

/** What a connector needs from where it runs: the transport's hooks and settings, a log. */
export interface ConnectorEnv extends TransportEnv {
  readonly log: Logger;
  /** `host:port` of the client, for log lines. */
  describe(): string;
}

/** SNI for a new TLS connection to the request's server: the host, unless it is an IP address. */
export function hostSni(req: Request): string | null {
  return net.isIP(req.host) ? null : req.host;
}

/** A protocol client on a server connection: HTTP/1 (one exchange at a time) or HTTP/2 (many). */
type ServerConn = Http1ClientConn | Http2ClientConn;

/**
 * The server's TLS handshake failed with a `no_application_protocol` alert: it speaks none of the
 * protocols offered (an HTTP/2-only server asked for HTTP/1.1).
 */
export function refusedAlpn(err: unknown): boolean {
  return (
    err instanceof UpstreamError &&
    (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL'
  );
}

/**
 * The connector of one client connection. It keeps the server connections this client's
 * requests use and reuses them while requests go to the same place (address, TLS and upstream
 * proxy, `Server.via`):
 *
 * - an HTTP/1 connection while it is clean and idle (its last response ended, nothing unread);
 *   requests that arrive while it is busy (an HTTP/2 client's concurrent streams) get their own
 *   connection, one per concurrent request;
 * - an HTTP/2 connection (ALPN `h2`, or cleartext prior knowledge for requests that came over
 *   HTTP/2) carries every request to that server at once, up to its stream limit.
 *
 * Which protocol a new TLS connection speaks is the server's choice among what the client's
 * protocol allows: `h2` and `http/1.1` for HTTP/2 requests, `http/1.1` for HTTP/1 ones (an
 * HTTP/2-only server that refuses it gets a second connection offering `h2`). Through an upstream
 * proxy, HTTPS goes in a CONNECT tunnel and plain HTTP in absolute form, both HTTP/1.1. CONNECT, TLS
 * interception and relays use the primary {@link transport} (an eager connect is reused by the
 * tunnel's first request). Idle connections to another place are closed when a new one opens.
 */
export class DirectConnector implements Connector, Http2ConnOwner {
  /** The server the client connection is about (its `ConnectionContext.server`). */
  server: Server = new Server();
  /** The primary (most recent) server connection. */
  transport: ServerTransport | null = null;
  /** An eager connect for a CONNECT tunnel failed: requests into the tunnel get this error. */
  tunnelError: { host: string; port: number; message: string } | null = null;
  /** The upstream proxy new servers go through (upstream mode); a flow may choose another (`setUpstreamProxy`). */
  defaultVia: Via | null = null;
  /** The client's HTTP/2 connection, if it speaks HTTP/2 (corked while a server's bytes are processed). */
  clientLeg: Http2Connection | null = null;
  private conns: ServerConn[] = [];
  /** Connections being opened, by place: requests for it wait rather than open their own (it may be HTTP/2). */
  private readonly opening = new Map<string, Promise<unknown>>();
  /** Places whose cleartext server answered the HTTP/2 preface with HTTP/1. */
  private readonly http1Only = new Set<string>();

  constructor(
    private readonly env: ConnectorEnv,
    /** SNI for new HTTPS connections. */
    public sni: (req: Request) => string | null = (req) => (net.isIP(req.host) ? env.client.sni : req.host),
  ) {}

  /** A server to connect to, through the default upstream proxy if there is one. */
  newServer(host: string, port: number): Server {
    return new Server({ address: [host, port], via: this.defaultVia });
  }

  serverConnFor(host: string, port: number): Server {
    const conns = this.conns;
    for (let i = conns.length - 1; i >= 0; i--) {
      const c = conns[i]!;
      const a = c.server.address;
      if (c.transport.alive && a && a[0] === host && a[1] === port) return c.server;
    }
    const t = this.transport;
    const a = t?.server.address;
    if (t && t.alive && a && a[0] === host && a[1] === port) return t.server;
    return this.newServer(host, port);
  }

  serverFor(flow: HTTPFlow): ServerSide | Promise<ServerSide> {
    const req = flow.request;
    const te = this.tunnelError;
    if (te && te.host === req.host && te.port === req.port) throw new UpstreamError(te.message);
    if (req.httpVersion === HTTP2 && isWebSocketTunnel(req.method, req.headers)) return this.webSocketServer(flow);
    return this.acquire(flow, (c) => {
      flow.serverConn = c.server;
      return c instanceof Http2ClientConn ? c.exchange(flow) : c.exchange();
    });
  }

  /**
   * A WebSocket extended CONNECT (RFC 8441) from an HTTP/2 client: an HTTP/2 connection whose
   * server announced SETTINGS_ENABLE_CONNECT_PROTOCOL carries it as one; otherwise it goes as an
   * HTTP/1.1 Upgrade request (`h1RequestFields`) on an HTTP/1.1 connection (one offering only
   * `http/1.1` when the server's HTTP/2 has no extended CONNECT).
   */
  private async webSocketServer(flow: HTTPFlow): Promise<ServerSide> {
    const found = await this.acquire<ServerSide | Http2ClientConn>(flow, (c) => {
      flow.serverConn = c.server;
      return c instanceof Http2ClientConn ? c : c.exchange();
    });
    if (!(found instanceof Http2ClientConn)) return found;
    try {
      await found.ready;
    } catch (err) {
      throw new UpstreamError(`Cannot open the WebSocket: ${(err as Error).message}.`);
    }
    if (found.h2.remoteSettings.enableConnectProtocol && found.accepting) return found.exchange(flow);
    const req = flow.request;
    this.debug(
      `${req.host}:${req.port} does not take WebSockets over HTTP/2 (no SETTINGS_ENABLE_CONNECT_PROTOCOL); using HTTP/1.1 for ${req.path}.`,
    );
    const server = new Server({ address: [req.host, req.port], via: flow.serverConn.via });
    flow.serverConn = server;
    const c = this.http1On(
      await ServerTransport.open(
        server,
        this.env,
        req.scheme === 'https' ? { sni: this.sni(req), alpn: ['http/1.1'] } : null,
        true,
      ),
    );
    this.conns.push(c);
    return c.exchange();
  }

  /** An exchange waits for or reads a response. */
  get busy(): boolean {
    const conns = this.conns;
    for (let i = 0; i < conns.length; i++) if (conns[i]!.busy && conns[i]!.transport.alive) return true;
    return false;
  }

  /** Connect to `server` (for a tunnel: an eager connect, a relay), replacing the current connections. */
  async connectTo(server: Server, tlsOpts: UpstreamTls | null): Promise<ServerTransport> {
    this.close();
    this.server = server;
    const t = await ServerTransport.open(server, this.env, tlsOpts);
    this.transport = t;
    return t;
  }

  /** The open connection, or a new one to the tunnel's target; null (logged) if it fails. */
  async forRelay(target: { host: string; port: number }, tlsOpts: UpstreamTls | null): Promise<ServerTransport | null> {
    if (this.transport && this.transport.alive) return this.transport;
    try {
      return await this.connectTo(
        this.server.address ? this.server : this.newServer(target.host, target.port),
        tlsOpts,
      );
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      this.env.log.info(`${this.env.describe()}: ${err.message}`);
      return null;
    }
  }

  close(): void {
    for (const c of this.conns) c.transport.close();
    this.conns = [];
    this.transport?.close();
    this.transport = null;
  }

  /** Cork every HTTP/2 server connection (a client read is being processed). */
  cork(): void {
    const conns = this.conns;
    for (let i = 0; i < conns.length; i++) {
      const c = conns[i]!;
      if (c instanceof Http2ClientConn) c.h2.cork();
    }
  }

  uncork(): void {
    const conns = this.conns;
    for (let i = 0; i < conns.length; i++) {
      const c = conns[i]!;
      if (c instanceof Http2ClientConn) c.h2.uncork();
    }
  }

  // --- Http2ConnOwner ------------------------------------------------------------------------------

  moveStream(side: Http2ServerSide): void {
    const flow = side.flow;
    const why = (msg: string): void =>
      side.fail(
        new UpstreamError(`The server sent GOAWAY before processing the request, and sending it again failed: ${msg}`),
      );
    const adopt = (c: ServerConn): void => {
      if (c instanceof Http2ClientConn) c.adopt(side);
      else why('the new connection does not speak HTTP/2');
    };
    let next: void | Promise<void>;
    try {
      next = this.acquire(flow, adopt);
    } catch (err) {
      return why((err as Error).message);
    }
    if (next instanceof Promise) next.catch((err: unknown) => why((err as Error).message));
  }

  debug(message: string): void {
    this.env.log.debug(`${this.env.describe()}: ${message}`);
  }

  error(message: string): void {
    this.env.log.error(`${this.env.describe()}: ${message}`);
  }

  // --- connections ----------------------------------------------------------------------------------

  /**
   * A connection for this flow's request, a free one to the same place (synchronous) or a new
   * one, handed to `use` in the same turn it is found, so that `use` claims it before a
   * concurrent request (another stream of an HTTP/2 client) could see it free.
   */
  private acquire<T>(flow: HTTPFlow, use: (c: ServerConn) => T): T | Promise<T> {
    const req = flow.request;
    const conns = this.conns;
    for (let i = conns.length - 1; i >= 0; i--) {
      const c = conns[i]!;
      if (free(c) && goesTo(c.server, flow)) return use(c);
    }
    const t = this.transport;
    if (
      t !== null &&
      this.unclaimed(t) &&
      goesTo(t.server, flow) &&
      t.server.tls === (req.scheme === 'https') &&
      (req.scheme === 'https' || req.httpVersion !== HTTP2)
    ) {
      const c = this.adopt(t);
      this.conns.push(c);
      return use(c);
    }
    return this.open(flow, use);
  }

  /** A transport no protocol client runs on yet (an eager connect), open and clean. */
  private unclaimed(t: ServerTransport): boolean {
    if (!t.alive || t.hasPending) return false;
    for (const c of this.conns) if (c.transport === t) return false;
    return true;
  }

  private async open<T>(flow: HTTPFlow, use: (c: ServerConn) => T): Promise<T> {
    const req = flow.request;
    const via = flow.serverConn.via;
    const key = `${req.scheme}://${req.host}:${req.port}${via ? ` via ${via[0]}://${formatAddress(via[1])}` : ''}`;
    const wait = this.opening.get(key);
    if (wait !== undefined && !this.http1Only.has(key)) {
      // the connection being opened may be HTTP/2: then it carries this request too
      await wait.catch(() => undefined);
      return this.acquire(flow, use);
    }
    this.dropIdle(flow);
    let server = flow.serverConn;
    const a = server.address;
    if (!a || a[0] !== req.host || a[1] !== req.port || server.timestampStart !== null) {
      server = new Server({ address: [req.host, req.port], via: server.via });
      flow.serverConn = server;
    }
    this.server = server;
    const opening = this.connect(flow, server, key);
    this.opening.set(key, opening);
    try {
      const c = await opening;
      this.conns.push(c);
      this.transport = c.transport;
      this.server = c.server;
      return use(c);
    } finally {
      if (this.opening.get(key) === opening) this.opening.delete(key);
    }
  }

  /** A new connection for this request, with the protocol client its negotiation chose. */
  private async connect(flow: HTTPFlow, server: Server, key: string): Promise<ServerConn> {
    const req = flow.request;
    const cfg = this.env.config;
    const h2 = cfg.http2 && req.httpVersion === HTTP2;
    if (server.via !== null) {
      // Through an upstream proxy, HTTPS needs a CONNECT tunnel; plain HTTP goes in absolute form.
      const https = req.scheme === 'https';
      return this.http1On(
        await ServerTransport.open(
          server,
          this.env,
          https ? { sni: this.sni(req), alpn: ['http/1.1'] } : null,
          !https,
          https,
        ),
      );
    }
    if (req.scheme !== 'https') {
      if (!h2 || this.http1Only.has(key)) return this.http1On(await ServerTransport.open(server, this.env, null, true));
      return this.priorKnowledge(flow, server, key);
    }
    const sni = this.sni(req);
    let t: ServerTransport;
    try {
      t = await ServerTransport.open(server, this.env, { sni, alpn: h2 ? ['h2', 'http/1.1'] : ['http/1.1'] });
    } catch (err) {
      if (h2 || !cfg.http2 || !refusedAlpn(err)) throw err;
      this.debug(`${req.host}:${req.port} refused HTTP/1.1 (no application protocol); connecting again offering h2.`);
      const again = new Server({ address: [req.host, req.port], via: server.via });
      flow.serverConn = again;
      t = await ServerTransport.open(again, this.env, { sni, alpn: ['h2'] });
    }
    return this.adopt(t);
  }

  /**
   * Cleartext HTTP/2 with prior knowledge (the client spoke it, gRPC's form): a server that
   * answers the preface with HTTP/1 (or closes) is remembered and gets HTTP/1 on a new connection.
   */
  private async priorKnowledge(flow: HTTPFlow, server: Server, key: string): Promise<ServerConn> {
    const c = this.http2On(await ServerTransport.open(server, this.env, null, false));
    try {
      await c.ready;
      return c;
    } catch (err) {
      if (!(err instanceof NotHttp2Error)) throw err;
      this.debug(`${key}: ${err.message}; using HTTP/1.1 for it.`);
      this.http1Only.add(key);
      const again = new Server({ address: server.address! });
      flow.serverConn = again;
      return this.http1On(await ServerTransport.open(again, this.env, null, true));
    }
  }

  /** The protocol client for a transport by its negotiated ALPN. */
  private adopt(t: ServerTransport): ServerConn {
    return t.server.alpn?.toString('latin1') === 'h2' ? this.http2On(t) : this.http1On(t);
  }

  private http1On(t: ServerTransport): Http1ClientConn {
    return new Http1ClientConn(
      t,
      this.env.config.validateInbound,
      (msg) => this.debug(msg),
      this.env.config.keepHopByHop,
    );
  }

  private http2On(t: ServerTransport): Http2ClientConn {
    const cfg = this.env.config;
    return new Http2ClientConn(t, this, { validate: cfg.validateInbound, pingKeepalive: cfg.http2PingKeepalive });
  }

  /** Before a new connection opens: close idle ones that cannot serve it (the HTTP/1 one-slot behaviour), forget closed ones. */
  private dropIdle(flow: HTTPFlow): void {
    const keep: ServerConn[] = [];
    for (const c of this.conns) {
      if (!c.transport.alive) continue;
      if (c.busy || (free(c) && goesTo(c.server, flow))) keep.push(c);
      else c.transport.close();
    }
    this.conns = keep;
    const t = this.transport;
    if (t !== null && this.unclaimed(t)) t.close();
  }
}

/** Can take another exchange now. */
function free(c: ServerConn): boolean {
  return c instanceof Http2ClientConn ? c.accepting : c.reusable;
}

/** The connection of `server` can carry the flow's request: same address, TLS and upstream proxy. */
function goesTo(server: Server, flow: HTTPFlow): boolean {
  const req = flow.request;
  const a = server.address;
  return (
    a !== null &&
    a[0] === req.host &&
    a[1] === req.port &&
    server.tls === (req.scheme === 'https') &&
    sameVia(flow.serverConn.via, server.via)
  );
}
