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

/** `[["CN", "a"], ["O", "b"]]` as `CN=a, O=b`. */
const dn = (pairs: Array<[string, string]>): string => pairs.map(([k, v]) => `${k}=${v}`).join(', ');

/** One certificate as a JSON summary; `{error}` if unparsable. */
export function certJson(cert: Cert): JsonValue {
  const key = cert.toPem().toString('latin1');
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let out: JsonObject;
  try {
    out = {
      subject: dn(cert.subject),
      issuer: dn(cert.issuer),
      sans: cert.altnames,
      not_before: cert.notbefore.toISOString(),
      not_after: cert.notafter.toISOString(),
      serial: cert.x509.serialNumber,
      sha256: cert.x509.fingerprint256.replace(/:/g, '').toLowerCase(),
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
