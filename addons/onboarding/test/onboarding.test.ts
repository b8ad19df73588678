import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caPaths, CertStore, createProxy, HTTPRequest, type EmbeddedProxy } from '@mitmts/sdk';
import { tflow, withAddons, type TestContext } from '@mitmts/sdk/testing';
import { Onboarding } from '../src/index.js';

let confdir: string;
beforeAll(async () => {
  confdir = mkdtempSync(join(tmpdir(), 'mitmts-onboarding-'));
  await CertStore.fromConfdir(confdir);
});

const get = async (tctx: TestContext, url: string, mode = 'regular'): Promise<ReturnType<typeof tflow>> => {
  const f = tflow({ req: HTTPRequest.make('GET', url) });
  f.live = true;
  f.clientConn.proxyMode = mode;
  await tctx.trigger('request', f);
  return f;
};

describe('onboarding (unit)', () => {
  it('serves the page and the CA as PEM, DER and PKCS#12 from the confdir', async () => {
    const tctx = await withAddons([Onboarding], { confdir });
    const page = await get(tctx, 'http://mitm.it/');
    expect(page.response?.statusCode).toBe(200);
    expect(page.response?.headers.get('content-type')).toBe('text/html; charset=utf-8');
    for (const needle of [
      'NODE_EXTRA_CA_CERTS',
      'REQUESTS_CA_BUNDLE',
      'SSL_CERT_FILE',
      'keytool -importcert',
      'curl --cacert',
      'certutil.exe',
      'update-ca-certificates',
    ]) {
      expect(page.response?.text).toContain(needle);
    }
    const paths = caPaths(confdir, 'mitmproxy');
    const pem = await get(tctx, 'http://mitm.it/cert/pem');
    expect(pem.response?.rawContent).toEqual(readFileSync(paths.caCertPem));
    expect(pem.response?.headers.get('content-disposition')).toBe('attachment; filename=mitmproxy-ca-cert.pem');
    const cer = await get(tctx, 'http://mitm.it/cert/cer');
    expect(cer.response?.rawContent).toEqual(new X509Certificate(readFileSync(paths.caCertPem)).raw);
    const p12 = await get(tctx, 'http://mitm.it/cert/p12');
    expect(p12.response?.rawContent).toEqual(readFileSync(paths.caCertP12));
    expect(p12.response?.headers.get('content-type')).toBe('application/x-pkcs12');
  });

  it('answers unknown paths with 404 and leaves other hosts and ports alone', async () => {
    const tctx = await withAddons([Onboarding], { confdir });
    expect((await get(tctx, 'http://mitm.it/nope')).response?.statusCode).toBe(404);
    expect((await get(tctx, 'http://example.com/')).response).toBeNull();
    expect((await get(tctx, 'http://mitm.it:8080/')).response).toBeNull();
  });

  it('follows onboarding_host and onboarding_port, and the Host header outside regular mode', async () => {
    const tctx = await withAddons([Onboarding], { confdir, onboarding_host: 'ca.test', onboarding_port: 8080 });
    expect((await get(tctx, 'http://ca.test:8080/')).response?.statusCode).toBe(200);
    expect((await get(tctx, 'http://mitm.it/')).response).toBeNull();
    const transparent = tflow({ req: HTTPRequest.make('GET', 'http://10.0.0.1:8080/') });
    transparent.live = true;
    transparent.clientConn.proxyMode = 'transparent';
    transparent.request.headers.set('host', 'ca.test:8080');
    await tctx.trigger('request', transparent);
    expect(transparent.response?.statusCode).toBe(200);
  });

  it('does nothing with onboarding off', async () => {
    const tctx = await withAddons([Onboarding], { confdir, onboarding: false });
    expect((await get(tctx, 'http://mitm.it/')).response).toBeNull();
  });

  it('says when the CA cannot be read', async () => {
    const tctx = await withAddons([Onboarding], { confdir: join(confdir, 'missing') });
    const f = await get(tctx, 'http://mitm.it/cert/pem');
    expect(f.response?.statusCode).toBe(500);
    expect(tctx.hasLog(/onboarding: cannot read the CA certificate in .*missing/, 'warn')).toBe(true);
  });
});

describe('onboarding (end to end)', () => {
  let proxy: EmbeddedProxy;
  beforeAll(async () => {
    proxy = await createProxy({ addons: [Onboarding] });
  });
  afterAll(() => proxy.close());

  const curl = (url: string): Promise<Buffer> =>
    new Promise((resolve, reject) =>
      execFile('curl', ['-sS', '--fail', '-x', proxy.url, url], { encoding: 'buffer' }, (err, out) =>
        err ? reject(err) : resolve(out),
      ),
    );

  it('curl -x ... http://mitm.it/cert/pem is the CA file, byte for byte', async () => {
    expect(await curl('http://mitm.it/cert/pem')).toEqual(readFileSync(proxy.caCertPath));
    expect(await curl('http://mitm.it/cert/cer')).toEqual(new X509Certificate(readFileSync(proxy.caCertPath)).raw);
  });
});
