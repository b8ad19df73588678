// Headless Chromium (Debian's, driven by playwright-core) opens a wss:// WebSocket through the
// proxy, with the proxy's CA in its NSS store, and echoes 100 messages; the flow records them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createProxy, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { ensureChromium, launchChromium } from '../helpers/browser.js';
import { echo, HookLog, wsServer, type WsServer } from '../helpers/websocket.js';

const tools = ensureChromium();
const missing = 'missing' in tools ? tools.missing : null;
if (missing) console.warn(`Chromium WebSocket test skipped: ${missing}`);

describe.skipIf(missing !== null)('Chromium WebSocket through the proxy', () => {
  let proxy: EmbeddedProxy;
  let up: WsServer;
  let browser: Browser;
  const log = new HookLog();

  beforeAll(async () => {
    up = await wsServer({ tls: true, deflate: true });
    echo(up);
    proxy = await createProxy({ addons: [log], options: { ssl_verify_upstream_trusted_ca: up.caCertPath } });
    browser = await launchChromium(tools as { chromium: string; certutil: string }, proxy.url, proxy.caCertPath);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await up?.close();
  });

  it('echoes 100 messages over wss:// (permessage-deflate as Chromium offers it)', async () => {
    const ended = log.nextEnd('/chromium');
    const page = await browser.newPage();
    const result = await page.evaluate(async (url: string) => {
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new Error('WebSocket failed to open'));
      });
      const echoes: string[] = [];
      for (let i = 0; i < 100; i++) {
        const msg =
          i % 2 === 0
            ? `chromium says ${i} ${'é'.repeat(i)}`
            : new Uint8Array(Array.from({ length: i * 10 }, (_, j) => (i + j) & 255));
        const got = new Promise<string>(
          (resolve) =>
            (ws.onmessage = (e) =>
              resolve(
                typeof e.data === 'string' ? e.data : Array.from(new Uint8Array(e.data as ArrayBuffer)).join(','),
              )),
        );
        ws.send(msg);
        const want = typeof msg === 'string' ? msg : Array.from(msg).join(',');
        if ((await got) !== want) throw new Error(`echo ${i} differs`);
        echoes.push(want);
      }
      const closed = new Promise<number>((resolve) => (ws.onclose = (e) => resolve(e.code)));
      ws.close(1000, 'page done');
      return { count: echoes.length, extensions: ws.extensions, closeCode: await closed };
    }, `${up.url}/chromium`);
    expect(result).toEqual({ count: 100, extensions: expect.stringContaining('permessage-deflate'), closeCode: 1000 });
    const f: HTTPFlow = await ended;
    expect(f.request.headers.get('user-agent')).toMatch(/HeadlessChrome/);
    expect(f.clientConn.tlsEstablished).toBe(true);
    expect(f.websocket!.messages).toHaveLength(200);
    expect(f.websocket!.messages[0]!.text).toBe('chromium says 0 ');
    expect(f.websocket).toMatchObject({ closedByClient: true, closeCode: 1000, closeReason: 'page done' });
    await page.close();
  }, 90_000);
});
