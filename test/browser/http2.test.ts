// Headless Chromium (Debian's, driven by playwright-core) loading a page with 100 subresources
// over HTTP/2 through the proxy, with the proxy's CA trusted in its NSS store (no certificate
// errors ignored): the browser reports `h2` for every resource (Performance API), and every
// stream is one HTTP/2.0 flow.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { ensureChromium, launchChromium } from '../helpers/browser.js';
import { h2Origin } from '../helpers/h2.js';

const N = 100;
const PAGE = `<!doctype html><html><head><title>h2</title></head><body>${Array.from({ length: N }, (_, i) => `<img src="/img/${i}.svg" width="1" height="1">`).join('')}</body></html>`;
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>';

/** What the page's Performance API says, evaluated in the page (the tests compile without the DOM lib). */
declare const performance: { getEntriesByType(t: string): Array<{ name: string; nextHopProtocol: string }> };

const tools = ensureChromium();
const missing = 'missing' in tools ? tools.missing : null;
if (missing) console.warn(`HTTP/2 browser test skipped: ${missing}`);

describe.skipIf(missing !== null)('Chromium over HTTP/2 through the proxy', () => {
  let proxy: EmbeddedProxy;
  let origin: Awaited<ReturnType<typeof h2Origin>>;
  let browser: Browser;

  beforeAll(async () => {
    origin = await h2Origin((stream, headers) => {
      const path = String(headers[':path']);
      if (path.startsWith('/img/')) {
        stream.respond({ ':status': 200, 'content-type': 'image/svg+xml' });
        stream.end(SVG);
      } else {
        stream.respond({ ':status': 200, 'content-type': 'text/html' });
        stream.end(PAGE);
      }
    });
    proxy = await createProxy({ options: { ssl_verify_upstream_trusted_ca: origin.caCertPath } });
    browser = await launchChromium(tools as { chromium: string; certutil: string }, proxy.url, proxy.caCertPath);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await origin?.close();
  });

  it(`loads a page with ${N} subresources, all over h2, each one HTTP/2.0 flow`, async () => {
    const page = await browser.newPage();
    const url = `https://localhost:${origin.port}/page`;
    const response = await page.goto(url, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    const entries = await page.evaluate(() =>
      [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].map((e) => [
        e.name,
        e.nextHopProtocol,
      ]),
    );
    // Chromium may list its favicon request among the resources (the flows below leave it out too)
    expect(entries.filter(([name]) => !name!.endsWith('/favicon.ico'))).toHaveLength(N + 1);
    expect(new Set(entries.map(([, p]) => p))).toEqual(new Set(['h2']));
    await page.close();
    const flows = proxy.flows
      .all()
      .filter(
        (f): f is HTTPFlow =>
          'request' in f &&
          (f as HTTPFlow).request.port === origin.port &&
          (f as HTTPFlow).request.method !== 'CONNECT',
      ) as HTTPFlow[];
    const paths = flows.map((f) => f.request.path).filter((p) => p !== '/favicon.ico');
    expect(paths.sort()).toEqual(['/page', ...Array.from({ length: N }, (_, i) => `/img/${i}.svg`)].sort());
    expect(new Set(flows.map((f) => f.request.httpVersion))).toEqual(new Set(['HTTP/2.0']));
    expect(flows.every((f) => f.response?.statusCode === 200)).toBe(true);
    // one client connection carried them, multiplexed onto one server connection
    expect(new Set(flows.map((f) => f.clientConn.id)).size).toBe(1);
    expect(new Set(flows.map((f) => f.serverConn.id)).size).toBe(1);
  }, 90_000);
});
