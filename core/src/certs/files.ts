import { createPrivateKey, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createCa } from './ca.js';
import { Cert } from './cert.js';
import { pemBlocks, toPem } from './der.js';
import { DEFAULT_DHPARAM } from './dhparam.js';
import { CertError } from './errors.js';
import { toPkcs12 } from './p12.js';

/** The confdir files of one CA, named as mitmproxy names them (`<basename>-ca.pem` etc.). */
export interface CaPaths {
  confdir: string;
  /** CA private key followed by the CA certificate (and optional chain). */
  caPem: string;
  caP12: string;
  caCertPem: string;
  caCertCer: string;
  caCertP12: string;
  dhparam: string;
}

export function caPaths(confdir: string, basename: string): CaPaths {
  const dir = expandHome(confdir);
  return {
    confdir: dir,
    caPem: join(dir, `${basename}-ca.pem`),
    caP12: join(dir, `${basename}-ca.p12`),
    caCertPem: join(dir, `${basename}-ca-cert.pem`),
    caCertCer: join(dir, `${basename}-ca-cert.cer`),
    caCertP12: join(dir, `${basename}-ca-cert.p12`),
    dhparam: join(dir, `${basename}-dhparam.pem`),
  };
}

/** `~` and `~/...` -> the user's home directory. */
export function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return p;
}

/**
 * Create a new CA and write all of its files. Private-key files get mode 0600. `<basename>-ca.pem`
 * is written last (through a temporary file and a rename), so its presence means a complete set.
 */
export async function writeNewCa(paths: CaPaths, basename: string, keySize: number): Promise<void> {
  await makeConfdir(paths.confdir);
  try {
    await writeCaFiles(paths, basename, keySize);
  } catch (e) {
    throw confdirError(paths.confdir, `cannot write the new CA's files there (${errnoText(e)})`, e);
  }
}

async function writeCaFiles(paths: CaPaths, basename: string, keySize: number): Promise<void> {
  const ca = createCa({ keySize, commonName: basename, organization: basename });
  // "Traditional OpenSSL" RSA key format: -----BEGIN RSA PRIVATE KEY-----.
  const keyPem = ca.key.export({ type: 'pkcs1', format: 'pem' }) as string;
  const certPem = toPem('CERTIFICATE', ca.certDer);

  await writeSecret(paths.caP12, await toPkcs12(certPem, keyPem, basename));
  await writeFile(paths.caCertPem, certPem);
  await writeFile(paths.caCertCer, certPem);
  await writeFile(paths.caCertP12, await toPkcs12(certPem, null, basename));
  await writeFile(paths.dhparam, DEFAULT_DHPARAM);
  const tmp = `${paths.caPem}.${process.pid}.tmp`;
  await writeSecret(tmp, keyPem + certPem);
  await rename(tmp, paths.caPem);
}

/**
 * Create the confdir and its missing parents, one level at a time. Not `mkdir({ recursive })`:
 * on Node 20 it loops forever (one libuv thread at 100% CPU, and an exit that waits for it) when
 * mkdir answers ENOENT for a parent that exists, as `/proc` does.
 *
 * @throws CertError `MITMTS_ERR_CONFDIR` naming the path, the cause and the fix.
 */
export async function makeConfdir(confdir: string): Promise<void> {
  const missing: string[] = [];
  for (let p = resolve(confdir); ; p = dirname(p)) {
    try {
      if ((await stat(p)).isDirectory()) break;
      throw confdirError(confdir, `${p} is a file, not a directory`);
    } catch (e) {
      if (e instanceof CertError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') continue; // a parent is a file: the walk up finds and names it
      if (code !== 'ENOENT') throw confdirError(confdir, `cannot look at ${p} (${errnoText(e)})`, e);
      missing.push(p);
      if (dirname(p) === p) break;
    }
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue; // made meanwhile by another process
      // ENOENT for a directory whose parent exists: a file system that takes no new entries (/proc).
      const why =
        code === 'ENOENT' ? `the file system does not allow new directories there (${errnoText(e)})` : errnoText(e);
      throw confdirError(confdir, `cannot create ${dir}: ${why}`, e);
    }
  }
}

function confdirError(confdir: string, cause: string, e?: unknown): CertError {
  return new CertError(
    'MITMTS_ERR_CONFDIR',
    `Cannot use ${confdir} as the confdir: ${cause}. Choose a writable directory with the option confdir (on the command line: --set confdir=DIR).`,
    confdir,
    e === undefined ? undefined : { cause: e },
  );
}

