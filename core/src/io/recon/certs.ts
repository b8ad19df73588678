/**
 * Certificates in `mitmts flows` output: subject, issuer, names, validity and fingerprint of the
 * PEM certificates a flow carries (the server's chain, the client's, the one mitmts forged),
 * read with Node's native X.509 parser. A capture holds the same few certificates thousands of
 * times, so summaries are cached by their PEM.
 */
import type { Cert } from '../../certs/cert.js';
import type { JsonObject, JsonValue } from './json.js';

const cache = new Map<string, JsonValue>();
const CACHE_LIMIT = 1000;

/** `CN=a\nO=b` (Node's form) as `CN=a, O=b`. */
const dn = (s: string): string => s.split('\n').filter(Boolean).join(', ');

/** `DNS:a, IP Address:1.2.3.4` as `["a", "IP:1.2.3.4"]` (DNS names bare, other kinds prefixed). */
function sans(s: string | undefined): string[] {
  if (!s) return [];
  return s.split(/,\s*/).map((n) => (n.startsWith('DNS:') ? n.slice(4) : n.replace(/^IP Address:/, 'IP:')));
}

const iso = (s: string): string => {
  const t = Date.parse(s);
  return Number.isNaN(t) ? s : new Date(t).toISOString();
};

/** One certificate as a JSON summary; `{error}` if unparsable. */
export function certJson(cert: Cert): JsonValue {
  const key = cert.toPem().toString('latin1');
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let out: JsonObject;
  try {
    const c = cert.x509;
    out = {
      subject: dn(c.subject),
      issuer: dn(c.issuer),
      sans: sans(c.subjectAltName),
      not_before: iso(c.validFrom),
      not_after: iso(c.validTo),
      serial: c.serialNumber,
      sha256: c.fingerprint256.replace(/:/g, '').toLowerCase(),
    };
  } catch (e) {
    out = { error: `unreadable certificate: ${(e as Error).message}` };
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, out);
  return out;
}

/** A certificate list (leaf first) as summaries. */
export const certListJson = (list: readonly Cert[]): JsonValue => list.map(certJson);
