import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { bytesToText } from './bytes.js';

/** Raised for a URL or authority that cannot be parsed. */
export class UrlError extends Error {
  readonly code = 'MITMTS_ERR_INVALID_URL';
  constructor(message: string) {
    super(message);
    this.name = 'UrlError';
  }
}

/** 80 for http, 443 for https, else null. */
export function defaultPort(scheme: string): number | null {
  if (scheme === 'http') return 80;
  if (scheme === 'https') return 443;
  return null;
}

function bracket(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** `host` or `host:port`, leaving out the scheme's default port (IPv6 hosts get brackets). */
export function hostport(scheme: string, host: string, port: number): string {
  if (defaultPort(scheme) === port) return bracket(host);
  return `${bracket(host)}:${port}`;
}

/** Build a URL from its parts; a path of `*` (OPTIONS) is left out. */
export function unparse(scheme: string, host: string, port: number, path = ''): string {
  if (path === '*') path = '';
  return `${scheme}://${hostport(scheme, host, port)}${path}`;
}

/** True if `h` (ASCII) is dot-separated labels of 1-63 letters, digits, `-` or `_`. */
function isDnsName(h: string): boolean {
  let len = 0;
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i);
    if (c === 0x2e) {
      if (len === 0) return false;
      len = 0;
      continue;
    }
    const ok =
      (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
    if (!ok || ++len > 63) return false;
  }
  return len > 0;
}

/** True for a valid DNS name (underscores allowed), IPv4 or IPv6 address. */
export function isValidHost(host: string): boolean {
  let h = host;
  if (!/^[\x00-\x7f]*$/.test(h)) {
    const a = domainToASCII(h);
    if (!a) return false;
    h = a;
  }
  if (h.length > 255) return false;
  if (h.endsWith('.')) h = h.slice(0, -1);
  return isDnsName(h) || isIP(h) !== 0;
}

export function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 65535;
}

/**
 * Split a URL into `[scheme, host, port, path]` like mitmproxy's `url.parse`: scheme and host
 * are lowercased, userinfo is dropped, IDNA hosts are punycode-encoded, the port defaults to the
 * scheme's, and the path (with query and fragment) always starts with `/`.
 * @throws UrlError without a valid host or port.
 */
export function parseUrl(url: string): [scheme: string, host: string, port: number, path: string] {
  let rest = url.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, '').replace(/[\t\r\n]/g, '');
  let scheme = '';
  const colon = rest.indexOf(':');
  if (colon > 0 && /^[A-Za-z][A-Za-z0-9+\-.]*$/.test(rest.slice(0, colon))) {
    scheme = rest.slice(0, colon).toLowerCase();
    rest = rest.slice(colon + 1);
  }
  let netloc = '';
  if (rest.startsWith('//')) {
    const m = /[/?#]/.exec(rest.slice(2));
    const end = m ? m.index + 2 : rest.length;
    netloc = rest.slice(2, end);
    rest = rest.slice(end);
  }
  let hostPart = netloc.slice(netloc.lastIndexOf('@') + 1);
  let portStr = '';
  if (hostPart.startsWith('[')) {
    const close = hostPart.indexOf(']');
    if (close === -1) throw new UrlError(`Invalid IPv6 URL: ${url}`);
    const after = hostPart.slice(close + 1);
    if (after.startsWith(':')) portStr = after.slice(1);
    hostPart = hostPart.slice(1, close);
  } else {
    const c = hostPart.indexOf(':');
    if (c !== -1) {
      portStr = hostPart.slice(c + 1);
      hostPart = hostPart.slice(0, c);
    }
  }
  let host = hostPart.toLowerCase();
  if (!host) throw new UrlError(`No hostname given in URL '${url}'.`);
  if (!/^[\x00-\x7f]*$/.test(host)) {
    const a = domainToASCII(host);
    if (!a) throw new UrlError(`Invalid host '${hostPart}' in URL '${url}'.`);
    host = a;
  }
  let port: number | null = null;
  if (portStr !== '') {
    if (!/^[0-9]+$/.test(portStr))
      throw new UrlError(`Port could not be cast to integer value: '${portStr}' in URL '${url}'.`);
    port = Number(portStr);
    if (!isValidPort(port)) throw new UrlError(`Port out of range 0-65535: ${portStr} in URL '${url}'.`);
  }
  if (!port) port = scheme === 'https' ? 443 : 80;
  // Empty query and fragment markers are dropped, as urlunparse does.
  let path = rest;
  const hash = path.indexOf('#');
  let fragment = '';
  if (hash !== -1) {
    fragment = path.slice(hash + 1);
    path = path.slice(0, hash);
  }
  const q = path.indexOf('?');
  let query = '';
  if (q !== -1) {
    query = path.slice(q + 1);
    path = path.slice(0, q);
  }
  let full = path + (query ? '?' + query : '') + (fragment ? '#' + fragment : '');
  if (!full.startsWith('/')) full = '/' + full;
  if (!isValidHost(host)) throw new UrlError(`Invalid host '${host}' in URL '${url}'.`);
  return [scheme, host, port, full];
}

