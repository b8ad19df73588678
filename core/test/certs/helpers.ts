import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import forge from 'node-forge';
import { afterAll } from 'vitest';

/** The CA files mitmproxy itself made (see test/fixtures/mitmproxy-ca/README.md). */
export const MITMPROXY_CA_FIXTURE = fileURLToPath(new URL('../../../test/fixtures/mitmproxy-ca/', import.meta.url));

/** A fresh temporary directory, removed after the test file. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mitmts-certs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A temporary confdir holding a copy of the mitmproxy-made CA files. */
export function mitmproxyConfdir(): string {
  const dir = tempDir();
  cpSync(MITMPROXY_CA_FIXTURE, dir, { recursive: true });
  return dir;
}

export interface MadeCert {
  certPem: string;
  keyPem: string;
  key: KeyObject;
}

/**
 * A certificate made independently of the code under test (node-forge's own signing), for custom
 * serving certs and upstream certificates. Signed by `issuer` if given, else self-signed.
 */
export function forgeCert(opts: {
  cn?: string;
  o?: string;
  sans?: Array<{ dns?: string; ip?: string }>;
  crl?: string;
  ca?: boolean;
  key?: KeyObject;
  issuer?: { certPem: string; key: KeyObject };
}): MadeCert {
  const key = opts.key ?? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const keyPem = key.export({ type: 'pkcs1', format: 'pem' }) as string;
  const fkey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(fkey.n, fkey.e);
  cert.serialNumber = '01' + Math.floor(Math.random() * 1e12).toString(16);
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 30 * 86_400_000);
  const subject: forge.pki.CertificateField[] = [];
  if (opts.cn) subject.push({ name: 'commonName', value: opts.cn });
  if (opts.o) subject.push({ name: 'organizationName', value: opts.o });
  cert.setSubject(subject);
  let signKey = fkey;
  if (opts.issuer) {
    cert.setIssuer(forge.pki.certificateFromPem(opts.issuer.certPem).subject.attributes);
    signKey = forge.pki.privateKeyFromPem(
      opts.issuer.key.export({ type: 'pkcs1', format: 'pem' }) as string,
    ) as forge.pki.rsa.PrivateKey;
  } else {
    cert.setIssuer(subject);
  }
  const exts: object[] = [];
  if (opts.ca) exts.push({ name: 'basicConstraints', cA: true, critical: true });
  if (opts.sans?.length) {
    exts.push({
      name: 'subjectAltName',
      altNames: opts.sans.map((s) => (s.ip ? { type: 7, ip: s.ip } : { type: 2, value: s.dns })),
    });
  }
  if (opts.crl) exts.push({ name: 'cRLDistributionPoints', altNames: [{ type: 6, value: opts.crl }] });
  cert.setExtensions(exts);
  cert.sign(signKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem, key };
}
