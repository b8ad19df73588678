import net from 'node:net';
import tls from 'node:tls';
import { Cert } from '../certs/cert.js';
import { ConnectionStatus, type Client, type Server } from '../flow/index.js';
import type { ConnectionContext, ServerConnectionHookData, TlsData, TlsSettings } from '../hooks/data.js';
import type { HookTable } from '../hooks/dispatcher.js';
import type { ClientCert } from './client-certs.js';
import type { RuntimeConfig, UpstreamContextSettings } from './config.js';
import { UpstreamError } from './errors.js';
import { idleSweeper } from './idle.js';
import { tlsVersionName } from './tls/info.js';
import { formatAddress, proxyHandshake } from './upstream-proxy.js';

/** TLS towards the server. */
export interface UpstreamTls {
  /** SNI to send (null: none, e.g. for IP addresses). */
  readonly sni: string | null;
  readonly alpn: readonly string[];
}

/**
 * The protocol client running on a transport (HTTP/1 today, HTTP/2 next): it gets the bytes the
 * server sends.
 */
export interface TransportReader {
  /**
   * Bytes from the server. With `pooled`, `chunk` is a view into a read buffer that the next
   * read reuses, unless this returns true: the reader kept a reference to it.
   */
  onRead(chunk: Buffer, pooled: boolean): boolean;
  /** The server ended its side. */
  onReadEnd(): void;
  /** The socket closed (`error`: why, if it failed). */
  onLost(error: Error | null): void;
  /** Bytes received and not consumed, when the transport leaves the protocol (a relay takes it). */
  takeRemaining(): Buffer;
}

/** Where a transport's hooks and settings come from. */
export interface TransportEnv {
  readonly client: Client;
  readonly hooks: HookTable;
  readonly config: RuntimeConfig;
  /** The connection context TLS hooks see. */
  readonly context: ConnectionContext;
}

const CONNECT_TIMEOUT_MS = 30_000;
const EMPTY = Buffer.alloc(0);

/**
 * A connection to a server, below any protocol: `server_connect` (an addon may refuse), TCP,
 * `server_connected` / `server_connect_error`, then TLS if asked (`tls_start_server`,
 * `tls_established_server` / `tls_failed_server`), `tcp_timeout`, `server_disconnected`. The
 * protocol client on top (HTTP/1, later HTTP/2) attaches as its {@link TransportReader}; a relay
 * takes the raw socket with {@link detach}. Reads of plain TCP connections can go into one reused
 * buffer ({@link ReadPool}).
 */
export class ServerTransport {
  socket: net.Socket | tls.TLSSocket;
  private closed = false;
  private closeError: Error | null = null;
  /** Why the connection closed, as its reader heard it (set on close). */
  private lostWith: Error | null = null;
  /** The client certificate sent in the TLS handshake, until the server sends a first byte. */
  private silentAfterCert: string | null = null;
  private reader: TransportReader | null = null;
  /** Bytes that came while no reader was attached. */
  private pending: Buffer[] = [];
  private onPending: (() => void) | null = null;
  private detached = false;
  private readonly onChunk = (chunk: Buffer): void => {
    const r = this.reader;
    if (r !== null) r.onRead(chunk, false);
    else this.hold(chunk);
  };
  private readonly onEndOfStream = (): void => {
    // After a TLS error, or a silent close right after we sent a client certificate, "the server
    // closed the connection" says less than the reason: the reader gets that on close (onLost).
    if (this.closeError === null && this.silentAfterCert === null) this.reader?.onReadEnd();
  };

  private constructor(
    readonly server: Server,
    socket: net.Socket,
    private readonly env: TransportEnv,
    pool: ReadPool | null,
    /** Requests on this connection go to an upstream proxy in absolute form (plain HTTP via `server.via`). */
    readonly forwardProxy = false,
  ) {
    this.socket = socket;
    if (pool) pool.attach((view) => this.onPooledRead(view, pool));
    this.listen(socket);
    socket.on('close', () => this.onSocketClose());
    // Closed already (while an addon's server_connected hook ran, say): its close event is gone.
    if (socket.destroyed) this.onSocketClose();
  }

