/**
 * Which layer handles a stream next, from what is known about it: the negotiated ALPN inside
 * TLS, else its first bytes (mitmproxy's `next_layer` defaults). The choices an addon sees and
 * may change in `next_layer` start here.
 */
import type { LayerName } from '../hooks/data.js';
import { PREFACE } from './http2/constants.js';
import type { FirstBytes } from './relay.js';
import { looksLikeTls } from './tls/clienthello.js';

/** ALPN ids of the HTTP/1 versions the proxy speaks. */
const HTTP1_ALPNS: ReadonlySet<string> = new Set(['http/1.1', 'http/1.0']);
const HTTP_METHOD = /^[A-Z]{3,10} /;

/** The protocol layers inside an intercepted TLS stream. */
export type InnerLayer = 'http1' | 'http2' | 'tcp';

/**
 * Is this the start of the HTTP/2 connection preface (`PRI * HTTP/2.0...`, a cleartext client
 * with prior knowledge)? `true`/`false` once the bytes decide, null while they are a shorter
 * prefix of it (read more).
 */
export function startsWithPreface(data: Buffer): boolean | null {
  const n = Math.min(data.length, PREFACE.length);
  for (let i = 0; i < n; i++) if (data[i] !== PREFACE[i]) return false;
  return n === PREFACE.length ? true : null;
}

/** Does this start like an HTTP/1 request line (`METHOD SP`)? */
export function looksLikeHttp1(data: Buffer): boolean {
  return HTTP_METHOD.test(data.toString('latin1', 0, 11));
}

/**
 * The layer inside intercepted TLS by the negotiated ALPN; null when the ALPN says nothing about
 * HTTP (none negotiated): then the first bytes decide ({@link innerLayerByBytes}).
 */
export function innerLayerByAlpn(alpn: string | null): InnerLayer | null {
  if (alpn === 'h2') return 'http2';
  return alpn !== null && HTTP1_ALPNS.has(alpn) ? 'http1' : null;
}

/**
 * Inside TLS without ALPN: HTTP/1, as mitmproxy assumes, except that with `rawtcp` a stream that
 * does not start like an HTTP request (or where the server spoke first) is relayed as TCP.
 */
export function innerLayerByBytes(first: FirstBytes, rawTcp: boolean): InnerLayer {
  const http = first.from === 'client' && looksLikeHttp1(first.data);
  return http || !rawTcp ? 'http1' : 'tcp';
}

/**
 * The first layer of a tunnel (after CONNECT, later SOCKS5 or transparent mode) from its first
 * bytes, before `next_layer`: TCP when the server spoke first or the host is in `tcp_hosts`,
 * else TLS, HTTP, or TCP for anything else when `rawtcp` is on (null: no layer, close).
 */
export function tunnelLayer(first: FirstBytes, tcpHost: boolean, rawTcp: boolean): LayerName | null {
  if (first.from === 'server' || tcpHost) return 'tcp';
  if (looksLikeTls(first.data)) return 'tls';
  if (looksLikeHttp1(first.data)) return 'http';
  return rawTcp ? 'tcp' : null;
}
