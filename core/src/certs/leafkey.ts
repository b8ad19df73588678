import { generateKeyPairSync, type KeyObject } from 'node:crypto';

/**
 * Which key pair generated leaf certificates carry:
 * - `'ecdsa'` (default): one ECDSA P-256 key pair per store, made when the store opens and kept
 *   in memory only. The CA (RSA, as mitmproxy makes it) still signs every leaf; the key only
 *   changes what the server signs in each handshake, where P-256 costs about a tenth of RSA-2048.
 * - `'ca'`: the CA's own key pair, as mitmproxy does: for clients without ECDSA support (very old
 *   or stripped-down TLS stacks) and for DHE-RSA cipher suites.
 */
export type LeafKeyType = 'ecdsa' | 'ca';

/** The key pair every generated leaf certificate shares. */
export interface LeafKey {
  readonly key: KeyObject;
  /** DER SubjectPublicKeyInfo, copied into each leaf. */
  readonly spki: Buffer;
  /** Unencrypted PEM of the private key, what TLS secure contexts load. */
  readonly pem: string;
}

/** A new ECDSA P-256 key pair (native key generation, well under a millisecond). */
export function createLeafKey(): LeafKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    key: privateKey,
    spki: publicKey.export({ type: 'spki', format: 'der' }),
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

/** The CA's own key pair as the leaf key (mitmproxy's choice). `pem` must be the key's PEM. */
export function caLeafKey(caKey: KeyObject, caSpki: Buffer, pem: string): LeafKey {
  return { key: caKey, spki: caSpki, pem };
}