  /**
   * Open a connection to `server.address`: `server_connect`, TCP, `server_connected` (or
   * `server_connect_error`), then TLS with `tlsOpts`. Rejects with an UpstreamError naming the
   * cause. `pooledReads` reads plain TCP into one reused buffer (not for TLS). With `server.via`
   * the TCP connection goes to that upstream proxy: a `tunnel` is opened with CONNECT, else
   * (plain HTTP) requests go to the proxy in absolute form.
   */
  static async open(
    server: Server,
    env: TransportEnv,
    tlsOpts: UpstreamTls | null,
    pooledReads = false,
    tunnel = true,
  ): Promise<ServerTransport> {
    const table = env.hooks;
    const cfg = env.config;
    const data: ServerConnectionHookData = { server, client: env.client };
    const r = table.trigger('server_connect', data);
    if (r) await r;
    if (server.error) throw new UpstreamError(server.error);
    const via = server.via;
    const [host, port] = via ? via[1] : server.address!;
    const pool = pooledReads && !tlsOpts && (!via || via[0] === 'http') ? new ReadPool() : null;
    let socket: net.Socket;
    try {
      socket = await tcpConnect(host, port, cfg.connectAddr, pool);
    } catch (err) {
      server.error = `${connectErrorMessage(host, port, err)}${via ? ` (the upstream proxy of ${formatAddress(server.address!)})` : ''}`;
      const r2 = table.trigger('server_connect_error', data);
      if (r2) await r2;
      throw new UpstreamError(server.error, (err as NodeJS.ErrnoException).code, { cause: err });
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
      idleSweeper.watch(
        socket,
        cfg.tcpTimeout * 1000,
        () => void socket.destroy(Object.assign(new Error(why), { code: 'ETIMEDOUT' })),
      );
    }
    let rest: Buffer | null = null;
    if (via) {
      const p = await proxyHandshake(socket, server, env, tunnel).catch((err: unknown) => {
        if (err instanceof UpstreamError) server.error = err.message;
        throw err;
      });
      socket = p.socket;
      rest = p.rest;
    }
    const t = new ServerTransport(server, socket, env, pool, via !== null && !tunnel);
    if (rest !== null && rest.length > 0) t.hold(rest);
    if (tlsOpts) await t.startTls(tlsOpts);
    return t;
  }

