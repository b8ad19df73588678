/**
 * Header translation between HTTP/1 and HTTP/2 (RFC 9113 sections 8.2.2 and 8.3.1), done where a
 * message crosses from one version to the other, never on the flow: hooks see the headers as
 * received. HTTP/1 to HTTP/2: connection-specific fields dropped, `Host` becomes `:authority`.
 * HTTP/2 to HTTP/1: `:authority` becomes `Host`, cookie crumbs are joined with `; `, the version
 * becomes HTTP/1.1 and an empty reason gets the standard phrase (as mitmproxy).
 */
import type { Request } from '../../flow/index.js';
import { RESPONSES } from '../../flow/status-codes.js';
import type { HeaderPairs, ReceivedRequest } from '../http/sides.js';
import { equalsLower, latin1, lower } from '../http1/chars.js';
import { hostHeaderValue } from '../http1/outbound.js';
import { generateKey, isWebSocketTunnel, PROTOCOL_FIELD, WEBSOCKET_VERSION } from '../websocket/handshake.js';
import type { Http2RequestInit } from './types.js';

/** The version string of messages that came over HTTP/2. */
export const HTTP2 = 'HTTP/2.0';

const L_CONNECTION = lower('connection');
const L_KEEP_ALIVE = lower('keep-alive');
const L_PROXY_CONNECTION = lower('proxy-connection');
const L_TRANSFER_ENCODING = lower('transfer-encoding');
const L_UPGRADE = lower('upgrade');
const L_TE = lower('te');
const L_TRAILERS = lower('trailers');
const L_HOST = lower('host');
const L_COOKIE = lower('cookie');
const L_CONTENT_LENGTH = lower('content-length');
const L_PROTOCOL = lower(PROTOCOL_FIELD);
const L_SEC_WEBSOCKET_VERSION = lower('sec-websocket-version');

const HOST = Buffer.from('Host', 'latin1');
const COOKIE_SEP = Buffer.from('; ', 'latin1');

function named(n: Buffer, lit: Uint8Array): boolean {
  return n.length === lit.length && equalsLower(n, 0, lit);
}

/** A field HTTP/2 forbids (RFC 9113 section 8.2.2); `te` only with `trailers`. */
function connectionSpecific(name: Buffer, value: Buffer): boolean {
  switch (name.length) {
    case 2:
      return named(name, L_TE) && !(value.length === 8 && equalsLower(value, 0, L_TRAILERS));
    case 7:
      return named(name, L_UPGRADE);
    case 10:
      return named(name, L_CONNECTION) || named(name, L_KEEP_ALIVE);
    case 16:
      return named(name, L_PROXY_CONNECTION);
    case 17:
      return named(name, L_TRANSFER_ENCODING);
    default:
      return false;
  }
}

/** Lower-case names the `Connection` fields list (they are connection-specific too). */
function connectionOptions(fields: HeaderPairs): Set<string> | null {
  let out: Set<string> | null = null;
  for (let i = 0; i < fields.length; i++) {
    const [n, v] = fields[i]!;
    if (!named(n, L_CONNECTION)) continue;
    for (const token of latin1(v, 0, v.length).split(',')) {
      const t = token.trim().toLowerCase();
      if (t) (out ??= new Set()).add(t);
    }
  }
  return out;
}

/**
 * The fields of a message from HTTP/1 as HTTP/2 allows them: connection-specific fields and the
 * fields `Connection` names dropped, `Host` too when `dropHost` (it became `:authority`).
 * Returns `fields` itself when nothing is dropped.
 */
export function toH2Fields(fields: HeaderPairs, dropHost: boolean): HeaderPairs {
  let out: HeaderPairs | null = null;
  const listed = connectionOptions(fields);
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const n = f[0];
    const drop =
      connectionSpecific(n, f[1]) ||
      (dropHost && named(n, L_HOST)) ||
      (listed !== null && listed.has(latin1(n, 0, n.length).toLowerCase()));
    if (drop) out ??= fields.slice(0, i);
    else if (out !== null) out.push(f);
  }
  return out ?? fields;
}

/** The first value of a field, or undefined. */
function firstValue(fields: HeaderPairs, lit: Uint8Array): Buffer | undefined {
  for (let i = 0; i < fields.length; i++) if (named(fields[i]![0], lit)) return fields[i]![1];
  return undefined;
}

/**
 * What goes out on an HTTP/2 stream for this request. From an HTTP/2 client the fields go on as
 * they are (a `host` field included, as mitmproxy), checked only when an addon changed them;
 * from HTTP/1, `Host` (else the request's authority, else host and port) becomes `:authority`
 * and connection-specific fields are dropped. With `lengthMayChange` (a stream function
 * transforms the body) a declared content-length is dropped.
 */
