import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import { proxyWith, send, upstream, type Upstream } from './support.js';

let up: Upstream;
let proxy: EmbeddedProxy;
beforeAll(async () => {
  up = await upstream();
  proxy = await proxyWith('nonblocking.ts', { nonblocking_delay: 500 });
});
afterAll(async () => {
  await proxy.close();
  await up.close();
});

describe('nonblocking', () => {
  it('lets other requests through while one waits in an async hook', async () => {
    const order: string[] = [];
    // Send the fast request once the slow one waits in the hook (the example logs it).
    const waiting = new Promise<void>((resolve) => {
      const off = proxy.kernel.log.onEntry((e) => {
        if (e.message.startsWith('handle request:')) {
          off();
          resolve();
        }
      });
    });
    const slow = send(proxy, `${up.url}/slow`).then(() => order.push('slow'));
    await waiting;
    const fast = send(proxy, `${up.url}/fast`).then(() => order.push('fast'));
    await Promise.all([slow, fast]);
    expect(order).toEqual(['fast', 'slow']);
  });
});
