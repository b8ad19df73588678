import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import { proxyWith, send, upstream, type Upstream } from './support.js';

let up: Upstream;
let proxy: EmbeddedProxy;
beforeAll(async () => {
  up = await upstream();
  proxy = await proxyWith('internet-in-mirror.ts');
});
afterAll(async () => {
  await proxy.close();
  await up.close();
});

describe('internet-in-mirror', () => {
  it('flips pages by inserting a style sheet into their head', async () => {
    const r = await send(proxy, `${up.url}/page`);
    expect(r.body).toBe(
      '<html><head><title>t</title><style>body {transform: scaleX(-1);}</style></head><body>page</body></html>',
    );
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body));
  });
});
