/**
 * Alt-Svc header values (RFC 7838): `clear`, or alternatives `protocol-id="host:port"; ma=...`
 * separated by commas. Pure helpers, no I/O.
 */

/** Protocols mitmts cannot carry: HTTP/3 (final and drafts) and Google's QUIC. A client that used them would leave the proxy. */
const UNSUPPORTED = /^(h3(-.*)?|quic)$/i;

/** Split at commas outside quoted strings. */
function alternatives(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    if (c === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((a) => a.trim()).filter((a) => a !== '');
}

/**
 * The value without HTTP/3 and QUIC alternatives; with `port`, every alternative authority
 * (`"host:443"`, `":443"`) points at that port on the proxy (`":8080"`), as mitmproxy rewrites
 * it in reverse mode. Null when no alternative is left (drop the header). `clear` stays.
 */
export function rewriteAltSvc(value: string, port: number | null): string | null {
  if (value.trim().toLowerCase() === 'clear') return value;
  const kept = alternatives(value).filter((a) => !UNSUPPORTED.test(decodeURIComponent(a.split('=')[0]!.trim())));
  if (kept.length === 0) return null;
  const joined = kept.join(', ');
  return port === null ? joined : joined.replace(/([a-zA-Z0-9.-]*:\d{1,5})/g, `:${port}`);
}
