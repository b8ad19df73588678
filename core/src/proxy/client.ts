import net from 'node:net';
import type tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { CertStore } from '../certs/store.js';
import { Client, FlowError, Headers, HTTPFlow, Request, Response, Server, type Flow } from '../flow/index.js';
import type { ClientHello, ConnectionContext, LayerName, NextLayer, TlsData, TlsSettings } from '../hooks/data.js';
import type { HookTable } from '../hooks/dispatcher.js';
import type { Logger } from '../kernel/log.js';
import type { RuntimeConfig } from './config.js';
import { Http1Session, type Target } from './http1-session.js';
import { serializeResponseHead, type RequestHead } from './http1/index.js';
import { idleSweeper } from './idle.js';
import type { ProxyMode } from './modes.js';
import { relayTcp } from './tcp.js';
import { acceptTls } from './tls/accept.js';
import { describeClientTlsFailure } from './tls/hints.js';
import { ClientHelloError, looksLikeTls, parseClientHello } from './tls/clienthello.js';
import { tlsVersionName } from './tls/info.js';
import { ServerConnection, UpstreamError, type UpstreamTls } from './upstream.js';

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
  opened(conn: ClientConnection): void;
  closed(conn: ClientConnection): void;
}

const CONNECTION_ESTABLISHED = Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n', 'latin1');
const HTTP_METHOD = /^[A-Z]{3,10} /;

/**
 * One client connection: `client_connected`, then the layers its bytes call for (HTTP proxy
 * requests, CONNECT tunnels, TLS interception, raw TCP), then `client_disconnected`.
 */
export class ClientConnection implements ConnectionContext {
  readonly client: Client;
  server: Server;
  private sc: ServerConnection | null = null;
  private tunnelError: { host: string; port: number; message: string } | null = null;
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
    this.server = new Server();
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

  describe(): string {
    const [h, p] = this.client.peername;
    return `${h.includes(':') ? `[${h}]` : h}:${p}`;
  }

  track(flow: Flow): void {
    this.runtime.track(flow);
  }

  async start(): Promise<void> {
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
    let initial: Buffer | null = null;
    if (this.hooks.has('next_layer')) {
      // mitmproxy asks next_layer for the first layer too. In regular mode it is HTTP (proxy
      // requests and CONNECT); an addon may look at the first bytes, or drop the connection.
      const first = await firstBytes(socket, null);
      if (!first) return this.destroy();
      initial = first.data;
      const nl: NextLayer = { context: this, dataClient: () => first.data, dataServer: () => Buffer.alloc(0), layer: 'http', ignoreConnection: false };
      const r2 = this.hooks.trigger('next_layer', nl);
      if (r2) await r2;
      if (nl.layer !== 'http' || nl.ignoreConnection) {
        this.log.info(`${this.describe()}: next_layer chose ${nl.ignoreConnection ? 'to ignore the connection' : `layer ${nl.layer}`}, but a regular-mode connection has no target before its first request; closing it.`);
        return this.destroy();
      }
    }
    new Http1Session(this, socket, null, initial);
    socket.resume();
  }

  /** A placeholder server object for a flow, so filters see its address before any connect. */
  placeholderServer(host: string, port: number): Server {
    const cur = this.sc;
    if (cur && cur.alive && cur.server.address && cur.server.address[0] === host && cur.server.address[1] === port) return cur.server;
    return new Server({ address: [host, port] });
  }

  /** The open server connection, if this flow's request can reuse it (the common keep-alive case). */
  reusableUpstream(flow: HTTPFlow): ServerConnection | null {
    const req = flow.request;
    const te = this.tunnelError;
    if (te && te.host === req.host && te.port === req.port) return null;
    const cur = this.sc;
    if (cur && cur.alive && !cur.handler) {
      const a = cur.server.address;
      if (a && a[0] === req.host && a[1] === req.port && cur.server.tls === (req.scheme === 'https')) {
        flow.serverConn = cur.server;
        return cur;
      }
    }
    return null;
  }

