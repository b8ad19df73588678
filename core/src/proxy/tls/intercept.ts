import net from 'node:net';
import type tls from 'node:tls';
import type { Cert } from '../../certs/cert.js';
import type { CertStore } from '../../certs/store.js';
import { Server } from '../../flow/index.js';
import type { ClientHello, ClientHelloData, TlsData, TlsSettings } from '../../hooks/data.js';
import type { ClientConnection } from '../connection.js';
import { refusedAlpn } from '../connector.js';
import { UpstreamError } from '../errors.js';
import { firstBytes } from '../relay.js';
import type { UpstreamTls } from '../transport.js';
import { acceptTls } from './accept.js';
import { ClientHelloError, parseClientHello } from './clienthello.js';
import { describeClientTlsFailure } from './hints.js';
import { tlsVersionName } from './info.js';

/** How a TLS interception attempt ended. */
export type TlsOutcome =
  /** The client's TLS is terminated: the decrypted stream, the ALPN it negotiated, TLS for the server. */
  | {
      readonly kind: 'intercepted';
      readonly stream: tls.TLSSocket;
      readonly alpn: string | null;
      readonly upstream: UpstreamTls;
    }
  /** `tls_clienthello` (or ignore_hosts by SNI) said pass it through: the bytes read so far. */
  | { readonly kind: 'passthrough'; readonly data: Buffer }
  /** Not a ClientHello after all: the bytes read so far, for a TCP relay. */
  | { readonly kind: 'not-tls'; readonly data: Buffer }
  /** The client left or the handshake failed (logged, hooks fired): close the connection. */
  | { readonly kind: 'closed' };

type Target = { readonly host: string; readonly port: number };

/**
 * Intercept the TLS stream that starts with `initial`: read the ClientHello, ask the policy
 * (`tls_clienthello`, ignore_hosts by SNI, upstream-first for `upstream_cert`, ALPN, the leaf
 * certificate), run the handshake (`tls_start_client`, then `tls_established_client` or
 * `tls_failed_client` with a hint when the client distrusts our CA). `modeServerTls` is given when
 * the mode decides the server's TLS (reverse: null for a plain server): then no server handshake
 * happens here; an open TLS server connection still shapes the certificate and ALPN.
 */
export async function interceptTls(
  conn: ClientConnection,
  target: Target,
  initial: Buffer,
  modeServerTls?: UpstreamTls | null,
): Promise<TlsOutcome> {
  const read = await readClientHello(conn, initial);
  if (read.kind !== 'hello') return read;
  const { hello, data } = read;
  const cfg = conn.config;
  const client = conn.client;
  client.sni = hello.sni;
  client.alpnOffers = hello.alpnProtocols.map((p) => Buffer.from(p, 'latin1'));
  const chd: ClientHelloData = {
    context: conn,
    clientHello: hello,
    ignoreConnection: hello.sni !== null && conn.ignored(hello.sni, target.port),
    establishServerTlsFirst: cfg.upstreamCert && cfg.connectionStrategy === 'eager',
  };
  const r = conn.hooks.trigger('tls_clienthello', chd);
  if (r) await r;
  if (chd.ignoreConnection) return { kind: 'passthrough', data };

  const offers = hello.alpnProtocols;
  const http1 = offers.filter((p) => p === 'http/1.1' || p === 'http/1.0');
  const h2 = cfg.http2 && offers.includes('h2');
  const upstream: UpstreamTls = {
    sni: hello.sni ?? (net.isIP(target.host) ? null : target.host),
    alpn: offers.length === 0 ? [] : [...(h2 ? ['h2'] : []), ...(http1.length ? http1 : ['http/1.1'])],
  };
  if (chd.establishServerTlsFirst && modeServerTls === undefined) await serverTlsFirst(conn, target, upstream);
  else if (modeServerTls && eagerWithoutTls(conn))
    // reverse:https connected eagerly over TCP: TLS to the target now, offering the client's ALPN
    await serverTlsFirst(conn, target, { ...upstream, sni: modeServerTls.sni });
  const server = conn.connector.transport?.server;
  const serverTls = server !== undefined && server.tls;
  const negotiated = serverTls ? server.alpn?.toString('latin1') : undefined;
  const alpn = clientAlpn(offers, negotiated, h2, http1);
  const upstreamCert = cfg.upstreamCert && serverTls ? (server.certificateList[0] ?? null) : null;
  const stream = await handshake(conn, target, hello, data, alpn, upstreamCert);
  if (stream === null) return { kind: 'closed' };
  return { kind: 'intercepted', stream, alpn: stream.alpnProtocol || null, upstream };
}

