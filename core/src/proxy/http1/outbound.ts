/**
 * Framing of the heads the proxy sends on (pure helpers for `server-session.ts` and
 * `client-conn.ts`): a buffered body's Content-Length, chunked coding for a body a stream
 * function transforms, the Host header a request without one gets.
 */
import { getHeader, isChunked, withContentLength } from './raw-headers.js';
import type { RawHeaders } from './types.js';

/** Content-Length matching a buffered body (unless chunked); adds one for close-delimited bodies. */
export function fixLength(fields: RawHeaders, body: Buffer | null, isResponse: boolean): RawHeaders {
  if (isChunked(fields)) return fields;
  const len = body ? body.length : 0;
  const cl = getHeader(fields, 'content-length');
  if (cl === undefined) {
    if (len === 0 && !isResponse) return fields;
    return withContentLength(fields, len);
  }
  if (cl.trim() === String(len)) return fields;
  return withContentLength(fields, len);
}

/** The fields with Content-Length and Transfer-Encoding replaced by `Transfer-Encoding: chunked`. */
export function toChunked(fields: RawHeaders): RawHeaders {
  const out = fields.filter(([n]) => {
    const l = n.toString('latin1').toLowerCase();
    return l !== 'content-length' && l !== 'transfer-encoding';
  });
  out.push([Buffer.from('Transfer-Encoding'), Buffer.from('chunked')]);
  return out;
}

/** The fields without Content-Length. */
export function withoutContentLength(fields: RawHeaders): RawHeaders {
  return fields.filter(([n]) => n.toString('latin1').toLowerCase() !== 'content-length');
}

/** `host` or `host:port` (default ports left out), IPv6 in brackets. */
export function hostHeaderValue(host: string, port: number, scheme: string): string {
  const h = host.includes(':') ? `[${host}]` : host;
  const dflt = scheme === 'https' ? 443 : 80;
  return port === dflt ? h : `${h}:${port}`;
}

/** A response to this request method with this status has no body (RFC 9112 section 6.3). */
export function bodilessResponse(method: string, statusCode: number): boolean {
  return method === 'HEAD' || statusCode < 200 || statusCode === 204 || statusCode === 304;
}

/** Does a Connection header value say `close`? */
export function saysClose(connection: string | undefined): boolean {
  return connection !== undefined && /(^|,)\s*close\s*(,|$)/i.test(connection);
}
