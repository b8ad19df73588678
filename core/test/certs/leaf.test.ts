import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Cert, CertStore, LEAF_VALIDITY_DAYS } from '../../src/certs/index.js';
import { children, name, OID, readTlv, toPem } from '../../src/certs/der.js';
import { randomSerial, signerFor, signTbs } from '../../src/certs/sign.js';
import { buildTbs } from '../../src/certs/tbs.js';
import { tempDir } from './helpers.js';

const DAY = 86_400_000;
const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0;

/** The signatureAlgorithm OID of a DER certificate. */
function signatureAlgorithm(cert: Cert): Buffer {
  const der = cert.toDer();
  const alg = children(der, readTlv(der, 0))[1]!;
  return der.subarray(alg.headerStart, alg.end);
}

describe('generated leaf certificates', async () => {
  const dir = tempDir();
  const store = await CertStore.fromConfdir(dir);

  it('carry DNS, IP (v4 and v6) and IDNA-encoded SANs in order', () => {
    const { cert } = store.getCert('example.com', ['example.com', '10.1.2.3', '::1', 'bücher.de', '*.wild.example']);
    expect(cert.x509.subjectAltName).toBe(
      'DNS:example.com, IP Address:10.1.2.3, IP Address:0:0:0:0:0:0:0:1, DNS:xn--bcher-kva.de, DNS:*.wild.example',
    );
    expect(cert.altnames).toEqual(['example.com', '10.1.2.3', '0:0:0:0:0:0:0:1', 'xn--bcher-kva.de', '*.wild.example']);
    expect(cert.x509.checkHost('example.com')).toBe('example.com');
    expect(cert.x509.checkHost('any.wild.example')).toBe('*.wild.example');
    expect(cert.x509.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(cert.x509.checkIP('::1')).toBe('::1');
    expect(cert.x509.checkHost('other.example')).toBeUndefined();
  });

  it('put the CN in the subject, and O when given', () => {
    const { cert } = store.getCert('example.com', ['example.com'], 'Example Inc.');
    expect(cert.subject).toEqual([
      ['CN', 'example.com'],
      ['O', 'Example Inc.'],
    ]);
    expect(cert.tbs().extensions.get(OID.subjectAltName)!.critical).toBe(false);
  });

  it('leave out a CN of 64 characters or more and mark the SAN extension critical', () => {
    const long = 'a'.repeat(60) + '.com';
    expect(long).toHaveLength(64);
    const { cert } = store.getCert(long, [long]);
    expect(cert.cn).toBeNull();
    expect(cert.subject).toEqual([]);
    expect(cert.tbs().extensions.get(OID.subjectAltName)!.critical).toBe(true);
    expect(cert.altnames).toEqual([long]);
    const ok = 'a'.repeat(59) + '.com';
    expect(store.getCert(ok, [ok]).cert.cn).toBe(ok);
  });

  it('IDNA-encode a non-ASCII CN', () => {
    expect(store.getCert('bücher.de', ['bücher.de']).cert.cn).toBe('xn--bcher-kva.de');
  });

  it('are valid from now - 2 days for 199 days', () => {
    const { cert } = store.getCert('validity.example', ['validity.example']);
    expect(Math.abs(cert.notbefore.getTime() - (Date.now() - 2 * DAY))).toBeLessThan(60_000);
    expect(cert.notafter.getTime() - cert.notbefore.getTime()).toBe(LEAF_VALIDITY_DAYS * DAY);
  });

  it('have EKU serverAuth, AKI = the CA SKI, no SKI, no BasicConstraints, and the shared leaf key', () => {
    const { cert } = store.getCert('ext.example', ['ext.example']);
    const ext = cert.tbs().extensions;
    expect([...ext.keys()]).toEqual([OID.extKeyUsage, OID.subjectAltName, OID.authorityKeyIdentifier]);
    expect(cert.x509.keyUsage).toEqual([OID.serverAuth]);
    // AuthorityKeyIdentifier ::= SEQUENCE { [0] keyIdentifier }
    expect(ext.get(OID.authorityKeyIdentifier)!.value.toString('hex')).toBe(
      '30168014' + store.ca.subjectKeyIdentifier!.toString('hex'),
    );
    expect(cert.subjectKeyIdentifier).toBeNull();
    expect(cert.isCa).toBe(false);
    expect(cert.x509.publicKey.equals(store.getCert('other.example', ['other.example']).cert.x509.publicKey)).toBe(
      true,
    );
    expect(cert.x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.issuer).toEqual(store.ca.subject);
    expect(cert.tbs().issuer.equals(store.ca.tbs().subject)).toBe(true);
  });

  it('are X.509 v3, signed by the CA with SHA-256', () => {
    const { cert } = store.getCert('sig.example', ['sig.example']);
    expect(cert.x509.verify(store.ca.x509.publicKey)).toBe(true);
    expect(cert.x509.checkIssued(store.ca.x509)).toBe(true);
    expect(signatureAlgorithm(cert).toString('hex')).toBe('300d06092a864886f70d01010b0500');
    const der = cert.toDer();
    const tbs = children(der, readTlv(der, 0))[0]!;
    expect(der.subarray(children(der, tbs)[0]!.headerStart, children(der, tbs)[0]!.end).toString('hex')).toBe(
      'a003020102',
    );
  });

  it('get random positive 20-byte serials', () => {
    const a = store.getCert('s1.example', ['s1.example']).cert;
    const b = store.getCert('s2.example', ['s2.example']).cert;
    expect(a.x509.serialNumber).toHaveLength(40);
    expect(a.serial).toBeGreaterThan(0n);
    expect(a.serial).not.toBe(b.serial);
  });

  it('get a CRL distribution point only when asked', () => {
    const url = 'http://crl.example.com/mitmproxy-1.crl';
    const withCrl = store.getCert('crl.example', ['crl.example'], null, url).cert;
    expect(withCrl.crlDistributionPoints).toEqual([url]);
    expect(store.getCert('nocrl.example', ['nocrl.example']).cert.crlDistributionPoints).toEqual([]);
  });

  it('have no SAN extension when there are no names', () => {
    const { cert } = store.getCert(null, []);
    expect(cert.tbs().extensions.has(OID.subjectAltName)).toBe(false);
    expect(cert.subject).toEqual([]);
  });

  it('round-trip through PEM', () => {
    const entry = store.getCert('pem.example', ['pem.example']);
    expect(entry.certPem).toMatch(/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/);
    expect(Cert.fromPem(entry.certPem).equals(entry.cert)).toBe(true);
    expect(entry.cert.toPem().toString()).toBe(entry.certPem);
  });

  it.runIf(HAS_OPENSSL)('pass openssl verify against the CA, for the sslserver purpose', () => {
    const out = join(dir, 'openssl');
    mkdirSync(out, { recursive: true });
    const leaf = store.getCert('openssl.example', ['openssl.example', '127.0.0.1'], 'Org', 'http://crl.example/x.crl');
    writeFileSync(join(out, 'leaf.pem'), leaf.certPem);
    const r = spawnSync(
      'openssl',
      ['verify', '-purpose', 'sslserver', '-CAfile', store.paths.caCertPem, join(out, 'leaf.pem')],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`${join(out, 'leaf.pem')}: OK`);
    const text = spawnSync('openssl', ['x509', '-noout', '-text', '-in', join(out, 'leaf.pem')], {
      encoding: 'utf8',
    }).stdout;
    expect(text).toContain('DNS:openssl.example, IP Address:127.0.0.1');
    expect(text).toContain('URI:http://crl.example/x.crl');
    expect(text).toMatch(/Not After : .*\n/);
    // The empty CRL verifies against the CA too.
    writeFileSync(join(out, 'crl.der'), store.emptyCrl());
    const crl = spawnSync(
      'openssl',
      ['crl', '-inform', 'DER', '-in', join(out, 'crl.der'), '-CAfile', store.paths.caCertPem, '-noout', '-text'],
      {
        encoding: 'utf8',
      },
    );
    expect(crl.stderr).toContain('verify OK');
    expect(crl.stdout).toContain('No Revoked Certificates');
  });
});

describe('leaves from a non-RSA CA', () => {
  it('are signed with ECDSA for an EC CA key', async () => {
    const dir = tempDir();
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const signer = signerFor(privateKey);
    const subject = name([[OID.commonName, 'ec-ca']]);
    const now = Date.now();
    const der = signTbs(
      buildTbs({
        serial: randomSerial(),
        signatureAlgorithm: signer.algorithmDer,
        issuer: subject,
        subject,
        notBefore: new Date(now - DAY),
        notAfter: new Date(now + DAY * 30),
        publicKey: publicKey.export({ type: 'spki', format: 'der' }),
        extensions: [],
      }),
      signer,
    );
    writeFileSync(
      join(dir, 'mitmproxy-ca.pem'),
      (privateKey.export({ type: 'sec1', format: 'pem' }) as string) + toPem('CERTIFICATE', der),
    );
    const store = await CertStore.fromConfdir(dir);
    const { cert, keyPem } = store.getCert('ec.example', ['ec.example']);
    expect(cert.x509.verify(publicKey)).toBe(true);
    expect(cert.keyinfo[0]).toBe('EC');
    expect(keyPem).toContain('BEGIN PRIVATE KEY');
  });
});
