import { createPrivateKey } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CertStore } from '../../src/certs/index.js';
import { OWN_CONTEXT_AFTER } from '../../src/certs/contexts.js';
import { forgeCert, tempDir } from './helpers.js';

describe('CertStore cache', async () => {
  const confdir = tempDir();
  const shared = await CertStore.fromConfdir(confdir);

  it('returns the same entry for the same (CN, SANs)', () => {
    const a = shared.getCert('example.com', ['example.com', '1.2.3.4']);
    expect(shared.getCert('example.com', ['example.com', '1.2.3.4'])).toBe(a);
    // Organization and CRL URL are not part of the key (as in mitmproxy).
    expect(shared.getCert('example.com', ['example.com', '1.2.3.4'], 'Other Org')).toBe(a);
    // Names are normalized before the lookup.
    const idn = shared.getCert('bücher.de', ['bücher.de']);
    expect(shared.getCert('xn--bcher-kva.de', ['xn--bcher-kva.de'])).toBe(idn);
  });

  it('keys by CN and the SAN list in order', () => {
    const a = shared.getCert('example.com', ['example.com', '1.2.3.4']);
    expect(shared.getCert('example.com', ['1.2.3.4', 'example.com'])).not.toBe(a);
    expect(shared.getCert(null, ['example.com', '1.2.3.4'])).not.toBe(a);
    expect(shared.getCert('example.com', ['example.com'])).not.toBe(a);
  });

  it('shares one ECDSA P-256 key between all generated entries', () => {
    const a = shared.getCert('k1.example', ['k1.example']);
    const b = shared.getCert('k2.example', ['k2.example']);
    expect(shared.leafKeyType).toBe('ecdsa');
    expect(a.keyPem).toBe(b.keyPem);
    expect(a.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const key = createPrivateKey(a.keyPem);
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(a.cert.x509.checkPrivateKey(key)).toBe(true);
    expect(b.cert.x509.checkPrivateKey(key)).toBe(true);
    expect(a.cert.keyinfo).toEqual(['EC', 256]);
  });

  it("uses the CA's own key pair with leafKey 'ca' (as mitmproxy)", async () => {
    const store = await CertStore.fromConfdir(confdir, { leafKey: 'ca' });
    const a = store.getCert('k1.example', ['k1.example']);
    expect(store.leafKeyType).toBe('ca');
    expect(a.keyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(a.cert.x509.publicKey.equals(store.ca.x509.publicKey)).toBe(true);
    expect(a.cert.x509.checkIssued(store.ca.x509)).toBe(true);
  });

  it('makes a new leaf key per store, kept out of the confdir', async () => {
    const other = await CertStore.fromConfdir(confdir);
    expect(other.getCert('k1.example', ['k1.example']).keyPem).not.toBe(
      shared.getCert('k1.example', ['k1.example']).keyPem,
    );
    expect(readdirSync(confdir).sort()).toEqual([
      'mitmproxy-ca-cert.cer',
      'mitmproxy-ca-cert.p12',
      'mitmproxy-ca-cert.pem',
      'mitmproxy-ca.p12',
      'mitmproxy-ca.pem',
      'mitmproxy-dhparam.pem',
    ]);
  });

  it('keeps at most 100 generated entries, evicting the least recently used', async () => {
    const store = await CertStore.fromConfdir(confdir);
    expect(CertStore.STORE_CAP).toBe(100);
    const first = store.getCert('h0.example', ['h0.example']);
    const second = store.getCert('h1.example', ['h1.example']);
    for (let i = 2; i < 100; i++) store.getCert(`h${i}.example`, [`h${i}.example`]);
    expect(store.generatedCount).toBe(100);
    // Touch h0: now h1 is the least recently used.
    expect(store.getCert('h0.example', ['h0.example'])).toBe(first);
    store.getCert('h100.example', ['h100.example']);
    expect(store.generatedCount).toBe(100);
    expect(store.getCert('h0.example', ['h0.example'])).toBe(first);
    const again = store.getCert('h1.example', ['h1.example']);
    expect(again).not.toBe(second);
    expect(again.cert.serial).not.toBe(second.cert.serial);
    expect(store.generatedCount).toBe(100);
  });

  it('honours cacheSize', async () => {
    const store = await CertStore.fromConfdir(confdir, { cacheSize: 2 });
    const a = store.getCert('a.example', ['a.example']);
    store.getCert('b.example', ['b.example']);
    store.getCert('c.example', ['c.example']);
    expect(store.generatedCount).toBe(2);
    expect(store.getCert('a.example', ['a.example'])).not.toBe(a);
  });

  it('caches one secure context per entry', () => {
    const a = shared.getCert('ctx.example', ['ctx.example']);
    const ctx = shared.secureContext(a);
    expect(shared.secureContext(a)).toBe(ctx);
    expect(shared.secureContext(shared.getCert('ctx.example', ['ctx.example']))).toBe(ctx);
    expect(shared.secureContext(shared.getCert('ctx2.example', ['ctx2.example']))).not.toBe(ctx);
  });

  it('serves the first handshakes of generated leaves from one shared context, then gives a leaf its own', async () => {
    const store = await CertStore.fromConfdir(confdir);
    const a = store.getCert('ha.example', ['ha.example']);
    const b = store.getCert('hb.example', ['hb.example']);
    const sharedCtx = store.handshakeContext(a);
    expect(store.handshakeContext(b)).toBe(sharedCtx);
    for (let i = 1; i < OWN_CONTEXT_AFTER; i++) expect(store.handshakeContext(a)).toBe(sharedCtx);
    const own = store.handshakeContext(a);
    expect(own).not.toBe(sharedCtx);
    expect(own).toBe(store.secureContext(a));
    expect(store.handshakeContext(a)).toBe(own);
    // An entry that already has its own context keeps using it.
    const c = store.getCert('hc.example', ['hc.example']);
    const cOwn = store.secureContext(c);
    expect(store.handshakeContext(c)).toBe(cOwn);
  });

  it('gives custom certificates (their own keys) their own context right away', async () => {
    const store = await CertStore.fromConfdir(confdir);
    const made = forgeCert({ cn: 'custom.example' });
    const p = join(confdir, '..', 'custom-ctx.pem');
    writeFileSync(p, made.certPem + made.keyPem);
    const entry = await store.addCertFromSpec(`custom.example=${p}`);
    expect(store.handshakeContext(entry)).toBe(store.secureContext(entry));
  });

  it('warms up without caching the throwaway leaf', async () => {
    const store = await CertStore.fromConfdir(confdir);
    store.warmUp();
    expect(store.generatedCount).toBe(0);
    // The shared context exists now: the next new host's first handshake uses it.
    const a = store.getCert('after-warm-up.example', ['after-warm-up.example']);
    const b = store.getCert('other.example', ['other.example']);
    expect(store.handshakeContext(a)).toBe(store.handshakeContext(b));
  });
});