  /** The server connection for this flow's request: reused when it goes to the same place. */
  async upstreamFor(flow: HTTPFlow): Promise<ServerConnection> {
    const reused = this.reusableUpstream(flow);
    if (reused) return reused;
    const req = flow.request;
    const wantTls = req.scheme === 'https';
    const te = this.tunnelError;
    if (te && te.host === req.host && te.port === req.port) throw new UpstreamError(te.message);
    const cur = this.sc;
    if (cur) cur.close();
    this.sc = null;
    let server = flow.serverConn;
    const a = server.address;
    if (!a || a[0] !== req.host || a[1] !== req.port || server.timestampStart !== null) {
      server = new Server({ address: [req.host, req.port] });
      flow.serverConn = server;
    }
    this.server = server;
    const tlsOpts: UpstreamTls | null = wantTls ? { sni: net.isIP(req.host) ? null : req.host, alpn: ['http/1.1'] } : null;
    const sc = await ServerConnection.open(server, this.client, this.hooks, this.config, tlsOpts, this, !wantTls);
    this.sc = sc;
    return sc;
  }

  /** CONNECT: `http_connect`, maybe an eager upstream connection, 200, then the tunnel's layers. */
  async connect(session: Http1Session, head: RequestHead): Promise<void> {
    const table = this.hooks;
    const now = Date.now() / 1000;
    const server = new Server({ address: [head.host, head.port] });
    const flow = new HTTPFlow(this.client, server, true);
    flow.request = new Request({
      host: head.host,
      port: head.port,
      method: head.method,
      scheme: '',
      authority: head.authority,
      path: '',
      httpVersion: head.httpVersion,
      headers: Headers.fromRaw(head.headers),
      content: Buffer.alloc(0),
      timestampStart: now,
      timestampEnd: now,
    });
    this.track(flow);
    await triggerFlow(table, 'http_connect', flow);
    if (flow.error?.msg === FlowError.KILLED_MESSAGE) return this.destroy();
    if (flow.response && (flow.response.statusCode < 200 || flow.response.statusCode >= 300)) {
      // An addon refused the CONNECT.
      const r = flow.response;
      const body = r.rawContent ?? Buffer.alloc(0);
      session.stream.write(Buffer.concat([serializeResponseHead({ httpVersion: 'HTTP/1.1', statusCode: r.statusCode, reason: r.reason, headers: r.headers.fields }), body]));
      session.close();
      return;
    }
    const target = { host: flow.request.host, port: flow.request.port };
    if (target.host !== head.host || target.port !== head.port) flow.serverConn = server.address ? new Server({ address: [target.host, target.port] }) : server;
    this.server = flow.serverConn;
    const cfg = this.config;
    const ignore = this.ignored(target.host, target.port);
    if (cfg.connectionStrategy === 'eager' || ignore) {
      try {
        this.sc = await ServerConnection.open(this.server, this.client, table, cfg, null, this);
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err;
        flow.error = new FlowError(err.message);
        await triggerFlow(table, 'http_connect_error', flow);
        await session.failFlow(flow, table, err.message, 502);
        session.close();
        return;
      }
    }
    flow.response = new Response({ httpVersion: 'HTTP/1.1', statusCode: 200, reason: 'Connection established', headers: new Headers(), content: Buffer.alloc(0), timestampStart: now, timestampEnd: now });
    session.stream.write(CONNECTION_ESTABLISHED);
    await triggerFlow(table, 'http_connected', flow);
    const rest = session.takeRemaining();
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('end');
    await this.tunnel(target, rest, ignore);
  }

  private ignored(host: string, port: number): boolean {
    const cfg = this.config;
    if (!cfg.ignoreHosts.empty) return cfg.ignoreHosts.matches(host, port);
    if (!cfg.allowHosts.empty) return !cfg.allowHosts.matches(host, port);
    return false;
  }

