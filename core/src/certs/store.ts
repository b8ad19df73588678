import type { KeyObject } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import type { SecureContext, SecureContextOptions } from 'node:tls';
import { Cert } from './cert.js';
import { chainText, SecureContexts } from './contexts.js';
import { createEmptyCrl } from './crl.js';
import { pemBlocks, toPem } from './der.js';
import { CertError } from './errors.js';
import { caPaths, expandHome, loadDhparam, loadPrivateKey, readCa, writeNewCa, type CaPaths } from './files.js';
import { LeafFactory } from './leaf.js';
import { caLeafKey, createLeafKey, type LeafKey, type LeafKeyType } from './leafkey.js';
import { asteriskForms, normalizeName } from './names.js';
import { crlPath, selectNames, type NameSelectionInput, type SelectedNames } from './select.js';
import { signerFor, type Signer } from './sign.js';

/** Severity of a message the store reports through its `log` callback. */
export type CertLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Receives the store's messages (expired CA, CA certificate given as a serving cert, ...). */
export type CertLog = (level: CertLogLevel, msg: string) => void;

/** Options of `CertStore.fromConfdir`. */
export interface CertStoreOptions {
  /** File name prefix: `<basename>-ca.pem` etc. Also the new CA's CN and O. Default `mitmproxy`. */
  basename?: string;
  /** RSA key size of a newly created CA (option `key_size`). Default 2048. */
  keySize?: number;
  /** Passphrase of the CA key and of keys in custom certificate files (option `cert_passphrase`). */
  passphrase?: string | null;
  /** Where warnings go, besides `CertStore.warnings`. */
  log?: CertLog;
  /** Extra options for every secure context `secureContext()` creates (ciphers, minVersion, ...). */
  secureContextOptions?: SecureContextOptions;
  /** How many generated certificates to keep (least recently used are evicted). Default 100. */
  cacheSize?: number;
  /**
   * The key pair of generated leaves: one ECDSA P-256 key per store (`'ecdsa'`, default), or
   * the CA's own key pair as mitmproxy does (`'ca'`). See `LeafKeyType`.
   */
  leafKey?: LeafKeyType;
}

/** A certificate the proxy can present: the leaf, its key, and the chain served after it. */
export interface CertEntry {
  readonly cert: Cert;
  /** The leaf certificate, PEM. */
  readonly certPem: string;
  /** The private key for the leaf, unencrypted PEM (for generated leaves: the shared leaf key). */
  readonly keyPem: string;
  /** PEM certificates served after the leaf (intermediates, CA), possibly empty. */
  readonly chainPem: readonly string[];
}

interface StoreInit {
  paths: CaPaths;
  ca: Cert;
  caKey: KeyObject;
  extraChainPem: string[];
  dhparams: Buffer;
  warnings: string[];
  opts: CertStoreOptions;
}

/**
 * The proxy's certificates: the CA (mitmproxy-compatible files in the confdir), generated leaf
 * certificates per host (signed by the CA, cached), user-supplied serving certificates (`certs`
 * option), and TLS secure contexts presenting them.
 *
 * Generated leaves all carry one shared ECDSA P-256 key pair made when the store opens (unlike
 * mitmproxy, whose leaves carry the CA's RSA key pair; `leafKey: 'ca'` restores that): the CA
 * still signs every leaf, but the signature each handshake needs is ~10x cheaper. See
 * `core/src/certs/README.md`.
 *
 * Hot path: for a known host, `getCert` is a few map lookups and `handshakeContext` a WeakMap
 * hit. A new host costs one forge TBS encoding + one native RSA signature by the CA (~0.35 ms),
 * and its first handshakes one certificate parse each on the shared context (~0.25 ms).
 */
export class CertStore {
  /** Default number of generated certificates kept (mitmproxy's STORE_CAP). */
  static readonly STORE_CAP = 100;

  /** The CA certificate. */
  readonly ca: Cert;
  /** The CA certificate, PEM (what clients install). */
  readonly caCertPem: string;
  /** The files this store was loaded from. */
  readonly paths: CaPaths;
  /** Contents of the DH parameters file, passed to every secure context. */
  readonly dhparams: Buffer;
  /** Warnings found while loading (also sent to `log`). */
  readonly warnings: string[];

  /** Which key pair generated leaves carry. */
  readonly leafKeyType: LeafKeyType;

  private readonly caKey: KeyObject;
  private caKeyPemCache: string | null = null;
  private caSerial: bigint | undefined;
  private readonly signer: Signer;
  private readonly leafKey: LeafKey;
  private readonly leaves: LeafFactory;
  private readonly defaultChainPem: readonly string[];
  private readonly passphrase: string | null;
  private readonly log: CertLog | undefined;
  private readonly contexts: SecureContexts;
  private readonly cap: number;
  private readonly generated = new Map<string, CertEntry>();
  private readonly custom = new Map<string, CertEntry>();

