import net from 'node:net';
import { Server, type HTTPFlow, type Request } from '../flow/index.js';
import type { Logger } from '../kernel/log.js';
import { UpstreamError } from './errors.js';
import { Http1ClientConn } from './http1/client-conn.js';
import type { Connector, ServerSide } from './http/sides.js';
import { ServerTransport, type TransportEnv, type UpstreamTls } from './transport.js';

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

/**
 * The connector of one client connection without an upstream proxy: one server connection at a
 * time (HTTP/1 to HTTP/1), reused while requests go to the same place (address and TLS) and the
 * connection is clean, else closed and a new one opened. CONNECT, TLS interception and relays
 * use the same slot (an eager connect is reused by the tunnel's first request).
 */
export class DirectConnector implements Connector {
  /** The server the client connection is about (its `ConnectionContext.server`). */
  server: Server = new Server();
  /** The open (or last) server connection. */
  transport: ServerTransport | null = null;
  private http1: Http1ClientConn | null = null;
  /** An eager connect for a CONNECT tunnel failed: requests into the tunnel get this error. */
  tunnelError: { host: string; port: number; message: string } | null = null;

  constructor(
    private readonly env: ConnectorEnv,
    /** SNI for new HTTPS connections. */
    private readonly sni: (req: Request) => string | null = hostSni,
  ) {}

  serverConnFor(host: string, port: number): Server {
    const t = this.transport;
    const a = t?.server.address;
    if (t && t.alive && a && a[0] === host && a[1] === port) return t.server;
    return new Server({ address: [host, port] });
  }

  serverFor(flow: HTTPFlow): ServerSide | Promise<ServerSide> {
    const req = flow.request;
    const te = this.tunnelError;
    if (te && te.host === req.host && te.port === req.port) throw new UpstreamError(te.message);
    const t = this.transport;
    if (t !== null && this.idle(t)) {
      const a = t.server.address;
      if (a && a[0] === req.host && a[1] === req.port && t.server.tls === (req.scheme === 'https')) {
        flow.serverConn = t.server;
        return this.http1On(t).exchange();
      }
    }
    return this.open(flow);
  }

  /** An exchange waits for or reads a response. */
  get busy(): boolean {
    return this.http1 !== null && this.http1.busy && this.http1.transport.alive;
  }

  /** Connect to `server` (for a tunnel: an eager connect, a relay), replacing the current connection. */
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
      return await this.connectTo(this.server.address ? this.server : new Server({ address: [target.host, target.port] }), tlsOpts);
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      this.env.log.info(`${this.env.describe()}: ${err.message}`);
      return null;
    }
  }

  close(): void {
    this.transport?.close();
    this.transport = null;
    this.http1 = null;
  }

  private async open(flow: HTTPFlow): Promise<ServerSide> {
    const req = flow.request;
    this.close();
    let server = flow.serverConn;
    const a = server.address;
    if (!a || a[0] !== req.host || a[1] !== req.port || server.timestampStart !== null) {
      server = new Server({ address: [req.host, req.port] });
      flow.serverConn = server;
    }
    this.server = server;
    const wantTls = req.scheme === 'https';
    const tlsOpts: UpstreamTls | null = wantTls ? { sni: this.sni(req), alpn: ['http/1.1'] } : null;
    const t = await ServerTransport.open(server, this.env, tlsOpts, !wantTls);
    this.transport = t;
    return this.http1On(t).exchange();
  }

  /** Open, and clean for the next request (a server that spoke first is not). */
  private idle(t: ServerTransport): boolean {
    const h = this.http1;
    if (h !== null && h.transport === t) return h.reusable;
    return t.alive && !t.hasPending;
  }

  private http1On(t: ServerTransport): Http1ClientConn {
    let h = this.http1;
    if (h === null || h.transport !== t) {
      const log = this.env.log;
      const who = this.env.describe();
      h = this.http1 = new Http1ClientConn(t, this.env.config.validateInbound, (msg) => log.debug(`${who}: ${msg}`));
    }
    return h;
  }
}
