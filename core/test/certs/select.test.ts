import { describe, expect, it } from 'vitest';
import { Cert, CertStore, crlUrlFor, selectNames } from '../../src/certs/index.js';
import { forgeCert, tempDir } from './helpers.js';

describe('selectNames', () => {
  const upstream = Cert.fromPem(
    forgeCert({
      cn: 'upstream.example',
      o: 'Upstream Org',
      sans: [{ dns: 'upstream.example' }, { dns: 'www.upstream.example' }, { ip: '203.0.113.9' }],
      crl: 'http://crl.upstream.example:8080/ca/latest.crl',
    }).certPem,
  );

  it('uses the SNI, then the server address', () => {
    expect(selectNames({ sni: 'example.com', serverAddressHost: '93.184.216.34' })).toEqual({
      cn: 'example.com',
      sans: ['example.com', '93.184.216.34'],
      organization: null,
      crlUrl: null,
    });
  });

  it('falls back to the CONNECT host, else the local address, without SNI', () => {
    expect(
      selectNames({
        sni: null,
        connectHost: 'example.com',
        localAddress: '127.0.0.1',
        serverAddressHost: 'example.com',
      }).sans,
    ).toEqual(['example.com']);
    // mitmproxy's rule: the local address the client connected to.
    expect(selectNames({ localAddress: '127.0.0.1', serverAddressHost: '10.0.0.5' })).toMatchObject({
      cn: '127.0.0.1',
      sans: ['127.0.0.1', '10.0.0.5'],
    });
    expect(selectNames({ sni: '', localAddress: '::ffff:127.0.0.1' }).sans).toEqual(['::ffff:7f00:1']);
  });

  it('puts the upstream CN and SANs first, copies O, and derives the CRL URL', () => {
    const n = selectNames({
      sni: 'www.upstream.example',
      serverAddressHost: '203.0.113.9',
      upstreamCert: upstream,
      caSerial: 12345n,
    });
    expect(n).toEqual({
      cn: 'upstream.example',
      sans: ['upstream.example', 'www.upstream.example', '203.0.113.9'],
      organization: 'Upstream Org',
      crlUrl: 'http://crl.upstream.example:8080/mitmproxy-12345.crl',
    });
    expect(upstream.crlDistributionPoints).toEqual(['http://crl.upstream.example:8080/ca/latest.crl']);
  });

  it('leaves the CRL URL out without the CA serial', () => {
    expect(selectNames({ sni: 'x.example', upstreamCert: upstream }).crlUrl).toBeNull();
  });

  it('de-duplicates after normalization and drops names that cannot be encoded', () => {
    expect(selectNames({ sni: 'bücher.de', serverAddressHost: 'xn--bcher-kva.de' }).sans).toEqual(['xn--bcher-kva.de']);
    expect(selectNames({ sni: '0:0:0:0:0:0:0:1', serverAddressHost: '::1' }).sans).toEqual(['::1']);
    expect(selectNames({ sni: 'bad name ü', serverAddressHost: 'ok.example' })).toMatchObject({
      cn: 'ok.example',
      sans: ['ok.example'],
    });
  });

  it('gives no names when nothing is known', () => {
    expect(selectNames({})).toEqual({ cn: null, sans: [], organization: null, crlUrl: null });
  });

  it('crlUrlFor keeps scheme, host and a non-default port only', () => {
    expect(crlUrlFor('https://crl.example:443/a/b.crl', 7n)).toBe('https://crl.example/mitmproxy-7.crl');
    expect(crlUrlFor('not a url', 7n)).toBeNull();
  });

  it('CertStore.selectNames fills in the CA serial', async () => {
    const store = await CertStore.fromConfdir(tempDir());
    const n = store.selectNames({ sni: 'a.example', upstreamCert: upstream });
    expect(n.crlUrl).toBe(`http://crl.upstream.example:8080${store.crlPath}`);
    expect(store.crlPath).toBe(`/mitmproxy-${store.ca.serial}.crl`);
    const leaf = store.getCert(n.cn, n.sans, n.organization, n.crlUrl).cert;
    expect(leaf.cn).toBe('upstream.example');
    expect(leaf.organization).toBe('Upstream Org');
    expect(leaf.crlDistributionPoints).toEqual([n.crlUrl]);
  });
});
