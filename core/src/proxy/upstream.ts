import net from 'node:net';
import tls from 'node:tls';
import { Cert } from '../certs/cert.js';
import { ConnectionStatus, type Client, type Server } from '../flow/index.js';
import type { ServerConnectionHookData, TlsData, TlsSettings } from '../hooks/data.js';
import type { HookTable } from '../hooks/dispatcher.js';
import { ResponseParser, type ResponseHandler, type ResponseHead, type RawHeaders } from './http1/index.js';
import type { Http1Error } from './http1/index.js';
import { tlsVersionName } from './tls/info.js';
import type { RuntimeConfig } from './config.js';
import { idleSweeper } from './idle.js';

/** Why an upstream connection could not be used: becomes the flow's error and a 502 page. */
export class UpstreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export interface UpstreamTls {
  /** SNI to send (null: none, e.g. for IP addresses). */
  readonly sni: string | null;
  readonly alpn: readonly string[];
}

/** Receives one exchange's response events from a {@link ServerConnection}. */
export type ExchangeHandler = ResponseHandler & { onClose(error: Error | null): void };

const CONNECT_TIMEOUT_MS = 30_000;

/**
 * A connection to an upstream server: the socket (TCP, maybe TLS), its `Server` flow object,
 * and a response parser whose events go to the exchange currently using the connection.
 */
export class ServerConnection implements ResponseHandler {
  readonly parser: ResponseParser;
  handler: ExchangeHandler | null = null;
  closed = false;
  socket: net.Socket | tls.TLSSocket;
  private closeError: Error | null = null;
  private readonly onChunk = (chunk: Buffer): void => this.parser.push(chunk);
  private readonly onEndOfStream = (): void => this.parser.finish();
  /**
   * Set while processing a pooled read when something kept a reference to the bytes (a parsed
   * head, a buffered body, a queued client write): that read buffer must not be reused.
   */
  lent = false;
  /** A body is being streamed through: reads are handed on without a copy. */
  streaming = false;
  private detached = false;

  private constructor(
    readonly server: Server,
    socket: net.Socket,
    private readonly table: HookTable,
    private readonly client: Client,
    private readonly cfg: RuntimeConfig,
    private readonly context: TlsData['context'],
    pool: ReadPool | null,
  ) {
    this.socket = socket;
    this.parser = new ResponseParser(this, { strict: cfg.validateInbound });
    if (pool) pool.attach((view) => this.onPooledRead(view, pool));
    this.listen(socket);
    socket.on('close', () => this.onSocketClose());
  }

  /**
   * A read into the pooled buffer. The parser and the exchange see a view of it; unless one of
   * them kept a reference, the same buffer takes the next read (no allocation, no page faults).
   */
  private onPooledRead(view: Buffer, pool: ReadPool): void {
    if (this.detached) {
      pool.reuse = false;
      this.socket.emit('data', view);
      return;
    }
    if (!this.streaming) {
      // Heads and buffered bodies keep what they parse: give them their own (small) copy.
      this.parser.push(Buffer.from(view));
      return;
    }
    this.lent = false;
    this.parser.push(view);
    if (this.lent || this.parser.bufferedBytes > 0) pool.reuse = false;
  }

  private listen(s: net.Socket | tls.TLSSocket): void {
    s.on('data', this.onChunk);
    s.on('end', this.onEndOfStream);
    s.on('error', (err) => {
      this.closeError = err;
    });
  }

  /** Stop parsing: a relay takes the socket over. Returns bytes the parser had buffered. */
  detach(): Buffer {
    this.detached = true;
    this.socket.removeListener('data', this.onChunk);
    this.socket.removeListener('end', this.onEndOfStream);
    return this.parser.takeRemaining();
  }

  /** Upgrade this (plain) connection to TLS: `tls_start_server`, handshake, `tls_established_server`. */
  async startTls(opts: UpstreamTls): Promise<void> {
    const raw = this.socket as net.Socket;
    raw.removeListener('data', this.onChunk);
    raw.removeListener('end', this.onEndOfStream);
    const t = await upstreamTls(raw, this.server, this.table, this.cfg, opts, this.context);
    this.socket = t;
    this.listen(t);
  }

