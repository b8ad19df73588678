import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import { proxyWith, send, upstream, type Upstream } from './support.js';

let up: Upstream;
let proxy: EmbeddedProxy;
beforeAll(async () => {
  up = await upstream();
  proxy = await proxyWith('options-configure.ts', { addheader: 42 });
});
afterAll(async () => {
  await proxy.close();
  await up.close();
});

describe('options-configure', () => {
  it('adds the header with the option value', async () => {
    expect((await send(proxy, `${up.url}/`)).headers.addheader).toBe('42');
  });

  it('rejects a value over 100 and keeps the old one', async () => {
    expect(() => proxy.kernel.options.set(['addheader=101'])).toThrow('addheader must be <= 100');
    expect((await send(proxy, `${up.url}/`)).headers.addheader).toBe('42');
  });
});
