import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import { proxyWith, send, upstream, type Echo, type Upstream } from './support.js';

let up: Upstream;
let proxy: EmbeddedProxy;
beforeAll(async () => {
  up = await upstream();
  proxy = await proxyWith('http-modify-query-string.ts');
});
afterAll(async () => {
  await proxy.close();
  await up.close();
});

describe('http-modify-query-string', () => {
  it('adds a query parameter, keeping the others', async () => {
    const echo = JSON.parse((await send(proxy, `${up.url}/search?q=mitm`)).body) as Echo;
    expect(echo.url).toBe('/search?q=mitm&mitmproxy=rocks');
  });

  it('replaces an existing value', async () => {
    const echo = JSON.parse((await send(proxy, `${up.url}/?mitmproxy=sucks`)).body) as Echo;
    expect(echo.url).toBe('/?mitmproxy=rocks');
  });
});