const AUTHORITY = /^([^:]+|\[.+\])(?::([0-9]+))?$/;

/**
 * Split a Host header or authority into `[host, port|null]`. With `check`, malformed input
 * throws; without, it is returned whole as the host.
 */
export function parseAuthority(authority: string, check: boolean): [host: string, port: number | null] {
  // Without a port or brackets, an unchecked authority is its host either way (valid or not).
  if (!check && authority.charCodeAt(0) !== 0x5b /* '[' */ && !authority.includes(':')) return [authority, null];
  const m = AUTHORITY.exec(authority);
  let ok = !!m;
  let host = m ? m[1]! : authority;
  let port: number | null = null;
  if (m) {
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    if (!isValidHost(host)) ok = false;
    if (m[2] !== undefined) {
      port = Number(m[2]);
      if (!isValidPort(port)) ok = false;
    }
  }
  if (ok) return [host, port];
  if (check) throw new UrlError(`Invalid authority '${authority}': expected host or host:port.`);
  return [authority, null];
}

let lastAuthority: string | null = null;
let lastParts: readonly [host: string, port: number | null] = ['', null];

/**
 * `parseAuthority(authority, false)`, remembering the last answer: a flow's pretty host and
 * pretty URL (its list row, the store's columns) both parse its Host header, and flows in a row
 * mostly name the same host. The parts are shared: do not change them.
 */
export function parseAuthorityCached(authority: string): readonly [host: string, port: number | null] {
  if (authority !== lastAuthority) {
    lastParts = parseAuthority(authority, false);
    lastAuthority = authority;
  }
  return lastParts;
}

/** Split a path into `[path, query, fragment]` (query and fragment without their markers). */
export function splitPath(path: string): [path: string, query: string, fragment: string] {
  let p = path;
  let fragment = '';
  const hash = p.indexOf('#');
  if (hash !== -1) {
    fragment = p.slice(hash + 1);
    p = p.slice(0, hash);
  }
  let query = '';
  const q = p.indexOf('?');
  if (q !== -1) {
    query = p.slice(q + 1);
    p = p.slice(0, q);
  }
  return [p, query, fragment];
}

/** Inverse of {@link splitPath}; empty query or fragment are dropped. */
export function joinPath(path: string, query: string, fragment: string): string {
  return path + (query ? '?' + query : '') + (fragment ? '#' + fragment : '');
}

const ALWAYS_SAFE = /[A-Za-z0-9_.\-~]/;

/** Percent-encode like Python's `urllib.parse.quote` (UTF-8, uppercase hex, `safe` kept). */
export function quote(s: string, safe = '/'): string {
  let out = '';
  for (const ch of s) {
    if (ALWAYS_SAFE.test(ch) || (ch.length === 1 && safe.includes(ch))) {
      out += ch;
      continue;
    }
    for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** `quote` with spaces as `+` (form encoding). */
export function quotePlus(s: string, safe = ''): string {
  return quote(s, safe + ' ').replace(/ /g, '+');
}

/**
 * Decode percent-escapes; each run of escapes is decoded as UTF-8 when valid, else byte-wise
 * (latin1), so nothing is lost. Malformed escapes stay as they are.
 */
export function unquote(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = Buffer.alloc(run.length / 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
    return bytesToText(bytes);
  });
}

/** Parse a query string or urlencoded form into pairs, keeping blank values (`parse_qsl`). */
export function decodeQuery(s: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of s.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq === -1 ? part : part.slice(0, eq);
    const v = eq === -1 ? '' : part.slice(eq + 1);
    out.push([unquote(k.replace(/\+/g, ' ')), unquote(v.replace(/\+/g, ' '))]);
  }
  return out;
}

/**
 * Encode pairs as `k=v&...` (`urlencode`). With `similarTo`, a trailing `=` is left out for
 * empty values if the original had parameters without `=`.
 */
export function encodeQuery(pairs: Iterable<readonly [string, string]>, similarTo?: string): string {
  const removeTrailingEqual = !!similarTo && similarTo.split('&').some((p) => !p.includes('='));
  let encoded = Array.from(pairs, ([k, v]) => `${quotePlus(k)}=${quotePlus(v)}`).join('&');
  if (encoded && removeTrailingEqual) {
    encoded = encoded.replace(/=&/g, '&');
    if (encoded.endsWith('=')) encoded = encoded.slice(0, -1);
  }
  return encoded;
}