  private constructor(init: StoreInit) {
    this.paths = init.paths;
    this.ca = init.ca;
    this.caCertPem = init.ca.toPem().toString('latin1');
    this.caKey = init.caKey;
    this.signer = signerFor(init.caKey);
    this.leafKeyType = init.opts.leafKey ?? 'ecdsa';
    this.leafKey =
      this.leafKeyType === 'ca' ? caLeafKey(init.caKey, init.ca.tbs().publicKey, this.caKeyPem) : createLeafKey();
    this.leaves = new LeafFactory(init.ca, this.signer, this.leafKey.spki);
    // With extra certificates in the CA file, mitmproxy serves the CA file as the chain.
    this.defaultChainPem = init.extraChainPem.length > 0 ? [this.caCertPem, ...init.extraChainPem] : [];
    this.dhparams = init.dhparams;
    this.warnings = init.warnings;
    this.passphrase = init.opts.passphrase ?? null;
    this.log = init.opts.log;
    this.contexts = new SecureContexts(init.opts.secureContextOptions ?? {}, this.dhparams, this.leafKey.pem);
    this.cap = init.opts.cacheSize ?? CertStore.STORE_CAP;
    for (const w of this.warnings) this.log?.('warn', w);
  }

  /**
   * Open the CA in `confdir` (`~` expanded), creating the directory and a new CA with all of
   * mitmproxy's files if `<basename>-ca.pem` does not exist. Existing files (made by mitmproxy
   * or by mitmts) are used as they are; a missing DH parameters file is recreated.
   *
   * @throws CertError `MITMTS_ERR_CA_INVALID`, `MITMTS_ERR_CERT_PASSPHRASE`, `MITMTS_ERR_CERT_KEY_MISMATCH`
   */
  static async fromConfdir(confdir: string, opts: CertStoreOptions = {}): Promise<CertStore> {
    const basename = opts.basename ?? 'mitmproxy';
    const paths = caPaths(confdir, basename);
    const created = !(await exists(paths.caPem));
    if (created) await writeNewCa(paths, basename, opts.keySize ?? 2048);
    const loaded = await readCa(paths.caPem, opts.passphrase ?? null);
    // Said once, when the CA is made; after that only in the debug log (-v).
    opts.log?.(created ? 'info' : 'debug', caNotice(paths, created));
    const dhparams = await loadDhparam(paths.dhparam);
    const warnings: string[] = [];
    if (loaded.cert.hasExpired) {
      warnings.push(
        `The certificate authority in ${paths.caPem} expired on ${loaded.cert.notafter.toISOString()}: clients will reject ` +
          `every intercepted connection. Delete the ${basename}-ca* files in ${paths.confdir} and restart to create a new CA, ` +
          'then install the new CA certificate in your clients.',
      );
    }
    return new CertStore({
      paths,
      ca: loaded.cert,
      caKey: loaded.key,
      extraChainPem: loaded.extraChainPem,
      dhparams,
      warnings,
      opts,
    });
  }

  /**
   * The certificate to present for these names. Lookup order (first hit wins): user-supplied
   * certificates registered under the CN or its wildcard forms (`*.example.com`, `*.com`), then
   * under each SAN and its wildcard forms, then under `*`; then a generated certificate for
   * exactly (CN, SANs), created on a miss and cached (at most `cacheSize`, least recently used
   * evicted). Names are normalized: IPs to canonical text (IP SANs), non-ASCII names IDNA-encoded.
   *
   * `organization` and `crlUrl` only affect a newly generated certificate (the cache key is
   * (CN, SANs), as in mitmproxy).
   */
  getCert(
    commonName: string | null,
    sans: readonly string[],
    organization: string | null = null,
    crlUrl: string | null = null,
  ): CertEntry {
    const cn = commonName === null ? null : normalizeName(commonName);
    const names = normalizeAll(sans);
    if (this.custom.size > 0) {
      const hit = this.lookupCustom(cn, names);
      if (hit) return hit;
    }
    const key = (cn ?? '\u0001') + '\u0000' + names.join('\u0000');
    const cached = this.generated.get(key);
    if (cached) {
      // Move to the most recently used end.
      this.generated.delete(key);
      this.generated.set(key, cached);
      return cached;
    }
    const entry = this.newEntry(cn, names, organization, crlUrl);
    this.generated.set(key, entry);
    if (this.generated.size > this.cap) this.generated.delete(this.generated.keys().next().value!);
    return entry;
  }