/**
 * TLS to the proxy itself (a client with `HTTPS_PROXY=https://...`, regular mode): the handshake
 * with a leaf for the name the client asked for (its SNI, else the proxy's address), HTTP/1.1 by
 * ALPN, the usual TLS hooks. The decrypted stream, or null (the client left, the handshake failed:
 * logged, hooks fired).
 */
export async function acceptProxyTls(conn: ClientConnection, initial: Buffer): Promise<tls.TLSSocket | null> {
  const read = await readClientHello(conn, initial);
  if (read.kind !== 'hello') {
    if (read.kind === 'not-tls')
      conn.log.info(
        `${conn.describe()}: the bytes sent to the proxy are neither TLS nor HTTP; closing the connection.`,
      );
    return null;
  }
  const { hello, data } = read;
  conn.client.sni = hello.sni;
  conn.client.alpnOffers = hello.alpnProtocols.map((p) => Buffer.from(p, 'latin1'));
  const self = { host: conn.socket.localAddress ?? '127.0.0.1', port: conn.socket.localPort ?? 0 };
  const alpn = hello.alpnProtocols.includes('http/1.1') ? ['http/1.1'] : [];
  return handshake(conn, self, hello, data, alpn, null, true);
}

/** The ClientHello, reading more bytes while it is incomplete. */
async function readClientHello(
  conn: ClientConnection,
  initial: Buffer,
): Promise<{ kind: 'hello'; hello: ClientHello; data: Buffer } | TlsOutcome> {
  let data = initial;
  try {
    for (;;) {
      const hello = parseClientHello(data);
      if (hello) return { kind: 'hello', hello, data };
      const more = await firstBytes(conn.stream, null);
      if (!more) return { kind: 'closed' };
      data = Buffer.concat([data, more.data]);
    }
  } catch (err) {
    if (!(err instanceof ClientHelloError)) throw err;
    conn.log.info(`${conn.describe()}: not a TLS ClientHello (${err.message}); relaying as TCP.`);
    return { kind: 'not-tls', data };
  }
}

/**
 * TLS with the server before the client's handshake (`upstream_cert` with the eager strategy):
 * its certificate and ALPN shape ours. On failure the client's handshake still completes, and its
 * requests are answered with the error.
 */
async function serverTlsFirst(conn: ClientConnection, target: Target, upstream: UpstreamTls): Promise<void> {
  const connector = conn.connector;
  try {
    let t = connector.transport;
    if (!t || !t.alive) t = await connector.connectTo(connector.server, null);
    try {
      await t.startTls(upstream);
    } catch (err) {
      // an HTTP/2-only server refused HTTP/1.1: connect again offering h2 (the client's HTTP/1 is translated)
      if (!conn.config.http2 || upstream.alpn.includes('h2') || !refusedAlpn(err)) throw err;
      t = await connector.connectTo(new Server({ address: [target.host, target.port] }), null);
      await t.startTls({ ...upstream, alpn: ['h2'] });
    }
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    connector.tunnelError = { ...target, message: err.message };
    connector.close();
  }
}

/** The mode's eager connection is open and has no TLS yet (reverse:https connects before the ClientHello). */
function eagerWithoutTls(conn: ClientConnection): boolean {
  const t = conn.connector.transport;
  return t !== null && t.alive && !t.server.tls && conn.connector.tunnelError === null;
}

