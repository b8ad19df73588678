// A self-signed certificate for the upstream HTTPS server (the proxies run with ssl_insecure, so
// it only has to be well formed; the direct runs verify it). Names: localhost, bench.test,
// *.bench.test, 127.0.0.1. Made once and kept in the scratch directory.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

export function upstreamCert(dir) {
  const keyPath = join(dir, 'upstream-v2-key.pem');
  const certPath = join(dir, 'upstream-v2-cert.pem');
  if (!existsSync(keyPath) || !existsSync(certPath)) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
    cert.serialNumber = '01' + Date.now().toString(16);
    cert.validity.notBefore = new Date(Date.now() - 86_400_000);
    cert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
    const attrs = [{ name: 'commonName', value: 'mitmts-bench-upstream' }];
    cert.setSubject(attrs);
    cert.setIssuer(attrs);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 2, value: 'bench.test' },
          { type: 2, value: '*.bench.test' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ]);
    cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
    writeFileSync(keyPath, privateKey);
    writeFileSync(certPath, forge.pki.certificateToPem(cert));
  }
  return { keyPath, certPath, key: readFileSync(keyPath), cert: readFileSync(certPath) };
}