  /**
   * A TLS secure context presenting `entry` (key, certificate + chain, DH parameters, plus the
   * store's `secureContextOptions`), its own. Cached per entry: for a known host this does no
   * crypto work. To accept one connection, `handshakeContext` is cheaper for a new host.
   */
  secureContext(entry: CertEntry): SecureContext {
    return this.contexts.own(entry);
  }

  /**
   * A TLS secure context presenting `entry` to ONE server-side TLS socket, which must be created
   * before control returns to the event loop (`new tls.TLSSocket(socket, { isServer: true,
   * secureContext })` right after this call): a generated leaf's first handshakes are served by a
   * context shared by all generated leaves, on which only the certificate is swapped (one parse
   * instead of a new context and a key parse); a leaf used more often gets its own context.
   */
  handshakeContext(entry: CertEntry): SecureContext {
    return this.contexts.forHandshake(entry);
  }

  /**
   * A new, uncached secure context for a certificate chain and private key given as PEM, with the
   * store's `secureContextOptions` and DH parameters (e.g. what an addon put into the TLS
   * settings of `tls_start_client`).
   */
  secureContextFromPem(cert: string | Buffer | Array<string | Buffer>, key: string | Buffer): SecureContext {
    return this.contexts.fromPem(cert, key);
  }

  /** The certificate chain `entry` presents, as one PEM string (the leaf first). */
  chainText(entry: CertEntry): string {
    return chainText(entry);
  }

  /**
   * Do the one-time work of a process's first interception now (e.g. right after start-up), so
   * that the first client does not wait for it: issue a throwaway leaf (not cached: the first
   * CA signature, the certificate encoder's first run) and load the shared leaf key into its
   * context (OpenSSL's first context). About 3 ms of CPU, some 0.2 MiB.
   */
  warmUp(): void {
    const name = 'mitmts-warm-up.invalid';
    this.handshakeContext(this.newEntry(name, [name], null, null));
  }

  /** `selectNames` with the CA serial filled in (for the CRL URL). */
  selectNames(input: NameSelectionInput): SelectedNames {
    return selectNames({ ...input, caSerial: (this.caSerial ??= this.ca.serial) });
  }

  /** The request path answered with `emptyCrl()`: `/mitmproxy-<CA serial>.crl`. */
  get crlPath(): string {
    return crlPath((this.caSerial ??= this.ca.serial));
  }

  /** A freshly signed empty CRL (DER, valid 7 days), for requests whose path ends with `crlPath`. */
  emptyCrl(): Buffer {
    return createEmptyCrl(this.ca, this.signer);
  }

  /** Number of generated certificates currently cached. */
  get generatedCount(): number {
    return this.generated.size;
  }

  /**
   * Register a certificate under its CN, all its SANs and the given extra names (`*` matches
   * every host).
   */
  addCert(entry: CertEntry, ...names: string[]): void {
    const cn = entry.cert.cn;
    if (cn) this.custom.set(normalizeName(cn) ?? cn, entry);
    for (const alt of entry.cert.altnames) this.custom.set(normalizeName(alt) ?? alt, entry);
    for (const n of names) this.custom.set(n === '*' ? n : (normalizeName(n) ?? n), entry);
  }

