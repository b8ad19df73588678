/**
 * mitmweb's access rules: a token (`web_password`, or a random one printed at start) given as
 * `?token=` or `Authorization: Bearer`, then remembered in an HttpOnly cookie; every request
 * that changes state carries the `_mitmproxy_xsrf` cookie's value in an `X-XSRFToken` header
 * (double-submit: another site can neither read the cookie nor send the header); and the Host
 * header must name this server when it listens on loopback (no DNS rebinding).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const AUTH_COOKIE = 'mitmts_web_auth';
export const XSRF_COOKIE = '_mitmproxy_xsrf';
export const XSRF_HEADER = 'x-xsrftoken';

/** `missing`: no credentials at all (show the login page); `wrong`: bad token (403). */
export type AuthResult = 'ok' | 'missing' | 'wrong';

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    const raw = part.slice(i + 1).trim();
    try {
      out.set(name, decodeURIComponent(raw));
    } catch {
      out.set(name, raw);
    }
  }
  return out;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** The host name of a Host header (`[::1]:8081` → `[::1]`, `Example:80` → `example`). */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const i = h.lastIndexOf(':');
  return i >= 0 && h.indexOf(':') === i ? h.slice(0, i) : h;
}

export class Auth {
  /** The cookie value that proves a browser gave the token once (the token itself never goes in a cookie). */
  private readonly proof: string;

  constructor(
    readonly token: string,
    /** web_host: when it is a loopback address, only loopback Host headers are accepted. */
    private readonly listenHost: string,
  ) {
    this.proof = createHmac('sha256', randomBytes(32)).update(token).digest('base64url');
  }

  /** A random token for when no `web_password` is set. */
  static randomToken(): string {
    return randomBytes(16).toString('hex');
  }

  check(req: IncomingMessage, url: URL): AuthResult {
    const auth = req.headers.authorization;
    const given = url.searchParams.get('token') ?? (auth?.startsWith('Bearer ') ? auth.slice(7).trim() : null);
    if (given !== null) return same(given, this.token) ? 'ok' : 'wrong';
    const cookie = parseCookies(req.headers.cookie).get(AUTH_COOKIE);
    if (cookie === undefined) return 'missing';
    return same(cookie, this.proof) ? 'ok' : 'wrong';
  }

  /** Set-Cookie value that keeps a browser logged in. */
  authCookie(): string {
    return `${AUTH_COOKIE}=${this.proof}; Path=/; HttpOnly; SameSite=Strict`;
  }

  /** Does a state-changing request carry the XSRF header matching its cookie? */
  xsrfOk(req: IncomingMessage): boolean {
    const cookie = parseCookies(req.headers.cookie).get(XSRF_COOKIE);
    const header = req.headers[XSRF_HEADER];
    return typeof cookie === 'string' && cookie.length > 0 && typeof header === 'string' && same(cookie, header);
  }

  /** Set-Cookie value for a new XSRF token (readable by the page's script, never sent cross-site). */
  static xsrfCookie(): string {
    return `${XSRF_COOKIE}=${randomBytes(16).toString('hex')}; Path=/; SameSite=Strict`;
  }

  /** Reject Host headers naming other hosts while listening on loopback (DNS rebinding). */
  hostOk(req: IncomingMessage): boolean {
    if (!LOOPBACK_NAMES.has(this.listenHost.toLowerCase()) && !this.listenHost.startsWith('127.')) return true;
    const host = req.headers.host;
    if (!host) return false;
    const name = hostName(host);
    return LOOPBACK_NAMES.has(name) || name.startsWith('127.');
  }

  /** A WebSocket's Origin (browsers always send one) must be this server. */
  originOk(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }
}
