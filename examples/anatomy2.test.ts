import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import { proxyWith, send, upstream, type Echo, type Upstream } from './support.js';

let up: Upstream;
let proxy: EmbeddedProxy;
beforeAll(async () => {
  up = await upstream();
  proxy = await proxyWith('anatomy2.ts');
});
afterAll(async () => {
  await proxy.close();
  await up.close();
});

describe('anatomy2', () => {
  it('adds a header to every request', async () => {
    const echo = JSON.parse((await send(proxy, `${up.url}/`)).body) as Echo;
    expect(echo.headers.myheader).toBe('value');
  });
});