  get alive(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  /** Why the connection closed (null: no reason known), for an exchange begun after it did. */
  get closedReason(): Error | null {
    return this.lostWith;
  }

  /** Bytes came while no reader was attached (a server that spoke first). */
  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Upgrade this (plain) connection to TLS: `tls_start_server`, handshake, `tls_established_server`. */
  async startTls(opts: UpstreamTls): Promise<void> {
    const raw = this.socket as net.Socket;
    raw.removeListener('data', this.onChunk);
    raw.removeListener('end', this.onEndOfStream);
    const { socket: t, clientCert } = await upstreamTls(raw, this.server, this.env, opts);
    this.socket = t;
    this.listen(t);
    if (clientCert !== null) {
      // TLS 1.3: a server that refuses our client certificate does so after our side of the
      // handshake ended, often by closing without a word. Say so if it does.
      this.silentAfterCert = clientCert;
      t.once('data', () => (this.silentAfterCert = null));
    }
  }

  /** A protocol client takes the server's bytes from now on. */
  attach(reader: TransportReader): void {
    this.reader = reader;
  }

  /** Call `cb` once bytes are pending (no reader attached), e.g. a server greeting. */
  whenPending(cb: () => void): void {
    if (this.pending.length > 0) cb();
    else this.onPending = cb;
  }

  /** Take the bytes that came while no reader was attached. */
  takePending(): Buffer {
    const p = this.pending;
    this.pending = [];
    this.onPending = null;
    return p.length === 0 ? EMPTY : p.length === 1 ? p[0]! : Buffer.concat(p);
  }

  /**
   * Leave the protocol: a relay takes the raw socket (its own `data` listeners). Returns the
   * bytes read and not yet consumed (pending, or the reader's).
   */
  detach(): Buffer {
    this.detached = true;
    this.socket.removeListener('data', this.onChunk);
    this.socket.removeListener('end', this.onEndOfStream);
    const rest = this.reader?.takeRemaining() ?? EMPTY;
    this.reader = null;
    const pending = this.takePending();
    return pending.length === 0 ? rest : rest.length === 0 ? pending : Buffer.concat([pending, rest]);
  }

  write(data: Buffer): boolean {
    return this.socket.write(data);
  }

  close(): void {
    if (!this.socket.destroyed) this.socket.destroy();
  }

  /**
   * A read into the pooled buffer. The reader sees a view of it; unless the reader kept a
   * reference, the same buffer takes the next read (no allocation, no page faults).
   */
  private onPooledRead(view: Buffer, pool: ReadPool): void {
    if (this.detached) {
      // A relay keeps what it reads (queued writes, WebSocket messages): small reads get a copy of
      // their own size, so that a 64 KiB buffer is neither allocated nor kept per read.
      const small = view.length <= COPY_DETACHED_READS_UP_TO;
      if (!small) pool.reuse = false;
      this.socket.emit('data', small ? Buffer.from(view) : view);
      return;
    }
    const r = this.reader;
    if (r === null) this.hold(Buffer.from(view));
    else if (r.onRead(view, true)) pool.reuse = false;
  }

  private hold(chunk: Buffer): void {
    this.pending.push(chunk);
    const cb = this.onPending;
    this.onPending = null;
    cb?.();
  }

  private listen(s: net.Socket | tls.TLSSocket): void {
    s.on('data', this.onChunk);
    s.on('end', this.onEndOfStream);
    s.on('error', (err) => {
      this.closeError = certificateRequired(err) ?? err;
      // A TLS error (a TLS 1.3 server's alert after the handshake) does not always destroy the
      // socket: then no close would ever tell the exchange waiting on it why.
      if (!s.destroyed) s.destroy();
    });
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    const server = this.server;
    server.timestampEnd = Date.now() / 1000;
    server.state = ConnectionStatus.CLOSED;
    const cert = this.silentAfterCert;
    // A server that rejects a TLS 1.3 client certificate closes after the handshake; our first
    // write may then fail (EPIPE) before the close is read: say what it probably means either way.
    const lost = this.closeError;
    const why =
      cert === null
        ? lost
        : new Error(
            `${lost?.message ?? 'the server closed the TLS connection right after the handshake'}; it may have rejected the client certificate ${cert} (client_certs)`,
          );
    this.lostWith = why;
    this.reader?.onLost(why);
    const r = this.env.hooks.trigger('server_disconnected', { server, client: this.env.client });
    if (r) r.catch(() => undefined);
  }
}

const READ_SIZE = 64 * 1024;
/** Reads of a detached socket up to this size are copied out of the pooled buffer. */
const COPY_DETACHED_READS_UP_TO = 16 * 1024;

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

function tcpConnect(
  host: string,
  port: number,
  localAddress: string | null,
  pool: ReadPool | null,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host,
      port,
      noDelay: true,
      ...(localAddress ? { localAddress } : {}),
      ...(pool ? { onread: pool.onread } : {}),
    });
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

/** `client_certs` for this server (its SNI, else its address host), as an UpstreamError when the file is bad. */
function clientCertFor(cfg: RuntimeConfig, server: Server, sni: string | null): ClientCert | null {
  try {
    return cfg.clientCertFor(sni ?? server.address![0]);
  } catch (err) {
    throw new UpstreamError(
      `Cannot use the client certificate for ${sni ?? server.address![0]}: ${(err as Error).message}`,
    );
  }
}

