/**
 * Request-target parsing (RFC 9112 section 3.2): origin, absolute, authority and asterisk form.
 * @internal
 */
import { HOST } from './chars.js';
import { HeadError, Http1ErrorCodes } from './errors.js';
import type { TargetParts } from './types.js';

const BAD = Http1ErrorCodes.BAD_TARGET;

/**
 * Splits `target` according to its form. `offset` is where the target starts in the head, for
 * error positions. CONNECT must use authority form and only CONNECT may; `*` is for OPTIONS.
 */
export function parseTarget(method: string, target: string, offset: number, out: TargetParts): void {
  const c0 = target.charCodeAt(0);
  if (method === 'CONNECT') {
    out.form = 'authority';
    out.authority = target;
    parseAuthority(target, 0, target.length, offset, out, -1);
    return;
  }
  if (c0 === 0x2f /* / */) {
    out.form = 'origin';
    out.path = target;
    return;
  }
  if (target === '*') {
    if (method !== 'OPTIONS') {
      throw new HeadError(BAD, `Request-target "*" is only allowed with OPTIONS, not ${method}.`, offset);
    }
    out.form = 'asterisk';
    out.path = '*';
    return;
  }
  const sep = target.indexOf('://');
  if (sep <= 0) {
    throw new HeadError(
      BAD,
      `Invalid request-target "${clip(target)}": expected "/path" (origin form) or "http://host/path" (absolute form).`,
      offset,
    );
  }
  const scheme = target.slice(0, sep).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') {
    throw new HeadError(
      BAD,
      `Unsupported URL scheme "${clip(target.slice(0, sep))}" in request-target; only http and https are proxied.`,
      offset,
    );
  }
  const authStart = sep + 3;
  let authEnd = authStart;
  while (authEnd < target.length) {
    const c = target.charCodeAt(authEnd);
    if (c === 0x2f || c === 0x3f || c === 0x23) break; // / ? #
    authEnd++;
  }
  out.form = 'absolute';
  out.scheme = scheme;
  out.authority = target.slice(authStart, authEnd);
  parseAuthority(target, authStart, authEnd, offset, out, scheme === 'https' ? 443 : 80);
  const rest = target.slice(authEnd);
  out.path = rest === '' ? '/' : rest.charCodeAt(0) === 0x2f ? rest : '/' + rest;
}

/** Parses `host[:port]` in `s[start..end)`; `defaultPort` -1 means the port is required. */
function parseAuthority(
  s: string,
  start: number,
  end: number,
  offset: number,
  out: TargetParts,
  defaultPort: number,
): void {
  const text = s.slice(start, end);
  if (start === end) throw new HeadError(BAD, 'Empty host in request-target.', offset + start);
  let hostEnd: number;
  let portStart: number;
  if (s.charCodeAt(start) === 0x5b /* [ */) {
    const close = s.indexOf(']', start);
    if (close < 0 || close >= end)
      throw new HeadError(BAD, `Unclosed IPv6 literal in "${clip(text)}".`, offset + start);
    out.host = s.slice(start + 1, close);
    if (!/^[0-9A-Fa-f:.]+(%25[A-Za-z0-9._~-]+)?$/.test(out.host)) {
      throw new HeadError(BAD, `Invalid IPv6 literal in "${clip(text)}".`, offset + start);
    }
    hostEnd = close + 1;
    if (hostEnd !== end && s.charCodeAt(hostEnd) !== 0x3a) {
      throw new HeadError(BAD, `Unexpected character after "]" in "${clip(text)}".`, offset + hostEnd);
    }
    portStart = hostEnd === end ? -1 : hostEnd + 1;
  } else {
    const colon = s.lastIndexOf(':', end - 1);
    hostEnd = colon >= start ? colon : end;
    portStart = colon >= start ? colon + 1 : -1;
    for (let i = start; i < hostEnd; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x40 /* @ */) {
        throw new HeadError(
          BAD,
          `User info ("user@host") is not allowed in request-target "${clip(text)}".`,
          offset + i,
        );
      }
      if (c > 0xff || HOST[c] !== 1 || c === 0x3a || c === 0x5b || c === 0x5d) {
        throw new HeadError(BAD, `Invalid character ${JSON.stringify(s[i])} in host "${clip(text)}".`, offset + i);
      }
    }
    if (hostEnd === start) throw new HeadError(BAD, `Empty host in "${clip(text)}".`, offset + start);
    out.host = s.slice(start, hostEnd);
  }
  if (portStart < 0) {
    if (defaultPort < 0) {
      throw new HeadError(BAD, `CONNECT target "${clip(text)}" needs a port ("host:port").`, offset + start);
    }
    out.port = defaultPort;
    return;
  }
  let port = 0;
  const digits = end - portStart;
  for (let i = portStart; i < end; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) throw new HeadError(BAD, `Invalid port in "${clip(text)}".`, offset + i);
    port = port * 10 + d;
  }
  if (digits === 0 || digits > 5 || port === 0 || port > 65535) {
    throw new HeadError(BAD, `Invalid port in "${clip(text)}": expected 1-65535.`, offset + portStart);
  }
  out.port = port;
}

function clip(s: string): string {
  const t = s.length > 60 ? s.slice(0, 60) + '...' : s;
  return JSON.stringify(t).slice(1, -1);
}
