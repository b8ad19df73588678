import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { CertError, CertStore, DEFAULT_DHPARAM, expandHome } from '../../src/certs/index.js';
import { createCa } from '../../src/certs/ca.js';
import { toPem } from '../../src/certs/der.js';
import { tempDir } from './helpers.js';

const FILES = [
  'mitmproxy-ca.pem',
  'mitmproxy-ca.p12',
  'mitmproxy-ca-cert.pem',
  'mitmproxy-ca-cert.cer',
  'mitmproxy-ca-cert.p12',
  'mitmproxy-dhparam.pem',
];

function p12Bags(file: string): { certs: string[]; keys: number; friendlyNames: string[] } {
  // No password argument: the MAC key comes from the absent password, as with mitmproxy's files.
  const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(readFileSync(file).toString('latin1')), false);
  const certBags = p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] ?? [];
  const keyBags = p12.getBags({ bagType: forge.pki.oids.keyBag })[forge.pki.oids.keyBag] ?? [];
  return {
    certs: certBags.map((b) => forge.pki.certificateToPem(b.cert!)),
    keys: keyBags.length,
    friendlyNames: [...certBags, ...keyBags].flatMap((b) => b.attributes['friendlyName'] ?? []),
  };
}

describe('CertStore.fromConfdir: a new CA', async () => {
  const dir = join(tempDir(), 'nested', 'confdir');
  const store = await CertStore.fromConfdir(dir);

  it("creates the confdir and all of mitmproxy's files", () => {
    for (const f of FILES) expect(existsSync(join(dir, f)), f).toBe(true);
    expect(store.paths.caPem).toBe(join(dir, 'mitmproxy-ca.pem'));
  });

  it('writes private-key files with mode 0600', () => {
    expect(statSync(join(dir, 'mitmproxy-ca.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'mitmproxy-ca.p12')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'mitmproxy-ca-cert.pem')).mode & 0o077).not.toBe(0);
  });

  it('writes the key in traditional OpenSSL RSA format followed by the certificate', () => {
    const text = readFileSync(join(dir, 'mitmproxy-ca.pem'), 'utf8');
    expect(text).toMatch(
      /^-----BEGIN RSA PRIVATE KEY-----\n[\s\S]+-----END RSA PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/,
    );
    expect(text).not.toContain('\r');
    const certPart = text.slice(text.indexOf('-----BEGIN CERTIFICATE-----'));
    expect(certPart).toBe(readFileSync(join(dir, 'mitmproxy-ca-cert.pem'), 'utf8'));
    expect(certPart).toBe(store.caCertPem);
  });

  it('writes the .cer file with the same bytes as the cert .pem', () => {
    expect(
      readFileSync(join(dir, 'mitmproxy-ca-cert.cer')).equals(readFileSync(join(dir, 'mitmproxy-ca-cert.pem'))),
    ).toBe(true);
  });

  it('writes PKCS#12 files: key + cert, and cert only, readable without a password', () => {
    const full = p12Bags(join(dir, 'mitmproxy-ca.p12'));
    expect(full.keys).toBe(1);
    expect(full.certs).toHaveLength(1);
    expect(new X509Certificate(full.certs[0]!).fingerprint256).toBe(store.ca.x509.fingerprint256);
    expect(full.friendlyNames).toContain('mitmproxy');
    const certOnly = p12Bags(join(dir, 'mitmproxy-ca-cert.p12'));
    expect(certOnly.keys).toBe(0);
    expect(certOnly.certs).toHaveLength(1);
    expect(certOnly.friendlyNames).toEqual(['mitmproxy']);
  });

  it('writes the built-in DH parameters', () => {
    expect(readFileSync(join(dir, 'mitmproxy-dhparam.pem'), 'utf8')).toBe(DEFAULT_DHPARAM);
    expect(store.dhparams.toString()).toBe(DEFAULT_DHPARAM);
  });

  it("makes a CA certificate like mitmproxy's", () => {
    const ca = store.ca;
    expect(ca.subject).toEqual([
      ['CN', 'mitmproxy'],
      ['O', 'mitmproxy'],
    ]);
    expect(ca.issuer).toEqual(ca.subject);
    expect(ca.isCa).toBe(true);
    expect(ca.keyinfo).toEqual(['RSA', 2048]);
    expect(ca.x509.publicKey.asymmetricKeyDetails?.publicExponent).toBe(65537n);
    expect(ca.x509.verify(ca.x509.publicKey)).toBe(true);
    const day = 86_400_000;
    expect(Math.abs(ca.notbefore.getTime() - (Date.now() - 2 * day))).toBeLessThan(60_000);
    expect(Math.abs(ca.notafter.getTime() - (Date.now() + 3650 * day))).toBeLessThan(60_000);
    const ext = ca.tbs().extensions;
    expect([...ext.keys()]).toEqual(['2.5.29.19', '2.5.29.37', '2.5.29.15', '2.5.29.14']);
    expect(ext.get('2.5.29.19')!.critical).toBe(true);
    expect(ext.get('2.5.29.15')!.critical).toBe(true);
    expect(ext.get('2.5.29.15')!.value.toString('hex')).toBe('03020106');
    expect(ext.get('2.5.29.37')!.critical).toBe(false);
    expect(ca.x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(ca.subjectKeyIdentifier).toHaveLength(20);
    expect(store.warnings).toEqual([]);
  });

  it('loads the same CA again without touching the files', async () => {
    const before = FILES.map((f) => readFileSync(join(dir, f)));
    const again = await CertStore.fromConfdir(dir);
    expect(again.ca.equals(store.ca)).toBe(true);
    expect(again.ca.serial).toBe(store.ca.serial);
    FILES.forEach((f, i) => expect(readFileSync(join(dir, f)).equals(before[i]!), f).toBe(true));
  });

  it('recreates a missing DH parameters file only', async () => {
    rmSync(join(dir, 'mitmproxy-dhparam.pem'));
    const again = await CertStore.fromConfdir(dir);
    expect(again.ca.equals(store.ca)).toBe(true);
    expect(readFileSync(join(dir, 'mitmproxy-dhparam.pem'), 'utf8')).toBe(DEFAULT_DHPARAM);
  });
});

describe('CertStore.fromConfdir options', () => {
  it('honours basename and keySize', async () => {
    const dir = tempDir();
    const store = await CertStore.fromConfdir(dir, { basename: 'acme', keySize: 3072 });
    expect(existsSync(join(dir, 'acme-ca.pem'))).toBe(true);
    expect(existsSync(join(dir, 'acme-dhparam.pem'))).toBe(true);
    expect(store.ca.cn).toBe('acme');
    expect(store.ca.organization).toBe('acme');
    expect(store.ca.keyinfo).toEqual(['RSA', 3072]);
  });

  it('expands ~ to the home directory', async () => {
    const home = tempDir();
    const saved = process.env['HOME'];
    process.env['HOME'] = home;
    try {
      expect(expandHome('~')).toBe(home);
      expect(expandHome('~/.mitmproxy')).toBe(join(home, '.mitmproxy'));
      expect(expandHome('/abs/~/x')).toBe('/abs/~/x');
      const store = await CertStore.fromConfdir('~/.mitmproxy');
      expect(store.paths.confdir).toBe(join(home, '.mitmproxy'));
      expect(existsSync(join(home, '.mitmproxy', 'mitmproxy-ca.pem'))).toBe(true);
    } finally {
      process.env['HOME'] = saved;
    }
  });
});

describe('loading existing CA files', () => {
  const base = tempDir();
  const ca = createCa({ keySize: 2048, commonName: 'mitmproxy', organization: 'mitmproxy' });
  const certPem = toPem('CERTIFICATE', ca.certDer);

  function confdirWith(name: string, caPem: string): string {
    const dir = join(base, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'mitmproxy-ca.pem'), caPem);
    return dir;
  }

  it.each([
    [
      'traditional (PKCS#1) encrypted',
      () => ca.key.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 's3cret' }) as string,
    ],
    [
      'PKCS#8 encrypted',
      () => ca.key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 's3cret' }) as string,
    ],
  ])('loads a %s key with the passphrase', async (label, keyPem) => {
    const dir = confdirWith(label.replace(/\W/g, '_'), keyPem() + certPem);
    const store = await CertStore.fromConfdir(dir, { passphrase: 's3cret' });
    expect(store.ca.toDer().equals(ca.certDer)).toBe(true);
    // Generated entries carry a key usable without the passphrase: the shared leaf key, or with
    // leafKey 'ca' the decrypted CA key.
    const entry = store.getCert('example.com', ['example.com']);
    expect(entry.keyPem).not.toContain('ENCRYPTED');
    expect(entry.cert.x509.checkPrivateKey(createPrivateKey(entry.keyPem))).toBe(true);
    const asMitmproxy = await CertStore.fromConfdir(dir, { passphrase: 's3cret', leafKey: 'ca' });
    expect(createPrivateKey(asMitmproxy.getCert('example.com', ['example.com']).keyPem).equals(ca.key)).toBe(true);
    await expect(CertStore.fromConfdir(dir)).rejects.toMatchObject({ code: 'MITMTS_ERR_CERT_PASSPHRASE' });
    await expect(CertStore.fromConfdir(dir, { passphrase: 'wrong' })).rejects.toMatchObject({
      code: 'MITMTS_ERR_CERT_PASSPHRASE',
    });
  });

  it('ignores a passphrase for an unencrypted key (as mitmproxy)', async () => {
    const dir = confdirWith('plain', (ca.key.export({ type: 'pkcs1', format: 'pem' }) as string) + certPem);
    const store = await CertStore.fromConfdir(dir, { passphrase: 'unused' });
    expect(store.ca.toDer().equals(ca.certDer)).toBe(true);
  });

  it('warns about an expired CA, through warnings and the log callback', async () => {
    const old = createCa({
      keySize: 2048,
      commonName: 'mitmproxy',
      organization: 'mitmproxy',
      now: new Date(Date.now() - 11 * 365 * 86_400_000),
    });
    const dir = confdirWith(
      'expired',
      (old.key.export({ type: 'pkcs1', format: 'pem' }) as string) + toPem('CERTIFICATE', old.certDer),
    );
    const logged: Array<[string, string]> = [];
    const store = await CertStore.fromConfdir(dir, { log: (level, msg) => logged.push([level, msg]) });
    expect(store.ca.hasExpired).toBe(true);
    expect(store.warnings).toHaveLength(1);
    expect(store.warnings[0]).toMatch(/expired/);
    expect(store.warnings[0]).toContain(dir);
    expect(logged.filter(([level]) => level === 'warn')).toEqual([['warn', store.warnings[0]]]);
  });

  it('says where a new CA is and how to trust it, once: later starts say it only in the debug log', async () => {
    const dir = join(tempDir(), 'notice');
    const first: Array<[string, string]> = [];
    await CertStore.fromConfdir(dir, { log: (level, msg) => first.push([level, msg]) });
    expect(first).toHaveLength(1);
    expect(first[0]![0]).toBe('info');
    expect(first[0]![1]).toContain(`Created a new certificate authority in ${dir}.`);
    expect(first[0]![1]).toContain(join(dir, 'mitmproxy-ca-cert.pem'));
    expect(first[0]![1]).toMatch(/http:\/\/mitm\.it.*NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE/);
    const again: Array<[string, string]> = [];
    await CertStore.fromConfdir(dir, { log: (level, msg) => again.push([level, msg]) });
    expect(again).toEqual([
      [
        'debug',
        `Using the certificate authority in ${join(dir, 'mitmproxy-ca.pem')} (clients trust ${join(dir, 'mitmproxy-ca-cert.pem')}).`,
      ],
    ]);
  });

  it('serves extra certificates in the CA file as the chain of generated certificates', async () => {
    const extra = toPem('CERTIFICATE', createCa({ keySize: 2048, commonName: 'root', organization: 'root' }).certDer);
    const dir = confdirWith('chain', (ca.key.export({ type: 'pkcs1', format: 'pem' }) as string) + certPem + extra);
    const store = await CertStore.fromConfdir(dir);
    expect(store.ca.toDer().equals(ca.certDer)).toBe(true);
    expect(store.getCert('a.example', ['a.example']).chainPem).toEqual([certPem, extra]);
  });

  it('serves no chain when the CA file holds only the CA', async () => {
    const dir = confdirWith('nochain', (ca.key.export({ type: 'pkcs1', format: 'pem' }) as string) + certPem);
    const store = await CertStore.fromConfdir(dir);
    expect(store.getCert('a.example', ['a.example']).chainPem).toEqual([]);
  });

  it('rejects a CA file without a key, without a certificate, or with a foreign key', async () => {
    const other = createCa({ keySize: 2048, commonName: 'x', organization: 'x' });
    const cases: Array<[string, string, string]> = [
      ['nokey', certPem, 'MITMTS_ERR_CA_INVALID'],
      ['nocert', ca.key.export({ type: 'pkcs1', format: 'pem' }) as string, 'MITMTS_ERR_CA_INVALID'],
      [
        'mismatch',
        (other.key.export({ type: 'pkcs1', format: 'pem' }) as string) + certPem,
        'MITMTS_ERR_CERT_KEY_MISMATCH',
      ],
    ];
    for (const [name, text, code] of cases) {
      const dir = confdirWith(name, text);
      const err = await CertStore.fromConfdir(dir).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(CertError);
      expect((err as CertError).code, name).toBe(code);
      expect((err as CertError).message, name).toContain(join(dir, 'mitmproxy-ca.pem'));
    }
  });
});

describe('CertStore.fromConfdir: a confdir that cannot be created', () => {
  it('rejects with MITMTS_ERR_CONFDIR under /proc (no endless mkdir loop)', async () => {
    const err = await CertStore.fromConfdir('/proc/mitmts-no-such/confdir').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CertError);
    expect((err as CertError).code).toBe('MITMTS_ERR_CONFDIR');
    expect((err as CertError).path).toBe('/proc/mitmts-no-such/confdir');
  });

  it('names the file that sits where a directory should be', async () => {
    const file = join(tempDir(), 'plain-file');
    writeFileSync(file, '');
    const err = (await CertStore.fromConfdir(join(file, 'a', 'b')).catch((e: unknown) => e)) as CertError;
    expect(err.code).toBe('MITMTS_ERR_CONFDIR');
    expect(err.message).toContain(`${file} is a file, not a directory`);
  });
});