  private async tunnel(target: { host: string; port: number }, initial: Buffer, ignore: boolean): Promise<void> {
    if (ignore) return this.passthrough(this.socket, initial, target);
    const first = initial.length > 0 ? { from: 'client' as const, data: initial } : await firstBytes(this.socket, this.sc);
    if (!first) return this.destroy();
    const cfg = this.config;
    let layer: LayerName | null;
    if (first.from === 'server' || cfg.tcpHosts.matches(target.host, target.port)) layer = 'tcp';
    else if (looksLikeTls(first.data)) layer = 'tls';
    else if (HTTP_METHOD.test(first.data.toString('latin1', 0, 11))) layer = 'http';
    else layer = cfg.rawTcp ? 'tcp' : null;
    const clientData = first.from === 'client' ? first.data : Buffer.alloc(0);
    const serverData = first.from === 'server' ? first.data : Buffer.alloc(0);
    const nl: NextLayer = { context: this, dataClient: () => clientData, dataServer: () => serverData, layer, ignoreConnection: false };
    const r = this.hooks.trigger('next_layer', nl);
    if (r) await r;
    if (nl.ignoreConnection || nl.layer === 'passthrough') return this.passthrough(this.socket, clientData, target, serverData);
    switch (nl.layer) {
      case 'tls':
        return this.interceptTls(target, clientData);
      case 'http':
        new Http1Session(this, this.socket, { scheme: 'http', ...target }, clientData);
        this.socket.resume();
        return;
      case 'tcp':
        return this.tcp(this.socket, clientData, serverData, target, null);
      default:
        this.log.info(`${this.describe()}: no layer for this connection (raw TCP is off); closing it.`);
        return this.destroy();
    }
  }

