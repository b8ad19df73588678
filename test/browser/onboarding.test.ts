// The onboarding page in a real browser: headless Chromium (Debian's, driven by playwright-core)
// loads http://mitm.it through the proxy, follows a download link, and a screenshot is kept in
// test-artifacts/ for people to look at.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy } from '@mitmts/sdk';
import { Onboarding } from '@mitmts/addon-onboarding';
import { ensureChromium, launchChromium } from '../helpers/browser.js';

const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');
const tools = ensureChromium();
const missing = 'missing' in tools ? tools.missing : null;
if (missing) console.warn(`browser tests skipped: ${missing}`);

describe.skipIf(missing !== null)('onboarding in Chromium', () => {
  let proxy: EmbeddedProxy;
  let browser: Browser;

  beforeAll(async () => {
    proxy = await createProxy({ addons: [Onboarding] });
    browser = await launchChromium(tools as { chromium: string; certutil: string }, proxy.url);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
  });

  it('shows the install page from the proxy itself and downloads the CA', async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const hosts = new Set<string>();
    page.on('request', (r) => hosts.add(new URL(r.url()).host));
    const response = await page.goto('http://mitm.it/');
    expect(response?.status()).toBe(200);
    await expect(page.title()).resolves.toBe('mitmts: install the CA certificate');
    expect(await page.locator('h1').innerText()).toBe('Install the mitmts certificate authority');
    expect(await page.locator('#node').innerText()).toContain('NODE_EXTRA_CA_CERTS');
    // Self-contained: nothing but mitm.it was asked for.
    expect([...hosts]).toEqual(['mitm.it']);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'onboarding.png'), fullPage: true });

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('.files a[href="/cert/pem"]').click(),
    ]);
    expect(download.suggestedFilename()).toBe('mitmproxy-ca-cert.pem');
    const saved = join(ARTIFACTS, 'downloaded-ca-cert.pem');
    await download.saveAs(saved);
    expect(readFileSync(saved)).toEqual(readFileSync(proxy.caCertPath));
    await context.close();
  }, 90_000);
});
