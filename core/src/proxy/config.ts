import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import type { WebSocketRetention } from '../flow/websocket.js';
import { OptionsError } from '../kernel/errors.js';
import type { OptionsManager } from '../options/manager.js';
import { clientCertLookup, type ClientCertLookup } from './client-certs.js';
import { HostMatcher } from './hosts.js';
import { liveMatcher, type LiveMatcher } from './http/live.js';
import { parseModes, type ProxyMode } from './modes.js';
import { nodeTlsVersion } from './options.js';
import { parseSize } from './sizes.js';

/**
 * The proxy runtime's view of the options, computed once per option change (never per
 * request). Connections read the current object; a change applies to the next exchange.
 */
export interface RuntimeConfig {
  readonly modes: readonly ProxyMode[];
  readonly listenHost: string;
  readonly listenPort: number | null;
  readonly streamLargeBodies: number | null;
  readonly bodySizeLimit: number | null;
  /**
   * `max_buffered_body` when it applies (neither `stream_large_bodies` nor `body_size_limit` is
   * set), else null: bodies past it are streamed with a warning.
   */
  readonly bufferCeiling: number | null;
  /** `request_head_timeout` in seconds (0: none). */
  readonly requestHeadTimeout: number;
  /** `keep_hop_by_hop_headers`: forward hop-by-hop headers as mitmproxy does. */
  readonly keepHopByHop: boolean;
  readonly storeStreamedBodies: boolean;
  /** `live_bodies`: which responses go to the client as they arrive, recorded whole (null: none). */
  readonly liveBodies: LiveMatcher | null;
  /** `live_bodies_keep_size`: how many bytes of a live body a flow keeps (null: all). */
  readonly liveBodiesKeep: number | null;
  readonly validateInbound: boolean;
  readonly connectionStrategy: 'eager' | 'lazy';
  readonly ignoreHosts: HostMatcher;
  readonly allowHosts: HostMatcher;
  readonly tcpHosts: HostMatcher;
  readonly rawTcp: boolean;
  readonly upstreamCert: boolean;
  readonly sslInsecure: boolean;
  readonly connectAddr: string | null;
  readonly tcpTimeout: number;
  readonly keepHostHeader: boolean;
  readonly tlsClientMin: tls.SecureVersion | undefined;
  readonly tlsClientMax: tls.SecureVersion | undefined;
  readonly tlsServerMin: tls.SecureVersion | undefined;
  readonly tlsServerMax: tls.SecureVersion | undefined;
  readonly ciphersClient: string | null;
  readonly ciphersServer: string | null;
  readonly ecdhCurveClient: string | null;
  readonly ecdhCurveServer: string | null;
  readonly requestClientCert: boolean;
  /** `http_connect_send_host_header`: CONNECT requests to upstream proxies carry a Host header. */
  readonly connectSendHostHeader: boolean;
  /** `proxyauth` is set: SOCKS5 clients must send a username and password (checked by the `socks5_auth` hook). */
  readonly proxyAuth: boolean;
  /** `client_certs`: the certificate to present to the server with this name (SNI, else address host). */
  readonly clientCertFor: ClientCertLookup;
  /** `websocket`: WebSocket connections are relayed message by message (else as TCP). */
  readonly websocket: boolean;
  /** `websocket_max_message_size` in bytes. */
  readonly websocketMaxMessageSize: number;
  /** `websocket_messages_keep` / `websocket_messages_keep_size`; null keeps every message. */
  readonly websocketRetention: WebSocketRetention | null;
  /** `http2`: offer HTTP/2 to clients (ALPN h2, cleartext prior knowledge) and to servers. */
  readonly http2: boolean;
  /** `http2_ping_keepalive`: seconds of silence before a PING on a server HTTP/2 connection (0: never). */
  readonly http2PingKeepalive: number;
  /**
   * The secure context for connections to servers: the trusted CAs (built on first use, then
   * shared), and the settings node:tls only takes from a context (it ignores them next to one):
   * TLS versions, ciphers, curves, a client certificate. One context per distinct setting, shared.
   */
  upstreamContext(settings?: UpstreamContextSettings): tls.SecureContext;
}

