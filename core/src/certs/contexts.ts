import { randomBytes } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { CertEntry } from './store.js';

/**
 * Handshakes a certificate is served through the shared context before it gets a context of
 * its own. A shared-context handshake costs one certificate parse (~0.25 ms); a context of its
 * own costs a parse of the key and the certificate plus a new OpenSSL context (~0.9 ms) once,
 * then nothing. Most never-seen hosts are visited by one or two connections.
 */
export const OWN_CONTEXT_AFTER = 2;

/** The certificate chain an entry presents, as one PEM string (the leaf first). */
export function chainText(entry: CertEntry): string {
  return entry.chainPem.length > 0 ? entry.certPem + entry.chainPem.join('') : entry.certPem;
}

/** The native half of a Node SecureContext (internal API, present since Node 0.x). */
interface NativeContext {
  setCert(pem: string | Buffer): void;
}

/**
 * The TLS secure contexts of a certificate store.
 *
 * - `own(entry)`: a context presenting `entry` (key, certificate + chain, DH parameters, plus the
 *   store's options), created on first use and cached per entry.
 * - `forHandshake(entry)`: the cheapest context presenting `entry` for ONE TLS socket created
 *   synchronously afterwards. Entries whose key is the shared leaf key (and that have no chain)
 *   are served through one shared context holding that key: only the certificate is swapped
 *   in. OpenSSL copies a context's certificate and key into each connection when the
 *   connection is created (SSL_new; documented in SSL_CTX_use_certificate(3)), so the next swap
 *   does not affect sockets that exist already. After `OWN_CONTEXT_AFTER` handshakes an entry
 *   gets its own context.
 *
 * All contexts share one set of session ticket keys (random, per store), so a client resumes
 * its TLS session whichever context served it before (Node gives each context its own keys).
 */
export class SecureContexts {
  private readonly owned = new WeakMap<CertEntry, SecureContext>();
  private readonly shareCount = new WeakMap<CertEntry, number>();
  private shared: SecureContext | null = null;
  private sharedNative: NativeContext | null = null;
  private bound: CertEntry | null = null;
  private unshareable = false;

  private readonly options: SecureContextOptions;

  constructor(
    options: SecureContextOptions,
    private readonly dhparams: Buffer,
    private readonly sharedKeyPem: string,
  ) {
    this.options = { ticketKeys: randomBytes(48), ...options };
  }

  /** The entry's own context (cached; no crypto work after the first call). */
  own(entry: CertEntry): SecureContext {
    let ctx = this.owned.get(entry);
    if (ctx === undefined) {
      ctx = createSecureContext({ ...this.options, key: entry.keyPem, cert: chainText(entry), dhparam: this.dhparams });
      this.owned.set(entry, ctx);
      this.shareCount.delete(entry);
    }
    return ctx;
  }

  /** A new, uncached context for a certificate chain and key given as PEM (store options apply). */
  fromPem(cert: string | Buffer | Array<string | Buffer>, key: string | Buffer): SecureContext {
    return createSecureContext({ ...this.options, key, cert, dhparam: this.dhparams });
  }

  /**
   * A context presenting `entry`, valid for a TLS socket created before control returns to the
   * event loop (the shared context may present another certificate after the next call).
   */
  forHandshake(entry: CertEntry): SecureContext {
    const ctx = this.owned.get(entry);
    if (ctx !== undefined) return ctx;
    if (entry.keyPem !== this.sharedKeyPem || entry.chainPem.length > 0) return this.own(entry);
    const n = (this.shareCount.get(entry) ?? 0) + 1;
    if (n > OWN_CONTEXT_AFTER) return this.own(entry);
    this.shareCount.set(entry, n);
    return this.bind(entry);
  }

  private bind(entry: CertEntry): SecureContext {
    const native = this.sharedNative;
    if (native === null) return this.createShared(entry);
    if (this.bound !== entry) {
      native.setCert(entry.certPem);
      this.bound = entry;
    }
    return this.shared!;
  }

  private createShared(entry: CertEntry): SecureContext {
    if (this.unshareable) return this.own(entry);
    const ctx = createSecureContext({
      ...this.options,
      key: this.sharedKeyPem,
      cert: entry.certPem,
      dhparam: this.dhparams,
    });
    const native = (ctx as unknown as { context?: Partial<NativeContext> }).context;
    if (typeof native?.setCert !== 'function') {
      // Without the internal setter (a future Node), every entry gets its own context: this one.
      this.unshareable = true;
      this.owned.set(entry, ctx);
      return ctx;
    }
    this.shared = ctx;
    this.sharedNative = native as NativeContext;
    this.bound = entry;
    return ctx;
  }
}
