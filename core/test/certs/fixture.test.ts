import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CertStore } from '../../src/certs/index.js';
import { MITMPROXY_CA_FIXTURE, mitmproxyConfdir, tempDir } from './helpers.js';

// A CA made by Debian's mitmproxy 8.1.1: the CA users already trust must keep working.
describe('a CA made by mitmproxy', async () => {
  const dir = mitmproxyConfdir();
  const before = readFileSync(join(dir, 'mitmproxy-ca.pem'));
  const store = await CertStore.fromConfdir(dir);

  it('is loaded as it is, without rewriting any file', () => {
    const fixtureCert = readFileSync(join(MITMPROXY_CA_FIXTURE, 'mitmproxy-ca-cert.pem'), 'utf8');
    expect(store.caCertPem).toBe(fixtureCert);
    expect(readFileSync(join(dir, 'mitmproxy-ca.pem')).equals(before)).toBe(true);
    expect(store.ca.cn).toBe('mitmproxy');
    expect(store.ca.isCa).toBe(true);
    // mitmproxy's DH parameters file is used as found.
    expect(store.dhparams.equals(readFileSync(join(MITMPROXY_CA_FIXTURE, 'mitmproxy-dhparam.pem')))).toBe(true);
  });

  it('issues leaves that chain to it', () => {
    const entry = store.getCert('example.com', ['example.com', '192.0.2.7']);
    const leaf = entry.cert;
    expect(leaf.x509.checkIssued(store.ca.x509)).toBe(true);
    expect(leaf.x509.verify(store.ca.x509.publicKey)).toBe(true);
    expect(leaf.x509.issuer).toBe(store.ca.x509.subject);
    // The leaf's issuer Name is the CA's subject, byte for byte; AKI = the CA's SKI.
    expect(leaf.tbs().issuer.equals(store.ca.tbs().subject)).toBe(true);
    expect(leaf.tbs().extensions.get('2.5.29.35')!.value.subarray(-20).equals(store.ca.subjectKeyIdentifier!)).toBe(
      true,
    );
    expect(leaf.x509.checkHost('example.com')).toBe('example.com');
    expect(leaf.x509.checkIP('192.0.2.7')).toBe('192.0.2.7');
    // The shared ECDSA leaf key, not the CA's RSA key; the CA's RSA key signs.
    expect(leaf.keyinfo[0]).toBe('EC');
    expect(leaf.x509.checkPrivateKey(createPrivateKey(entry.keyPem))).toBe(true);
    expect(store.ca.keyinfo).toEqual(['RSA', 2048]);
  });

  it("issues leaves with its own key pair under leafKey 'ca' (as mitmproxy)", async () => {
    const asMitmproxy = await CertStore.fromConfdir(dir, { leafKey: 'ca' });
    const leaf = asMitmproxy.getCert('example.com', ['example.com']).cert;
    expect(leaf.x509.verify(asMitmproxy.ca.x509.publicKey)).toBe(true);
    expect(leaf.x509.publicKey.equals(asMitmproxy.ca.x509.publicKey)).toBe(true);
  });

  it('matches the structure of a CA mitmts creates', async () => {
    const ours = await CertStore.fromConfdir(tempDir());
    // Same subject encoding (UTF8String CN and O), same extensions, same order and criticality.
    expect(ours.ca.tbs().subject.equals(store.ca.tbs().subject)).toBe(true);
    const shape = (s: CertStore): Array<[string, boolean]> =>
      [...s.ca.tbs().extensions].map(([oid, e]) => [oid, e.critical]);
    expect(shape(ours)).toEqual(shape(store));
    expect(
      ours.ca.tbs().extensions.get('2.5.29.15')!.value.equals(store.ca.tbs().extensions.get('2.5.29.15')!.value),
    ).toBe(true);
    expect(
      ours.ca.tbs().extensions.get('2.5.29.19')!.value.equals(store.ca.tbs().extensions.get('2.5.29.19')!.value),
    ).toBe(true);
    expect(readFileSync(ours.paths.caPem, 'utf8').split('\n')[0]).toBe(
      readFileSync(store.paths.caPem, 'utf8').split('\n')[0],
    );
  });
});
