import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CertError, CertStore } from '../../src/certs/index.js';
import { forgeCert, tempDir } from './helpers.js';

describe('custom serving certificates (certs option)', async () => {
  const dir = tempDir();
  const confdir = join(dir, 'confdir');
  const files = join(dir, 'files');
  mkdirSync(files, { recursive: true });
  const lf = (pem: string): string => pem.replace(/\r\n/g, '\n');

  const example = forgeCert({
    cn: 'example.com',
    sans: [{ dns: 'example.com' }, { dns: '*.example.com' }, { ip: '192.0.2.1' }],
  });
  const examplePath = join(files, 'example.pem');
  writeFileSync(examplePath, example.certPem + example.keyPem);

  async function store(): Promise<CertStore> {
    return CertStore.fromConfdir(confdir);
  }

  it('are registered under their CN and SANs, and win over generation', async () => {
    const s = await store();
    const entry = await s.addCertFromSpec(`shop.example=${examplePath}`);
    expect(entry.cert.cn).toBe('example.com');
    expect(entry.keyPem).toBe(example.keyPem);
    expect(entry.certPem).toBe(lf(example.certPem));
    expect(entry.chainPem).toEqual([]);
    expect(s.getCert('example.com', ['example.com'])).toBe(entry);
    // Wildcard forms of the CN and of each SAN are looked up.
    expect(s.getCert('www.example.com', ['www.example.com'])).toBe(entry);
    expect(s.getCert('a.b.example.com', ['a.b.example.com'])).toBe(entry);
    expect(s.getCert('other.test', ['other.test', 'example.com'])).toBe(entry);
    expect(s.getCert('192.0.2.1', ['192.0.2.1'])).toBe(entry);
    // ...and under the spec's domain.
    expect(s.getCert('shop.example', ['shop.example'])).toBe(entry);
    // Other names are still generated.
    const other = s.getCert('other.test', ['other.test']);
    expect(other).not.toBe(entry);
    expect(other.cert.x509.checkIssued(s.ca.x509)).toBe(true);
    expect(s.generatedCount).toBe(1);
  });

  it('without a domain are registered under *, which overrides generation for every host', async () => {
    const s = await store();
    const entry = await s.addCertFromSpec(examplePath);
    expect(s.getCert('anything.test', ['anything.test'])).toBe(entry);
    expect(s.getCert(null, [])).toBe(entry);
    expect(s.generatedCount).toBe(0);
  });

  it('keep the chain that follows the leaf', async () => {
    const s = await store();
    const ca = forgeCert({ cn: 'Custom CA', ca: true });
    const leaf = forgeCert({
      cn: 'chained.test',
      sans: [{ dns: 'chained.test' }],
      issuer: { certPem: ca.certPem, key: ca.key },
    });
    const p = join(files, 'chained.pem');
    writeFileSync(p, leaf.certPem + ca.certPem + leaf.keyPem);
    const entry = await s.addCertFromSpec(p);
    expect(entry.certPem).toBe(lf(leaf.certPem));
    expect(entry.chainPem).toEqual([lf(ca.certPem)]);
    expect(entry.cert.x509.checkIssued(new X509Certificate(entry.chainPem[0]!))).toBe(true);
  });

  it('may leave out the key when the certificate was made for the CA key', async () => {
    const s = await store();
    const caKeyPem = readFileSync(s.paths.caPem, 'utf8').split('-----BEGIN CERTIFICATE-----')[0]!;
    const made = forgeCert({ cn: 'ca-key.test', key: createPrivateKey(caKeyPem) });
    const p = join(files, 'cakey.pem');
    writeFileSync(p, made.certPem);
    const entry = await s.addCertFromSpec(`ca-key.test=${p}`);
    expect(createPrivateKey(entry.keyPem).equals(createPrivateKey(caKeyPem))).toBe(true);
  });

  it('decrypt the key with the passphrase', async () => {
    const s = await CertStore.fromConfdir(confdir, { passphrase: 'pw' });
    const made = forgeCert({ cn: 'enc.test' });
    const p = join(files, 'enc.pem');
    writeFileSync(
      p,
      made.certPem +
        (made.key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'pw' }) as string),
    );
    const entry = await s.addCertFromSpec(p);
    expect(entry.keyPem).not.toContain('ENCRYPTED');
    await expect((await store()).addCertFromSpec(p)).rejects.toMatchObject({ code: 'MITMTS_ERR_CERT_PASSPHRASE' });
    await expect((await store()).addCertFromSpec(p, 'nope')).rejects.toMatchObject({
      code: 'MITMTS_ERR_CERT_PASSPHRASE',
    });
    expect((await (await store()).addCertFromSpec(p, 'pw')).cert.cn).toBe('enc.test');
  });

  it('warn when the certificate is a CA', async () => {
    const logged: string[] = [];
    const s = await CertStore.fromConfdir(confdir, { log: (l, m) => l === 'warn' && logged.push(m) });
    const ca = forgeCert({ cn: 'Some CA', ca: true });
    const p = join(files, 'someca.pem');
    writeFileSync(p, ca.certPem + ca.keyPem);
    await s.addCertFromSpec(p);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('certificate authority');
    expect(s.warnings).toContain(logged[0]);
  });

  it.each<[string, () => string, string]>([
    ['a missing file', () => join(files, 'missing.pem'), 'MITMTS_ERR_CERT_FILE_MISSING'],
    [
      'a key that does not match',
      () => {
        const p = join(files, 'mismatch.pem');
        writeFileSync(p, example.certPem + forgeCert({ cn: 'x' }).keyPem);
        return p;
      },
      'MITMTS_ERR_CERT_KEY_MISMATCH',
    ],
    [
      'no key and a certificate not made for the CA key',
      () => {
        const p = join(files, 'nokey.pem');
        writeFileSync(p, example.certPem);
        return p;
      },
      'MITMTS_ERR_CERT_KEY_MISSING',
    ],
    [
      'no certificate',
      () => {
        const p = join(files, 'nocert.pem');
        writeFileSync(p, example.keyPem);
        return p;
      },
      'MITMTS_ERR_CERT_FILE_INVALID',
    ],
  ])('reject %s with a clear error', async (_label, makePath, code) => {
    const s = await store();
    const path = makePath();
    const err = await s.addCertFromSpec(`d.test=${path}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CertError);
    expect((err as CertError).code).toBe(code);
    expect((err as CertError).path).toBe(path);
    expect((err as CertError).message).toContain(path);
    expect(s.getCert('d.test', ['d.test']).cert.issuer).toEqual(s.ca.subject);
  });
});
