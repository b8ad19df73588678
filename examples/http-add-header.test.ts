import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import { proxyWith, send, upstream, type Upstream } from './support.js';

let up: Upstream;
let proxy: EmbeddedProxy;
beforeAll(async () => {
  up = await upstream();
  proxy = await proxyWith('http-add-header.ts');
});
afterAll(async () => {
  await proxy.close();
  await up.close();
});

describe('http-add-header', () => {
  it('numbers the responses', async () => {
    expect((await send(proxy, `${up.url}/a`)).headers.count).toBe('1');
    expect((await send(proxy, `${up.url}/b`)).headers.count).toBe('2');
  });
});
