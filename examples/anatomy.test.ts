import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import { messages, proxyWith, send, upstream, type Upstream } from './support.js';

let up: Upstream;
let proxy: EmbeddedProxy;
beforeAll(async () => {
  up = await upstream();
  proxy = await proxyWith('anatomy.ts');
});
afterAll(async () => {
  await proxy.close();
  await up.close();
});

describe('anatomy', () => {
  it('counts the requests it sees', async () => {
    await send(proxy, `${up.url}/one`);
    await send(proxy, `${up.url}/two`);
    expect(messages(proxy, 'info')).toContain("We've seen 2 flows");
  });
});