export function h2RequestInit(req: Request, from: ReceivedRequest | null, lengthMayChange: boolean): Http2RequestInit {
  let fields = req.headers.fields;
  let protocol = '';
  if (req.method === 'CONNECT') {
    // an extended CONNECT (RFC 8441): the flow keeps `:protocol` as a field, the wire as a pseudo-header
    const at = fields.findIndex(([n]) => named(n, L_PROTOCOL));
    if (at >= 0) {
      protocol = textOf(fields[at]![1]);
      fields = fields.filter((_, i) => i !== at);
      from = null;
    }
  }
  let authority: string;
  if (req.httpVersion === HTTP2) {
    if (from === null || fields !== from.headers) fields = toH2Fields(fields, false);
    authority = req.authority || textOf(firstValue(fields, L_HOST)) || hostHeaderValue(req.host, req.port, req.scheme);
  } else {
    const host = firstValue(fields, L_HOST);
    authority =
      host !== undefined
        ? latin1(host, 0, host.length)
        : req.authority || hostHeaderValue(req.host, req.port, req.scheme);
    fields = toH2Fields(fields, true);
  }
  if (lengthMayChange) fields = fields.filter(([n]) => !named(n, L_CONTENT_LENGTH));
  const init: Http2RequestInit = { method: req.method, scheme: req.scheme, authority, path: req.path, headers: fields };
  if (protocol !== '') init.protocol = protocol;
  return init;
}

function textOf(b: Buffer | undefined): string {
  return b === undefined ? '' : latin1(b, 0, b.length);
}

/**
 * The fields of a request that came over HTTP/2, for an HTTP/1 server: `Host` first (from
 * `:authority`, else host and port) unless the request has one, and the cookie crumbs joined
 * into one `cookie` field with `; ` (RFC 9113 section 8.2.3). Other requests: their fields.
 */
export function h1RequestFields(req: Request): HeaderPairs {
  const fields = req.headers.fields;
  if (req.httpVersion !== HTTP2) return fields;
  const out: HeaderPairs = [];
  if (firstValue(fields, L_HOST) === undefined)
    out.push([HOST, Buffer.from(req.authority || hostHeaderValue(req.host, req.port, req.scheme), 'latin1')]);
  if (h1Method(req) !== req.method) {
    // a WebSocket extended CONNECT (RFC 8441) becomes an HTTP/1.1 Upgrade request (RFC 6455 section 4.1)
    out.push(...WEBSOCKET_UPGRADE, [SEC_WEBSOCKET_KEY, Buffer.from(generateKey(), 'latin1')]);
    if (firstValue(fields, L_SEC_WEBSOCKET_VERSION) === undefined)
      out.push([SEC_WEBSOCKET_VERSION, Buffer.from(WEBSOCKET_VERSION, 'latin1')]);
  }
  let cookieAt = -1;
  const crumbs: Buffer[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (named(f[0], L_PROTOCOL)) continue;
    if (named(f[0], L_COOKIE)) {
      if (cookieAt < 0) {
        cookieAt = out.length;
        out.push(f);
      }
      if (crumbs.length > 0) crumbs.push(COOKIE_SEP);
      crumbs.push(f[1]);
    } else {
      out.push(f);
    }
  }
  if (crumbs.length > 1) out[cookieAt] = [out[cookieAt]![0], Buffer.concat(crumbs)];
  return out;
}

const WEBSOCKET_UPGRADE: HeaderPairs = [
  [Buffer.from('Connection', 'latin1'), Buffer.from('Upgrade', 'latin1')],
  [Buffer.from('Upgrade', 'latin1'), Buffer.from('websocket', 'latin1')],
];
const SEC_WEBSOCKET_KEY = Buffer.from('Sec-WebSocket-Key', 'latin1');
const SEC_WEBSOCKET_VERSION = Buffer.from('Sec-WebSocket-Version', 'latin1');

/** The method on an HTTP/1 start line: a WebSocket extended CONNECT from HTTP/2 goes as the GET of an Upgrade request. */
export function h1Method(req: Request): string {
  return req.httpVersion === HTTP2 && isWebSocketTunnel(req.method, req.headers) ? 'GET' : req.method;
}

/** The HTTP version on an HTTP/1 start line for a message (one that came over HTTP/2 goes as HTTP/1.1). */
export function h1Version(httpVersion: string): string {
  return httpVersion === HTTP2 ? 'HTTP/1.1' : httpVersion;
}

/**
 * The reason phrase on an HTTP/1 status line: a response that came over HTTP/2 has none, so it
 * gets the standard phrase for its status (as mitmproxy); others keep theirs.
 */
export function h1Reason(r: {
  readonly httpVersion: string;
  readonly statusCode: number;
  readonly reason: string;
}): string {
  return r.httpVersion === HTTP2 && r.reason === '' ? (RESPONSES[r.statusCode] ?? '') : r.reason;
}