/** What an upstream secure context holds besides the CAs. */
export type UpstreamContextSettings = Pick<
  tls.SecureContextOptions,
  'cert' | 'key' | 'minVersion' | 'maxVersion' | 'ciphers' | 'ecdhCurve'
>;

/** Distinct upstream contexts kept (settings come from options and hooks: few, but bounded). */
const CONTEXTS_KEPT = 64;

function settingsKey(s: UpstreamContextSettings): string {
  const pem = (v: unknown): string =>
    Array.isArray(v)
      ? v.map(pem).join('')
      : v === undefined
        ? ''
        : Buffer.isBuffer(v)
          ? v.toString('latin1')
          : String(v);
  return [s.minVersion, s.maxVersion, s.ciphers, s.ecdhCurve, pem(s.cert), pem(s.key)].map((v) => v ?? '').join('\0');
}

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The system's trusted CAs (Debian/Red Hat/macOS bundles): PEM certificates, or none. */
function systemCas(): string[] {
  for (const f of SYSTEM_BUNDLES) {
    try {
      return readFileSync(f, 'latin1').match(PEM_CERT) ?? [];
    } catch {
      // try the next location
    }
  }
  return [];
}

let defaultTrust: string[] | null = null;

/**
 * Node's bundled roots plus the system bundle's certificates that Node does not bundle. The
 * two mostly overlap (on Debian 122 of 144): parsing each once halves the cost of the first
 * verified upstream connection (~50 -> ~30 ms).
 */
function defaultTrustedCas(): string[] {
  if (defaultTrust === null) {
    const key = (pem: string): string => pem.replace(/-----[A-Z ]+-----|\s+/g, '');
    const bundled = new Set(tls.rootCertificates.map(key));
    defaultTrust = [...tls.rootCertificates, ...systemCas().filter((pem) => !bundled.has(key(pem)))];
  }
  return defaultTrust;
}

function trustedCaDir(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    try {
      const text = readFileSync(join(dir, name), 'latin1');
      if (text.includes('-----BEGIN CERTIFICATE-----')) out.push(text);
    } catch {
      // unreadable entries are skipped, as OpenSSL's CApath lookup would
    }
  }
  return out;
}

