// Chromium with --proxy-server=socks5://...: names are resolved by the proxy (a domain target),
// and an HTTPS page is intercepted in the SOCKS5 tunnel with the proxy's CA in the browser's
// certificate store. Chromium is installed by the test where it can be (see chromium.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { browserProfile, dumpDom, ensureChromium } from '../helpers/browser.js';
import { confdirWithCa } from '../helpers/cli.js';
import { listenerPort } from '../helpers/modes.js';
import { httpsServer, type Upstream } from '../helpers/servers.js';

const tools = ensureChromium();
const missing = 'missing' in tools ? tools.missing : null;
if (missing) console.warn(`SOCKS5 browser test skipped: ${missing}`);

describe.skipIf(missing !== null)('Chromium through a socks5 listener', () => {
  let proxy: EmbeddedProxy;
  let secure: Upstream & { ca: { caCertPath: string } };
  const { chromium, certutil } = tools as { chromium: string; certutil: string };

  beforeAll(async () => {
    secure = await httpsServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><body><p id="page">${req.url} over socks</p></body></html>`);
    });
    proxy = await createProxy({
      confdir: confdirWithCa(),
      options: { mode: ['socks5@0'], ssl_verify_upstream_trusted_ca: secure.ca.caCertPath },
      addons: [
        {
          name: 'mark',
          response: (f: HTTPFlow) => {
            if (f.response?.headers.get('content-type')?.startsWith('text/html'))
              f.response.text = f.response.text!.replace('</body>', '<p id="mitmts">seen in socks5</p></body>');
          },
        },
      ],
    });
  }, 600_000);

  afterAll(async () => {
    await proxy?.close();
    await secure?.close();
  });

  it('loads an HTTPS page, intercepted in the SOCKS5 tunnel', async () => {
    const home = browserProfile(certutil, proxy.caCertPath);
    const socks = `socks5://127.0.0.1:${listenerPort(proxy, 'socks5')}`;
    const { dom, stderr } = await dumpDom(chromium, home, socks, `https://localhost:${secure.port}/page`);
    expect(dom, stderr).toContain('<p id="page">/page over socks</p>');
    expect(dom).toContain('<p id="mitmts">seen in socks5</p>');
    const f = proxy.flows.all().find((x) => (x as HTTPFlow).request?.path === '/page') as HTTPFlow;
    expect([f.request.scheme, f.request.host, f.clientConn.sni, f.clientConn.proxyMode]).toEqual([
      'https',
      'localhost',
      'localhost',
      'socks5@0',
    ]);
  }, 90_000);
});