async function upstreamTls(
  socket: net.Socket,
  server: Server,
  env: TransportEnv,
  opts: UpstreamTls,
): Promise<{ socket: tls.TLSSocket; clientCert: string | null }> {
  const cfg = env.config;
  const table = env.hooks;
  server.tls = true;
  server.sni = opts.sni;
  server.alpnOffers = opts.alpn.map((a) => Buffer.from(a));
  const cc = clientCertFor(cfg, server, opts.sni);
  const settings: TlsSettings = {
    ...(cc ? { cert: cc.pem, key: cc.pem } : {}),
    servername: opts.sni,
    alpnProtocols: [...opts.alpn],
    rejectUnauthorized: !cfg.sslInsecure,
    ...(cfg.tlsServerMin ? { minVersion: cfg.tlsServerMin } : {}),
    ...(cfg.tlsServerMax ? { maxVersion: cfg.tlsServerMax } : {}),
    ...(cfg.ciphersServer ? { ciphers: cfg.ciphersServer } : {}),
    ...(cfg.ecdhCurveServer ? { ecdhCurve: cfg.ecdhCurveServer } : {}),
  };
  const data: TlsData = { conn: server, context: env.context, isDtls: false, settings };
  const r = table.trigger('tls_start_server', data);
  if (r) await r;
  const s = data.settings;
  // The client certificate we present, by its file (or the hook that set it).
  const sent = s.cert && s.key ? (s.cert === cc?.pem ? cc.path : '(set in tls_start_server)') : null;
  const tlsSocket = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const t = tls.connect({
      socket,
      ...(s.servername ? { servername: s.servername } : {}),
      ...(s.alpnProtocols && s.alpnProtocols.length ? { ALPNProtocols: s.alpnProtocols } : {}),
      rejectUnauthorized: s.rejectUnauthorized ?? true,
      // node:tls ignores versions, ciphers, curves, cert and key next to a secureContext: they go into it.
      secureContext: s.ca
        ? tls.createSecureContext({ ca: s.ca, ...contextSettings(s) })
        : cfg.upstreamContext(contextSettings(s)),
    });
    t.once('secureConnect', () => {
      t.removeListener('error', reject);
      resolve(t);
    });
    t.once('error', reject);
  }).catch(async (err: Error) => {
    server.error = `TLS handshake with ${server.address![0]}:${server.address![1]} failed: ${tlsErrorText(err)}${clientCertHint(err, sent)}`;
    socket.destroy();
    const r2 = table.trigger('tls_failed_server', data);
    if (r2) await r2;
    throw new UpstreamError(server.error, undefined, { cause: err });
  });
  server.timestampTlsSetup = Date.now() / 1000;
  server.tlsVersion = tlsVersionName(tlsSocket.getProtocol());
  server.cipher = tlsSocket.getCipher()?.name ?? null;
  server.alpn = tlsSocket.alpnProtocol ? Buffer.from(tlsSocket.alpnProtocol) : null;
  server.certificateList = peerChain(tlsSocket);
  const r3 = table.trigger('tls_established_server', data);
  if (r3) await r3;
  return { socket: tlsSocket, clientCert: sent };
}

/** The settings that belong in the secure context (a client certificate only with its key). */
function contextSettings(s: TlsSettings): UpstreamContextSettings {
  return {
    ...(s.cert && s.key ? { cert: s.cert, key: s.key } : {}),
    ...(s.minVersion ? { minVersion: s.minVersion } : {}),
    ...(s.maxVersion ? { maxVersion: s.maxVersion } : {}),
    ...(s.ciphers ? { ciphers: s.ciphers } : {}),
    ...(s.ecdhCurve ? { ecdhCurve: s.ecdhCurve } : {}),
  };
}

/** A TLS 1.3 server's "certificate required" alert (after the handshake), in words; else null. */
function certificateRequired(err: NodeJS.ErrnoException): Error | null {
  if (err.code !== 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') return null;
  return new Error(
    'the server requires a client certificate (TLS alert "certificate required"): set client_certs to a PEM file with the certificate and its key',
  );
}

/** What a failed handshake may say about client certificates (`sent`: the one presented, or null). */
function clientCertHint(err: NodeJS.ErrnoException, sent: string | null): string {
  if (sent !== null) return ` (the server may have rejected the client certificate ${sent})`;
  return err.code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'
    ? ' (if the server requires a client certificate, set client_certs)'
    : '';
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
  if (
    e.code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    e.code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
    e.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    e.code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' ||
    e.code === 'ERR_TLS_CERT_ALTNAME_INVALID' ||
    e.code === 'CERT_HAS_EXPIRED'
  ) {
    return `certificate verify failed: ${e.message} (${e.code}). Set the option ssl_insecure to skip verification (-k), or ssl_verify_upstream_trusted_ca to a PEM file to trust the server's CA.`;
  }
  return e.reason ?? e.message;
}