export function buildConfig(o: OptionsManager): RuntimeConfig {
  const str = (n: string): string => o.get<string>(n);
  const optStr = (n: string): string | null => o.get<string | null>(n);
  const bool = (n: string): boolean => o.get<boolean>(n);
  const list = (n: string): readonly string[] => o.get<readonly string[]>(n);
  const matcher = (n: string): HostMatcher => {
    try {
      return new HostMatcher(list(n));
    } catch (err) {
      throw new OptionsError(`Option ${n}: invalid regular expression: ${(err as Error).message}`);
    }
  };
  const ignoreHosts = matcher('ignore_hosts');
  const allowHosts = matcher('allow_hosts');
  if (!ignoreHosts.empty && !allowHosts.empty) {
    throw new OptionsError('--ignore-hosts and --allow-hosts are mutually exclusive; please choose one.');
  }
  const connectAddr = optStr('connect_addr');
  if (connectAddr !== null && !/^[\d.]+$|:/.test(connectAddr)) {
    throw new OptionsError(`Option connect_addr: invalid IP address ${JSON.stringify(connectAddr)}.`);
  }
  const trustedCa = optStr('ssl_verify_upstream_trusted_ca');
  const trustedDir = optStr('ssl_verify_upstream_trusted_confdir');
  let trusted: string[] | null = null;
  try {
    if (trustedCa) trusted = [readFileSync(trustedCa, 'latin1')];
    if (trustedDir) trusted = [...(trusted ?? []), ...trustedCaDir(trustedDir)];
  } catch (err) {
    throw new OptionsError(`Cannot read the trusted CAs for upstream verification: ${(err as Error).message}`);
  }
  let ctx: tls.SecureContext | undefined;
  const contexts = new Map<string, tls.SecureContext>();
  const sslInsecure = bool('ssl_insecure');
  const minClient = nodeTlsVersion(str('tls_version_client_min'));
  const maxClient = nodeTlsVersion(str('tls_version_client_max'));
  const minServer = nodeTlsVersion(str('tls_version_server_min'));
  const maxServer = nodeTlsVersion(str('tls_version_server_max'));
  const streamLargeBodies = parseSize('stream_large_bodies', optStr('stream_large_bodies'));
  const bodySizeLimit = parseSize('body_size_limit', optStr('body_size_limit'));
  return {
    modes: parseModes(list('mode'), str('listen_host'), o.get<number | null>('listen_port')),
    listenHost: str('listen_host'),
    listenPort: o.get<number | null>('listen_port'),
    streamLargeBodies,
    bodySizeLimit,
    bufferCeiling:
      streamLargeBodies === null && bodySizeLimit === null
        ? parseSize('max_buffered_body', optStr('max_buffered_body') || null)
        : null,
    requestHeadTimeout: o.get<number>('request_head_timeout'),
    keepHopByHop: bool('keep_hop_by_hop_headers'),
    storeStreamedBodies: bool('store_streamed_bodies'),
    liveBodies: liveMatcher(str('live_bodies')),
    liveBodiesKeep: parseSize('live_bodies_keep_size', optStr('live_bodies_keep_size') || null),
    validateInbound: bool('validate_inbound_headers'),
    connectionStrategy: str('connection_strategy') as 'eager' | 'lazy',
    ignoreHosts,
    allowHosts,
    tcpHosts: matcher('tcp_hosts'),
    rawTcp: bool('rawtcp'),
    upstreamCert: bool('upstream_cert'),
    sslInsecure,
    connectAddr,
    tcpTimeout: o.get<number>('tcp_timeout'),
    keepHostHeader: bool('keep_host_header'),
    tlsClientMin: minClient,
    tlsClientMax: maxClient,
    tlsServerMin: minServer,
    tlsServerMax: maxServer,
    ciphersClient: optStr('ciphers_client'),
    ciphersServer: optStr('ciphers_server'),
    ecdhCurveClient: optStr('tls_ecdh_curve_client'),
    ecdhCurveServer: optStr('tls_ecdh_curve_server'),
    requestClientCert: bool('request_client_cert'),
    connectSendHostHeader: bool('http_connect_send_host_header'),
    proxyAuth: o.has('proxyauth') && !!o.get<string | null>('proxyauth'),
    clientCertFor: clientCertLookup(optStr('client_certs')),
    websocket: bool('websocket'),
    websocketMaxMessageSize: positiveSize(o, 'websocket_max_message_size'),
    websocketRetention: webSocketRetention(o),
    http2: bool('http2'),
    http2PingKeepalive: o.get<number>('http2_ping_keepalive'),
    upstreamContext(settings?: UpstreamContextSettings): tls.SecureContext {
      // As mitmproxy: the trusted CA options replace the default store; else Node's bundled
      // roots plus the system's bundle. With ssl_insecure nothing is verified: no CAs to load.
      const ca = (): { ca?: string[] } => (sslInsecure ? {} : { ca: trusted ?? defaultTrustedCas() });
      const key = settings ? settingsKey(settings) : '';
      if (key.replace(/\0/g, '') === '') return (ctx ??= tls.createSecureContext(ca()));
      let c = contexts.get(key);
      if (!c) {
        c = tls.createSecureContext({ ...ca(), ...settings });
        if (contexts.size >= CONTEXTS_KEPT) contexts.delete(contexts.keys().next().value!);
        contexts.set(key, c);
      }
      return c;
    },
  };
}

function positiveSize(o: OptionsManager, name: string): number {
  const n = parseSize(name, o.get<string>(name))!;
  if (n < 1)
    throw new OptionsError(`Option ${name}: must be at least 1 byte, got ${JSON.stringify(o.get<string>(name))}.`);
  return n;
}

function webSocketRetention(o: OptionsManager): WebSocketRetention | null {
  const count = o.get<number>('websocket_messages_keep'); // at least 0 (the option's bound)
  const bytes = parseSize('websocket_messages_keep_size', o.get<string | null>('websocket_messages_keep_size'));
  if (count === 0 && bytes === null) return null;
  return { ...(count > 0 ? { maxMessages: count } : {}), ...(bytes !== null ? { maxBytes: bytes } : {}) };
}