  private async interceptTls(target: { host: string; port: number }, initial: Buffer): Promise<void> {
    const cfg = this.config;
    const table = this.hooks;
    let buf = initial;
    let hello: ClientHello | null;
    try {
      while (!(hello = parseClientHello(buf))) {
        const more = await firstBytes(this.socket, null);
        if (!more) return this.destroy();
        buf = Buffer.concat([buf, more.data]);
      }
    } catch (err) {
      if (!(err instanceof ClientHelloError)) throw err;
      this.log.info(`${this.describe()}: not a TLS ClientHello (${err.message}); relaying as TCP.`);
      return this.tcp(this.socket, buf, Buffer.alloc(0), target, null);
    }
    const client = this.client;
    client.sni = hello.sni;
    client.alpnOffers = hello.alpnProtocols.map((p) => Buffer.from(p, 'latin1'));
    const chd = {
      context: this as ConnectionContext,
      clientHello: hello,
      ignoreConnection: hello.sni !== null && this.ignored(hello.sni, target.port),
      establishServerTlsFirst: cfg.upstreamCert && cfg.connectionStrategy === 'eager',
    };
    const r = table.trigger('tls_clienthello', chd);
    if (r) await r;
    if (chd.ignoreConnection) return this.passthrough(this.socket, buf, target);

    const http1 = hello.alpnProtocols.filter((p) => p === 'http/1.1' || p === 'http/1.0');
    const upstreamAlpn = hello.alpnProtocols.length === 0 ? [] : http1.length ? http1 : ['http/1.1'];
    const sni = hello.sni ?? (net.isIP(target.host) ? null : target.host);
    if (chd.establishServerTlsFirst) {
      try {
        if (!this.sc || !this.sc.alive) this.sc = await ServerConnection.open(this.server, client, table, cfg, null, this);
        await this.sc.startTls({ sni, alpn: upstreamAlpn });
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err;
        // Finish the client handshake anyway, then answer its requests with the error.
        this.tunnelError = { ...target, message: err.message };
        this.sc?.close();
        this.sc = null;
      }
    }
    const certs = this.runtime.certs;
    const upstreamCert = cfg.upstreamCert && this.sc?.server.tls ? (this.sc.server.certificateList[0] ?? null) : null;
    const names = certs.selectNames({ sni: hello.sni, connectHost: target.host, serverAddressHost: target.host, upstreamCert });
    const entry = certs.getCert(names.cn, names.sans, names.organization, names.crlUrl);
    const negotiated = this.sc?.server.alpn?.toString('latin1');
    const clientAlpn = negotiated ? [negotiated] : hello.alpnProtocols.includes('http/1.1') ? ['http/1.1'] : http1;
    const certPem = certs.chainText(entry);
    const data: TlsData = {
      conn: client,
      context: this,
      isDtls: false,
      settings: { cert: certPem, key: entry.keyPem, alpnProtocols: clientAlpn, requestCert: cfg.requestClientCert },
    };
    const r2 = table.trigger('tls_start_client', data);
    if (r2) await r2;
    let tlsSocket: tls.TLSSocket;
    try {
      // The context is resolved right before the TLS socket is created (synchronously, see
      // CertStore.handshakeContext); an addon may have given its own context or PEMs.
      const s = data.settings;
      const ctx = s.secureContext ?? (s.cert === certPem && s.key === entry.keyPem ? certs.handshakeContext(entry) : addonContext(certs, s));
      tlsSocket = await acceptTls(this.socket, buf, s, ctx);
    } catch (err) {
      const e = err as Error;
      const name = hello.sni ?? target.host;
      client.error = `Client TLS handshake failed: ${e.message}`;
      const hint = describeClientTlsFailure({ error: e, clientHello: hello, serverName: name, caCertPath: this.runtime.caCertPath });
      this.log[hint.level](`${this.describe()}: ${hint.message}`);
      const r3 = table.trigger('tls_failed_client', data);
      if (r3) await r3;
      return this.destroy();
    }
    client.tls = true;
    client.timestampTlsSetup = Date.now() / 1000;
    client.tlsVersion = tlsVersionName(tlsSocket.getProtocol());
    client.cipher = tlsSocket.getCipher()?.name ?? null;
    client.alpn = tlsSocket.alpnProtocol ? Buffer.from(tlsSocket.alpnProtocol) : null;
    client.mitmcert = entry.cert;
    const r4 = table.trigger('tls_established_client', data);
    if (r4) await r4;
    tlsSocket.on('error', (err) => this.log.debug(`${this.describe()}: client TLS error: ${err.message}`));
    const inner = await firstBytes(tlsSocket, this.sc);
    if (!inner) return this.destroy();
    if (inner.from === 'client' && HTTP_METHOD.test(inner.data.toString('latin1', 0, 11))) {
      new Http1Session(this, tlsSocket, { scheme: 'https', ...target }, inner.data);
      tlsSocket.resume();
      return;
    }
    return this.tcp(tlsSocket, inner.from === 'client' ? inner.data : Buffer.alloc(0), inner.from === 'server' ? inner.data : Buffer.alloc(0), target, { sni, alpn: upstreamAlpn });
  }

  private async tcp(stream: Duplex, clientData: Buffer, serverData: Buffer, target: { host: string; port: number }, tlsOpts: UpstreamTls | null): Promise<void> {
    const sc = await this.serverForRelay(target, tlsOpts);
    if (!sc) return this.destroy();
    await relayTcp(this, stream, clientData, sc, Buffer.concat([serverData, sc.detach()]));
  }

  /** Pass bytes through untouched (ignore_hosts): no flow, no hooks beyond the connection ones. */
  private async passthrough(stream: Duplex, clientData: Buffer, target: { host: string; port: number }, serverData: Buffer = Buffer.alloc(0)): Promise<void> {
    const sc = await this.serverForRelay(target, null);
    if (!sc) return this.destroy();
    pipeBoth(stream, clientData, sc.socket, Buffer.concat([serverData, sc.detach()]));
  }

