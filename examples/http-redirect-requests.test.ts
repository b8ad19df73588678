import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import { proxyWith, send, upstream, type Echo, type Upstream } from './support.js';

let up: Upstream;
let proxy: EmbeddedProxy;
beforeAll(async () => {
  up = await upstream();
  proxy = await proxyWith('http-redirect-requests.ts', {
    redirect_from: 'example.org',
    redirect_to: `127.0.0.1:${up.port}`,
  });
});
afterAll(async () => {
  await proxy.close();
  await up.close();
});

describe('http-redirect-requests', () => {
  it('sends requests for example.org to the configured host', async () => {
    const r = await send(proxy, 'http://example.org/some/path?x=1');
    expect(r.status).toBe(200);
    const echo = JSON.parse(r.body) as Echo;
    expect(echo.url).toBe('/some/path?x=1');
    // Setting host and port updates the Host header to host:port, as current mitmproxy does.
    expect(echo.headers.host).toBe(`127.0.0.1:${up.port}`);
  });

  it('rejects a target without a port, keeping the previous one', async () => {
    expect(() => proxy.kernel.options.update({ redirect_to: 'nowhere' })).toThrow(
      'redirect_to: expected host:port, got "nowhere".',
    );
    expect(proxy.kernel.options.get('redirect_to')).toBe(`127.0.0.1:${up.port}`);
    expect((await send(proxy, 'http://example.org/again')).status).toBe(200);
  });
});