/** `EACCES: permission denied` from a Node fs error. */
function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const detail = err.message?.match(/^[A-Z]+: ([^,]+)/)?.[1];
  return err.code ? `${err.code}${detail ? `: ${detail}` : ''}` : String(err?.message ?? e);
}

async function writeSecret(path: string, data: string | Buffer): Promise<void> {
  await writeFile(path, data, { mode: 0o600 });
  // `mode` only applies when the file is created; an existing file keeps its bits otherwise.
  await chmod(path, 0o600);
}

/** A loaded CA: its key, its certificate, and the extra certificates that followed it. */
export interface LoadedCa {
  key: KeyObject;
  cert: Cert;
  /** PEM of every certificate after the CA certificate in `<basename>-ca.pem`. */
  extraChainPem: string[];
}

/**
 * Read `<basename>-ca.pem`: a private key (PKCS#1, PKCS#8, SEC1; optionally encrypted with
 * `passphrase`) and the CA certificate, optionally followed by chain certificates.
 */
export async function readCa(path: string, passphrase: string | null): Promise<LoadedCa> {
  const text = await readFile(path, 'latin1');
  const blocks = pemBlocks(text);
  const keyBlock = blocks.find((b) => b.label.endsWith('PRIVATE KEY'));
  const certBlocks = blocks.filter((b) => b.label === 'CERTIFICATE');
  if (!keyBlock) {
    throw new CertError(
      'MITMTS_ERR_CA_INVALID',
      `No private key in the CA file ${path}: it must hold the CA's private key (PEM) followed by the CA certificate. ` +
        'Delete the mitmproxy-ca*.pem files in the confdir to have a new CA created.',
      path,
    );
  }
  if (certBlocks.length === 0) {
    throw new CertError(
      'MITMTS_ERR_CA_INVALID',
      `No certificate in the CA file ${path}: the private key must be followed by the CA certificate (PEM).`,
      path,
    );
  }
  const key = loadPrivateKey(keyBlock.pem, passphrase, path);
  let cert: Cert;
  try {
    cert = Cert.fromPem(certBlocks[0]!.pem);
  } catch (e) {
    throw new CertError(
      'MITMTS_ERR_CA_INVALID',
      `The CA certificate in ${path} cannot be parsed: ${(e as Error).message}`,
      path,
      { cause: e },
    );
  }
  if (!cert.x509.checkPrivateKey(key)) {
    throw new CertError(
      'MITMTS_ERR_CERT_KEY_MISMATCH',
      `The private key in ${path} does not belong to the CA certificate in the same file. Put the matching key first, or delete the file to have a new CA created.`,
      path,
    );
  }
  return { key, cert, extraChainPem: certBlocks.slice(1).map((b) => b.pem) };
}

/**
 * Parse a PEM private key. Like mitmproxy, a passphrase given for an unencrypted key is ignored;
 * an encrypted key without (or with a wrong) passphrase is an error naming the file.
 */
export function loadPrivateKey(pem: string, passphrase: string | null, path: string): KeyObject {
  const encrypted = pem.includes('ENCRYPTED');
  if (encrypted && (passphrase === null || passphrase === '')) {
    throw new CertError(
      'MITMTS_ERR_CERT_PASSPHRASE',
      `The private key in ${path} is encrypted: set the cert_passphrase option to its passphrase.`,
      path,
    );
  }
  try {
    return createPrivateKey(
      encrypted ? { key: pem, format: 'pem', passphrase: passphrase! } : { key: pem, format: 'pem' },
    );
  } catch (e) {
    if (encrypted) {
      throw new CertError(
        'MITMTS_ERR_CERT_PASSPHRASE',
        `Cannot decrypt the private key in ${path}: the cert_passphrase option is wrong (${(e as Error).message}).`,
        path,
        { cause: e },
      );
    }
    throw new CertError(
      'MITMTS_ERR_CERT_FILE_INVALID',
      `Cannot parse the private key in ${path}: ${(e as Error).message}`,
      path,
      { cause: e },
    );
  }
}

/**
 * Read the DH parameters file, writing the built-in parameters first if it does not exist.
 * (Node ignores DH parameters it cannot parse: DHE cipher suites are then simply not offered.)
 */
export async function loadDhparam(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await writeFile(path, DEFAULT_DHPARAM);
    return Buffer.from(DEFAULT_DHPARAM);
  }
}