  /**
   * Open a connection: `server_connect` (an addon may refuse by setting `server.error`), TCP,
   * `server_connected` or `server_connect_error`, then TLS if asked (`tls_start_server`,
   * `tls_established_server` / `tls_failed_server`).
   */
  static async open(
    server: Server,
    client: Client,
    table: HookTable,
    cfg: RuntimeConfig,
    tlsOpts: UpstreamTls | null,
    context: TlsData['context'],
    /** Read into reused buffers (only for connections that stay plain TCP: not before TLS). */
    pooledReads = false,
  ): Promise<ServerConnection> {
    const data: ServerConnectionHookData = { server, client };
    const r = table.trigger('server_connect', data);
    if (r) await r;
    if (server.error) throw new UpstreamError(server.error);
    const [host, port] = server.address!;
    const pool = pooledReads && !tlsOpts ? new ReadPool() : null;
    let socket: net.Socket;
    try {
      socket = await tcpConnect(host, port, cfg.connectAddr, pool);
    } catch (err) {
      server.error = connectErrorMessage(host, port, err);
      const r2 = table.trigger('server_connect_error', data);
      if (r2) await r2;
      throw new UpstreamError(server.error);
    }
    const now = Date.now() / 1000;
    server.peername = [socket.remoteAddress ?? host, socket.remotePort ?? port];
    server.sockname = [socket.localAddress ?? '', socket.localPort ?? 0];
    server.timestampStart = now;
    server.timestampTcpSetup = now;
    server.state = ConnectionStatus.OPEN;
    const r3 = table.trigger('server_connected', data);
    if (r3) await r3;
    if (cfg.tcpTimeout > 0) {
      const why = `no data for ${cfg.tcpTimeout} s (tcp_timeout)`;
      idleSweeper.watch(socket, cfg.tcpTimeout * 1000, () => void socket.destroy(Object.assign(new Error(why), { code: 'ETIMEDOUT' })));
    }
    const sc = new ServerConnection(server, socket, table, client, cfg, context, pool);
    if (tlsOpts) await sc.startTls(tlsOpts);
    return sc;
  }

  get alive(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  /** True while an exchange waits for or reads a response. */
  get waiting(): boolean {
    return this.handler !== null;
  }

  /** Start an exchange: the next response's framing depends on the request method. */
  begin(handler: ExchangeHandler, method: string): void {
    this.handler = handler;
    this.parser.bodySizeLimit = this.cfg.bodySizeLimit ?? Infinity;
    this.parser.next(method);
  }

  write(data: Buffer): boolean {
    return this.socket.write(data);
  }

  close(): void {
    if (!this.socket.destroyed) this.socket.destroy();
  }

  onHead(head: ResponseHead): void {
    this.lent = true;
    this.handler?.onHead(head);
  }
  onInformational(head: ResponseHead): void {
    this.lent = true;
    this.handler?.onInformational(head);
  }
  onData(chunk: Buffer): void {
    this.handler?.onData(chunk);
  }
  onTrailers(trailers: RawHeaders): void {
    this.lent = true;
    this.handler?.onTrailers(trailers);
  }
  onEnd(): void {
    const h = this.handler;
    this.handler = null;
    h?.onEnd();
  }
  onError(error: Http1Error): void {
    const h = this.handler;
    this.handler = null;
    this.close();
    h?.onError(error);
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.timestampEnd = Date.now() / 1000;
    this.server.state = ConnectionStatus.CLOSED;
    const h = this.handler;
    this.handler = null;
    h?.onClose(this.closeError);
    const r = this.table.trigger('server_disconnected', { server: this.server, client: this.client });
    if (r) r.catch(() => undefined);
  }
}

const READ_SIZE = 64 * 1024;

/**
 * Read buffers for one connection (net's `onread`): the same 64 KiB buffer serves every read
 * unless the previous read's bytes are still referenced, then a fresh one is made. Streaming a
 * large body then allocates nothing per read.
 */
export class ReadPool {
  private buf: Buffer = Buffer.allocUnsafeSlow(READ_SIZE);
  /** Cleared when the last read's bytes are still in use. */
  reuse = true;
  private sink: (view: Buffer) => void = () => undefined;

  attach(sink: (view: Buffer) => void): void {
    this.sink = sink;
  }