  /**
   * Add a serving certificate from a `certs` option spec, `[domain=]path` (domain defaults to
   * `*`). The PEM file holds the leaf certificate first, then an optional chain, and the private
   * key; without a key in the file, the CA key must match the certificate. Keys are decrypted
   * with `passphrase` (default: the store's). A CA certificate is accepted with a warning.
   *
   * @throws CertError `MITMTS_ERR_CERT_FILE_MISSING`, `MITMTS_ERR_CERT_FILE_INVALID`,
   *   `MITMTS_ERR_CERT_KEY_MISMATCH`, `MITMTS_ERR_CERT_KEY_MISSING`, `MITMTS_ERR_CERT_PASSPHRASE`
   */
  async addCertFromSpec(spec: string, passphrase: string | null = this.passphrase): Promise<CertEntry> {
    const eq = spec.indexOf('=');
    const domain = eq === -1 ? '*' : spec.slice(0, eq);
    const path = expandHome(eq === -1 ? spec : spec.slice(eq + 1));
    let text: string;
    try {
      text = await readFile(path, 'latin1');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new CertError(
          'MITMTS_ERR_CERT_FILE_MISSING',
          `Certificate file does not exist: ${path} (certs option "${spec}").`,
          path,
          { cause: e },
        );
      }
      throw new CertError(
        'MITMTS_ERR_CERT_FILE_INVALID',
        `Cannot read certificate file ${path} (certs option "${spec}"): ${(e as Error).message}`,
        path,
        { cause: e },
      );
    }
    const entry = this.entryFromPem(text, path, passphrase);
    if (entry.cert.isCa) {
      const w =
        `${path} is a certificate authority, not a leaf certificate (certs option "${spec}"). Clients will not accept it ` +
        'as a server certificate: give the CA to the store as its CA files in the confdir instead.';
      this.warnings.push(w);
      this.log?.('warn', w);
    }
    this.addCert(entry, domain);
    return entry;
  }

  private entryFromPem(text: string, path: string, passphrase: string | null): CertEntry {
    const blocks = pemBlocks(text);
    const certs = blocks.filter((b) => b.label === 'CERTIFICATE');
    if (certs.length === 0) {
      throw new CertError(
        'MITMTS_ERR_CERT_FILE_INVALID',
        `No certificate in ${path}: the file must hold a PEM certificate (leaf first, then any chain) and its private key.`,
        path,
      );
    }
    let cert: Cert;
    try {
      cert = Cert.fromPem(certs[0]!.pem);
    } catch (e) {
      throw new CertError(
        'MITMTS_ERR_CERT_FILE_INVALID',
        `Cannot parse the first certificate in ${path}: ${(e as Error).message}`,
        path,
        { cause: e },
      );
    }
    const keyBlock = blocks.find((b) => b.label.endsWith('PRIVATE KEY'));
    let keyPem: string;
    if (keyBlock) {
      const key = loadPrivateKey(keyBlock.pem, passphrase, path);
      if (!cert.x509.checkPrivateKey(key)) {
        throw new CertError(
          'MITMTS_ERR_CERT_KEY_MISMATCH',
          `The private key and the certificate in ${path} do not match: put the certificate's own key in the file.`,
          path,
        );
      }
      keyPem = exportKeyPem(key);
    } else {
      if (!cert.x509.checkPrivateKey(this.caKey)) {
        throw new CertError(
          'MITMTS_ERR_CERT_KEY_MISSING',
          `No private key in ${path}, and the certificate was not made for the CA's key: append the certificate's private key (PEM) to the file.`,
          path,
        );
      }
      keyPem = this.caKeyPem;
    }
    return { cert, certPem: certs[0]!.pem, keyPem, chainPem: certs.slice(1).map((b) => b.pem) };
  }

  private newEntry(
    cn: string | null,
    sans: readonly string[],
    organization: string | null,
    crlUrl: string | null,
  ): CertEntry {
    const der = this.leaves.create({ commonName: cn, sans, organization, crlUrl });
    const certPem = toPem('CERTIFICATE', der);
    return { cert: Cert.lazyFromDer(der, certPem), certPem, keyPem: this.leafKey.pem, chainPem: this.defaultChainPem };
  }

  /** The CA key's PEM (custom certificates made for the CA key, and `leafKey: 'ca'`). */
  private get caKeyPem(): string {
    return (this.caKeyPemCache ??= exportKeyPem(this.caKey));
  }

  private lookupCustom(cn: string | null, sans: readonly string[]): CertEntry | undefined {
    if (cn !== null) {
      for (const k of asteriskForms(cn)) {
        const hit = this.custom.get(k);
        if (hit) return hit;
      }
    }
    for (const s of sans) {
      for (const k of asteriskForms(s)) {
        const hit = this.custom.get(k);
        if (hit) return hit;
      }
    }
    return this.custom.get('*');
  }
}

function normalizeAll(sans: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of sans) {
    const n = normalizeName(s);
    if (n !== null && !out.includes(n)) out.push(n);
  }
  return out;
}

/** Unencrypted PEM of a private key: PKCS#1 for RSA (as mitmproxy writes it), PKCS#8 otherwise. */
function exportKeyPem(key: KeyObject): string {
  const type = key.asymmetricKeyType === 'rsa' ? 'pkcs1' : 'pkcs8';
  return key.export({ type, format: 'pem' }) as string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Where the CA is and how clients come to trust it. */
function caNotice(paths: CaPaths, created: boolean): string {
  if (!created) return `Using the certificate authority in ${paths.caPem} (clients trust ${paths.caCertPem}).`;
  return (
    `Created a new certificate authority in ${paths.confdir}. To intercept HTTPS, clients must trust its certificate ` +
    `${paths.caCertPem}: open http://mitm.it through the proxy for install steps per system, or point tools at the file ` +
    '(curl --cacert, NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE, SSL_CERT_FILE, Java keytool -importcert).'
  );
}
