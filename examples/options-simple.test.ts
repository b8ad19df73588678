import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import { proxyWith, send, upstream, type Upstream } from './support.js';

let up: Upstream;
let proxy: EmbeddedProxy;
beforeAll(async () => {
  up = await upstream();
  proxy = await proxyWith('options-simple.ts');
});
afterAll(async () => {
  await proxy.close();
  await up.close();
});

describe('options-simple', () => {
  it('does nothing until the option is set, then counts', async () => {
    expect((await send(proxy, `${up.url}/`)).headers.count).toBeUndefined();
    proxy.kernel.options.set(['addheader=true']);
    expect((await send(proxy, `${up.url}/`)).headers.count).toBe('1');
    expect((await send(proxy, `${up.url}/`)).headers.count).toBe('2');
  });
});
