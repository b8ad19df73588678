/**
 * The sticky-cookie jar: cookies keyed by (domain, port, path) as mitmproxy keys them, with
 * RFC 6265 domain and path matching and expiry. Pure: no flows, no I/O; times in seconds.
 */
import type { CookieAttrs } from '@mitmts/sdk';
import { cookies } from '@mitmts/sdk';

interface Stored {
  value: string;
  /** Seconds since the epoch, or null for a session cookie. */
  expires: number | null;
}

interface Origin {
  /** A lower-case host for host-only cookies, or `.domain` for cookies with a Domain attribute. */
  readonly domain: string;
  readonly port: number;
  readonly path: string;
  readonly cookies: Map<string, Stored>;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const isIp = (host: string): boolean => IPV4.test(host) || host.includes(':');

/** True if `host` (lower case) domain-matches a jar domain (`.example.com` or a host). */
export function domainMatches(host: string, domain: string): boolean {
  if (domain.charCodeAt(0) !== 0x2e) return host === domain;
  const bare = domain.slice(1);
  return host === bare || (host.endsWith(domain) && !isIp(host));
}

/** RFC 6265 path-match: `cookiePath` is `requestPath` or a prefix of it ending at a `/`. */
export function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (!requestPath.startsWith(cookiePath)) return false;
  return (
    requestPath.length === cookiePath.length ||
    cookiePath.endsWith('/') ||
    requestPath.charCodeAt(cookiePath.length) === 0x2f
  );
}

/**
 * When a cookie expires (seconds since the epoch), or null for a session cookie. Max-Age wins
 * over Expires (RFC 6265 5.3); Max-Age <= 0 and dates in the past are already expired.
 */
export function expiryOf(attrs: CookieAttrs, now: number): number | null {
  const maxAge = attrs.get('max-age');
  if (maxAge && /^-?\d+$/.test(maxAge.trim())) {
    const n = Number(maxAge.trim());
    return n <= 0 ? -Infinity : now + n;
  }
  const expires = attrs.get('expires');
  if (expires) {
    const t = cookies.parseHttpDate(expires);
    if (t !== null) return t;
  }
  return null;
}

/** Cookies remembered from responses, per (domain, port, path). */
export class CookieJar {
  private readonly origins = new Map<string, Origin>();

  /** Number of (domain, port, path) entries. */
  get size(): number {
    return this.origins.size;
  }

  /**
   * Store (or, if expired, remove) a Set-Cookie cookie received from `host:port`. Ignored when
   * its Domain attribute does not cover `host` (a server cannot set cookies for other sites).
   */
  store(host: string, port: number, name: string, value: string, attrs: CookieAttrs, now: number): void {
    const h = host.toLowerCase();
    let domain = h;
    const attr = attrs.get('domain');
    if (attr) {
      const d = attr.trim().replace(/^\.+/, '').toLowerCase();
      if (d) {
        domain = '.' + d;
        if (!domainMatches(h, domain)) return;
      }
    }
    const path = attrs.get('path') || '/';
    const key = `${domain}\0${port}\0${path}`;
    const expires = expiryOf(attrs, now);
    const origin = this.origins.get(key);
    if (expires !== null && expires <= now) {
      if (!origin) return;
      origin.cookies.delete(name);
      if (origin.cookies.size === 0) this.origins.delete(key);
      return;
    }
    if (origin) origin.cookies.set(name, { value, expires });
    else this.origins.set(key, { domain, port, path, cookies: new Map([[name, { value, expires }]]) });
  }

  /**
   * `[name, value]` pairs for a request to `host:port` with URL path `path` (no query), leaving
   * out names in `skip`. Cookies that have expired meanwhile are dropped from the jar.
   */
  cookiesFor(
    host: string,
    port: number,
    path: string,
    now: number,
    skip?: ReadonlySet<string>,
  ): Array<[string, string]> {
    const h = host.toLowerCase();
    const out: Array<[string, string]> = [];
    for (const [key, origin] of this.origins) {
      if (origin.port !== port || !domainMatches(h, origin.domain) || !pathMatches(path, origin.path)) continue;
      for (const [name, c] of origin.cookies) {
        if (c.expires !== null && c.expires <= now) {
          origin.cookies.delete(name);
          continue;
        }
        if (!skip?.has(name)) out.push([name, c.value]);
      }
      if (origin.cookies.size === 0) this.origins.delete(key);
    }
    return out;
  }

  /** Every entry, for inspection: `[domain, port, path, [[name, value], ...]]`. */
  entries(): Array<[string, number, string, Array<[string, string]>]> {
    return [...this.origins.values()].map((o) => [
      o.domain,
      o.port,
      o.path,
      [...o.cookies].map(([n, c]) => [n, c.value]),
    ]);
  }

  clear(): void {
    this.origins.clear();
  }
}