  /** net's `onread` option for this pool. */
  get onread(): net.OnReadOpts {
    return {
      buffer: () => {
        if (!this.reuse) this.buf = Buffer.allocUnsafeSlow(READ_SIZE);
        this.reuse = true;
        return this.buf;
      },
      callback: (n: number) => {
        this.sink(this.buf.subarray(0, n));
        return true;
      },
    };
  }
}

function tcpConnect(host: string, port: number, localAddress: string | null, pool: ReadPool | null): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true, ...(localAddress ? { localAddress } : {}), ...(pool ? { onread: pool.onread } : {}) });
    const timer = setTimeout(() => {
      socket.destroy(Object.assign(new Error(`timed out after ${CONNECT_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' }));
    }, CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function connectErrorMessage(host: string, port: number, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'name does not resolve',
    EAI_AGAIN: 'name resolution failed temporarily',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ECONNRESET: 'connection reset',
  };
  const reason = (e.code && why[e.code]) ?? e.message;
  return `Failed to connect to ${host}:${port}: ${reason}${e.code ? ` (${e.code})` : ''}`;
}

async function upstreamTls(
  socket: net.Socket,
  server: Server,
  table: HookTable,
  cfg: RuntimeConfig,
  opts: UpstreamTls,
  context: TlsData['context'],
): Promise<tls.TLSSocket> {
  server.tls = true;
  server.sni = opts.sni;
  server.alpnOffers = opts.alpn.map((a) => Buffer.from(a));
  const settings: TlsSettings = {
    servername: opts.sni,
    alpnProtocols: [...opts.alpn],
    rejectUnauthorized: !cfg.sslInsecure,
    ...(cfg.tlsServerMin ? { minVersion: cfg.tlsServerMin } : {}),
    ...(cfg.tlsServerMax ? { maxVersion: cfg.tlsServerMax } : {}),
    ...(cfg.ciphersServer ? { ciphers: cfg.ciphersServer } : {}),
    ...(cfg.ecdhCurveServer ? { ecdhCurve: cfg.ecdhCurveServer } : {}),
  };
  const data: TlsData = { conn: server, context, isDtls: false, settings };
  const r = table.trigger('tls_start_server', data);
  if (r) await r;
  const s = data.settings;
  const tlsSocket = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const t = tls.connect({
      socket,
      ...(s.servername ? { servername: s.servername } : {}),
      ...(s.alpnProtocols && s.alpnProtocols.length ? { ALPNProtocols: s.alpnProtocols } : {}),
      rejectUnauthorized: s.rejectUnauthorized ?? true,
      secureContext: s.ca ? tls.createSecureContext({ ca: s.ca }) : cfg.upstreamContext(),
      ...(s.minVersion ? { minVersion: s.minVersion } : {}),
      ...(s.maxVersion ? { maxVersion: s.maxVersion } : {}),
      ...(s.ciphers ? { ciphers: s.ciphers } : {}),
      ...(s.ecdhCurve ? { ecdhCurve: s.ecdhCurve } : {}),
      ...(s.cert ? { cert: s.cert } : {}),
      ...(s.key ? { key: s.key } : {}),
    });
    t.once('secureConnect', () => {
      t.removeListener('error', reject);
      resolve(t);
    });
    t.once('error', reject);
  }).catch(async (err: Error) => {
    server.error = `TLS handshake with ${server.address![0]}:${server.address![1]} failed: ${tlsErrorText(err)}`;
    socket.destroy();
    const r2 = table.trigger('tls_failed_server', data);
    if (r2) await r2;
    throw new UpstreamError(server.error);
  });
  server.timestampTlsSetup = Date.now() / 1000;
  server.tlsVersion = tlsVersionName(tlsSocket.getProtocol());
  server.cipher = tlsSocket.getCipher()?.name ?? null;
  server.alpn = tlsSocket.alpnProtocol ? Buffer.from(tlsSocket.alpnProtocol) : null;
  server.certificateList = peerChain(tlsSocket);
  const r3 = table.trigger('tls_established_server', data);
  if (r3) await r3;
  return tlsSocket;
}

/** The peer's certificate chain, leaf first. */
export function peerChain(socket: tls.TLSSocket): Cert[] {
  const out: Cert[] = [];
  let c = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  const seen = new Set<string>();
  while (c && c.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(Cert.fromDer(c.raw));
    c = c.issuerCertificate;
  }
  return out;
}

export function tlsErrorText(err: Error): string {
  const e = err as NodeJS.ErrnoException & { reason?: string };
  if (e.code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || e.code === 'SELF_SIGNED_CERT_IN_CHAIN' || e.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || e.code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' || e.code === 'ERR_TLS_CERT_ALTNAME_INVALID' || e.code === 'CERT_HAS_EXPIRED') {
    return `certificate verify failed: ${e.message} (${e.code}). Use --ssl-insecure (-k) to skip verification, or --set ssl_verify_upstream_trusted_ca=<ca.pem> to trust the server's CA.`;
  }
  return e.reason ?? e.message;
}