  /** The open server connection, or a new one to the tunnel's target; null (logged) if it fails. */
  private async serverForRelay(target: { host: string; port: number }, tlsOpts: UpstreamTls | null): Promise<ServerConnection | null> {
    if (this.sc && this.sc.alive) return this.sc;
    try {
      const server = this.server.address ? this.server : new Server({ address: [target.host, target.port] });
      this.sc = await ServerConnection.open(server, this.client, this.hooks, this.config, tlsOpts, this);
      return this.sc;
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      this.log.info(`${this.describe()}: ${err.message}`);
      return null;
    }
  }

  /** After a 101 upgrade: relay raw bytes both ways (WebSocket parsing comes later). */
  tunnelRaw(stream: Duplex, clientData: Buffer, sc: ServerConnection, serverData: Buffer): void {
    stream.removeAllListeners('data');
    stream.removeAllListeners('end');
    const pending = Buffer.concat([serverData, sc.detach()]);
    pipeBoth(stream, clientData, sc.socket, pending);
  }

  /** The client stream was ended by its layer (pending writes flush): drop the server side. */
  closeSoon(): void {
    this.sc?.close();
  }

  /**
   * tcp_timeout passed without a byte: close. A client whose request waits for a silent server
   * stays (true: keep watching); the server connection's own timeout fails that exchange, and
   * the client gets a 502 that says why.
   */
  private idle(): boolean {
    if (this.sc?.waiting && this.sc.alive) return true;
    this.destroy();
    return false;
  }

  destroy(): void {
    this.sc?.close();
    if (!this.socket.destroyed) this.socket.destroy();
  }

  private onClose(): void {
    if (this.done) return;
    this.done = true;
    this.client.timestampEnd = Date.now() / 1000;
    this.sc?.close();
    this.runtime.closed(this);
    const r = this.hooks.trigger('client_disconnected', this.client);
    if (r) r.catch(() => undefined);
  }
}

/** A context from the PEMs an addon put into `tls_start_client`'s settings. */
function addonContext(certs: CertStore, s: TlsSettings): tls.SecureContext {
  if (s.cert === undefined || s.key === undefined) {
    throw new Error('tls_start_client left a certificate without a key (or a key without a certificate) in data.settings: set both cert and key, or a secureContext.');
  }
  return certs.secureContextFromPem(s.cert, s.key);
}

async function triggerFlow(table: HookTable, name: 'http_connect' | 'http_connected' | 'http_connect_error', flow: HTTPFlow): Promise<void> {
  const r = table.triggerFlow(name, flow);
  if (r) await r;
}


/** The first bytes from either side (client first if both); null if the client went away. */
function firstBytes(client: Duplex, sc: ServerConnection | null): Promise<{ from: 'client' | 'server'; data: Buffer } | null> {
  return new Promise((resolve) => {
    const serverSocket = sc?.alive ? sc.socket : null;
    const cleanup = (): void => {
      client.removeListener('data', onClient);
      client.removeListener('close', onGone);
      client.removeListener('end', onGone);
      serverSocket?.removeListener('data', onServer);
      client.pause();
    };
    const onClient = (d: Buffer): void => {
      cleanup();
      resolve({ from: 'client', data: d });
    };
    const onServer = (d: Buffer): void => {
      cleanup();
      serverSocket!.pause();
      // The server parser saw these bytes too; take them from it instead of double-counting.
      resolve({ from: 'server', data: sc!.detach() });
    };
    const onGone = (): void => {
      cleanup();
      resolve(null);
    };
    client.on('data', onClient);
    client.once('close', onGone);
    client.once('end', onGone);
    serverSocket?.prependListener('data', onServer);
    client.resume();
  });
}

function pipeBoth(a: Duplex, aPending: Buffer, b: Duplex, bPending: Buffer): void {
  if (aPending.length) b.write(aPending);
  if (bPending.length) a.write(bPending);
  a.pipe(b);
  b.pipe(a);
  const end = (): void => {
    a.destroy();
    b.destroy();
  };
  a.once('close', end);
  b.once('close', end);
  a.on('error', () => undefined);
  b.on('error', () => undefined);
  a.resume();
  b.resume();
}
