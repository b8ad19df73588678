// A real browser through the proxy: Debian's headless Chromium, with the proxy's CA installed in
// its NSS database the way a user installs mitmproxy's CA once. Chromium is installed by the
// test itself where it can be (root with apt-get: CI); elsewhere the suite says why it skipped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addon, createProxy, hook, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { browserProfile, dumpDom, ensureChromium } from '../helpers/browser.js';
import { httpServer, httpsServer, type Upstream } from '../helpers/servers.js';

/** Marks every HTML page it sees, so the browser's DOM shows that the proxy changed it. */
@addon({ name: 'marker' })
class Marker {
  @hook('response') response(f: HTTPFlow): void {
    const r = f.response!;
    if (r.headers.get('content-type')?.startsWith('text/html')) {
      r.text = r.text!.replace('</body>', `<p id="mitmts">seen by mitmts: ${f.request.scheme}</p></body>`);
    }
  }
}

const PAGE =
  '<!doctype html><html><head><title>t</title><script src="/app.js"></script></head><body><p id="origin">from the origin</p></body></html>';
const APP_JS =
  'document.addEventListener("DOMContentLoaded", () => document.body.insertAdjacentHTML("beforeend", "<p id=\\"js\\">script ran</p>"));';

const tools = ensureChromium();
const missing = 'missing' in tools ? tools.missing : null;
if (missing) console.warn(`browser tests skipped: ${missing}`);

describe.skipIf(missing !== null)('Chromium through the proxy', () => {
  let proxy: EmbeddedProxy;
  let plain: Upstream;
  let secure: Awaited<ReturnType<typeof httpsServer>>;
  const { chromium, certutil } = tools as { chromium: string; certutil: string };

  beforeAll(async () => {
    const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void => {
      if (req.url === '/app.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(APP_JS);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    };
    plain = await httpServer(handler);
    secure = await httpsServer(handler);
    proxy = await createProxy({ addons: [Marker], options: { ssl_verify_upstream_trusted_ca: secure.ca.caCertPath } });
  }, 600_000);

  afterAll(async () => {
    await proxy?.close();
    await plain?.close();
    await secure?.close();
  });

  const flowsFor = (url: string): HTTPFlow[] =>
    proxy.flows
      .all()
      .filter((f): f is HTTPFlow => 'request' in f && (f as HTTPFlow).request.prettyUrl.startsWith(url)) as HTTPFlow[];

  it('loads a plain HTTP page and its script through the proxy, as changed by an addon', async () => {
    const home = browserProfile(certutil);
    const url = `http://localhost:${plain.port}`;
    const { dom, stderr } = await dumpDom(chromium, home, proxy.url, `${url}/page`);
    expect(dom, stderr).toContain('<p id="origin">from the origin</p>');
    expect(dom).toContain('<p id="mitmts">seen by mitmts: http</p>');
    expect(dom).toContain('<p id="js">script ran</p>');
    const flows = flowsFor(url);
    expect(
      flows
        .map((f) => f.request.path)
        .filter((p) => p !== '/favicon.ico')
        .sort(),
    ).toEqual(['/app.js', '/page']);
    expect(flows[0]!.request.headers.get('user-agent')).toMatch(/HeadlessChrome/);
  }, 90_000);

  it('loads HTTPS pages (by name and by IP address) with the CA installed once in its certificate store', async () => {
    const home = browserProfile(certutil, proxy.caCertPath);
    for (const host of ['localhost', '127.0.0.1']) {
      const url = `https://${host}:${secure.port}`;
      const { dom, stderr } = await dumpDom(chromium, home, proxy.url, `${url}/page`);
      expect(dom, stderr).toContain('<p id="origin">from the origin</p>');
      expect(dom).toContain('<p id="mitmts">seen by mitmts: https</p>');
      expect(dom).toContain('<p id="js">script ran</p>');
      const flows = flowsFor(url);
      expect(
        flows
          .map((f) => f.request.path)
          .filter((p) => p !== '/favicon.ico')
          .sort(),
      ).toEqual(['/app.js', '/page']);
      // Intercepted, not passed through: the proxy saw the TLS handshake and the plaintext.
      expect(flows[0]!.clientConn.tlsEstablished).toBe(true);
      expect(flows[0]!.clientConn.sni).toBe(host === 'localhost' ? 'localhost' : null);
    }
  }, 120_000);

  it('tells the user how to install the CA when the browser does not trust it', async () => {
    const home = browserProfile(certutil);
    const before = proxy.logs.length;
    const { dom, stderr } = await dumpDom(chromium, home, proxy.url, `https://localhost:${secure.port}/untrusted`);
    expect(dom, stderr).not.toContain('from the origin');
    // The browser's own wording of the refusal differs between Chromium versions (older ones
    // print ERR_CERT_AUTHORITY_INVALID on stderr, 150 does not): the proxy's hint is the product.
    const warnings = proxy.logs
      .slice(before)
      .filter((l) => l.level === 'warn')
      .map((l) => l.message);
    expect(warnings.some((m) => m.includes('does not trust the proxy') && m.includes(proxy.caCertPath))).toBe(true);
    expect(flowsFor(`https://localhost:${secure.port}/untrusted`)).toHaveLength(0);
  }, 90_000);
});