/**
 * The ALPN protocols the client is offered: the server's choice when the client offered it (as
 * mitmproxy); HTTP/1 when the server took `h2` that the client did not offer (translated);
 * without a choice from the server, `h2` (when `http2` is on and offered) before HTTP/1.1.
 */
function clientAlpn(
  offers: readonly string[],
  negotiated: string | undefined,
  h2: boolean,
  http1: readonly string[],
): string[] {
  if (negotiated && offers.includes(negotiated)) return [negotiated];
  const h1 = offers.includes('http/1.1') ? ['http/1.1'] : [...http1];
  return h2 ? ['h2', ...h1] : h1;
}

/** The client-side handshake with the leaf for this host; null (logged, hooks fired) if it fails. */
async function handshake(
  conn: ClientConnection,
  target: Target,
  hello: ClientHello,
  data: Buffer,
  alpn: string[],
  upstreamCert: Cert | null,
  /** TLS to the proxy itself (the trust hint differs for curl). */
  toProxy = false,
): Promise<tls.TLSSocket | null> {
  const certs = conn.runtime.certs;
  const client = conn.client;
  const names = certs.selectNames({
    sni: hello.sni,
    connectHost: target.host,
    serverAddressHost: target.host,
    upstreamCert,
  });
  const entry = certs.getCert(names.cn, names.sans, names.organization, names.crlUrl);
  const certPem = certs.chainText(entry);
  const tlsData: TlsData = {
    conn: client,
    context: conn,
    isDtls: false,
    settings: { cert: certPem, key: entry.keyPem, alpnProtocols: alpn, requestCert: conn.config.requestClientCert },
  };
  const r = conn.hooks.trigger('tls_start_client', tlsData);
  if (r) await r;
  let stream: tls.TLSSocket;
  try {
    // The context is resolved right before the TLS socket is created (synchronously, see
    // CertStore.handshakeContext); an addon may have given its own context or PEMs.
    const s = tlsData.settings;
    const ctx =
      s.secureContext ??
      (s.cert === certPem && s.key === entry.keyPem ? certs.handshakeContext(entry) : addonContext(certs, s));
    stream = await acceptTls(conn.stream, data, s, ctx, conn.config.requestHeadTimeout);
  } catch (err) {
    const e = err as Error;
    const name = hello.sni ?? target.host;
    client.error = `Client TLS handshake failed: ${e.message}`;
    const hint = describeClientTlsFailure({
      error: e,
      clientHello: hello,
      serverName: name,
      caCertPath: conn.runtime.caCertPath,
      toProxy,
    });
    conn.log[hint.level](`${conn.describe()}: ${hint.message}`);
    const r2 = conn.hooks.trigger('tls_failed_client', tlsData);
    if (r2) await r2;
    return null;
  }
  client.tls = true;
  client.timestampTlsSetup = Date.now() / 1000;
  client.tlsVersion = tlsVersionName(stream.getProtocol());
  client.cipher = stream.getCipher()?.name ?? null;
  client.alpn = stream.alpnProtocol ? Buffer.from(stream.alpnProtocol) : null;
  client.mitmcert = entry.cert;
  const r3 = conn.hooks.trigger('tls_established_client', tlsData);
  if (r3) await r3;
  stream.on('error', (err) => conn.log.debug(`${conn.describe()}: client TLS error: ${err.message}`));
  return stream;
}

/** A context from the PEMs an addon put into `tls_start_client`'s settings. */
function addonContext(certs: CertStore, s: TlsSettings): tls.SecureContext {
  if (s.cert === undefined || s.key === undefined) {
    throw new Error(
      'tls_start_client left a certificate without a key (or a key without a certificate) in data.settings: set both cert and key, or a secureContext.',
    );
  }
  return certs.secureContextFromPem(s.cert, s.key);
}
