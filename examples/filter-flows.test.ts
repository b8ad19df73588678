import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import { messages, proxyWith, send, upstream, type Upstream } from './support.js';

let up: Upstream;
let proxy: EmbeddedProxy;
beforeAll(async () => {
  up = await upstream();
  proxy = await proxyWith('filter-flows.ts', { flowfilter: '~u /api/ & ~m POST' });
});
afterAll(async () => {
  await proxy.close();
  await up.close();
});

describe('filter-flows', () => {
  it('logs only the flows matching the option', async () => {
    await send(proxy, `${up.url}/api/users`, { method: 'POST', body: 'x' });
    await send(proxy, `${up.url}/api/users`);
    await send(proxy, `${up.url}/other`, { method: 'POST', body: 'x' });
    expect(messages(proxy, 'info').filter((m) => m.startsWith('Flow matches'))).toEqual([
      `Flow matches filter: POST ${up.url}/api/users -> 200`,
    ]);
  });

  it('rejects an invalid filter, keeping the previous one', () => {
    expect(() => proxy.kernel.options.update({ flowfilter: '~u (' })).toThrow(/^flowfilter: /);
    expect(proxy.kernel.options.get('flowfilter')).toBe('~u /api/ & ~m POST');
  });
});
