import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import { proxyWith, send, upstream, type Echo, type Upstream } from './support.js';

let up: Upstream;
let proxy: EmbeddedProxy;
beforeAll(async () => {
  up = await upstream();
  proxy = await proxyWith('http-modify-form.ts');
});
afterAll(async () => {
  await proxy.close();
  await up.close();
});

describe('http-modify-form', () => {
  it('adds a field to a submitted form', async () => {
    const r = await send(proxy, `${up.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=alice',
    });
    const echo = JSON.parse(r.body) as Echo;
    expect(echo.body).toBe('user=alice&mitmproxy=rocks');
  });

  it('puts a form into a request that has none', async () => {
    const echo = JSON.parse((await send(proxy, `${up.url}/plain`, { method: 'POST', body: '' })).body) as Echo;
    expect(echo.body).toBe('foo=bar');
    expect(echo.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });
});
