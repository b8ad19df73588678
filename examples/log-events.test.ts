import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import { proxyWith } from './support.js';

let proxy: EmbeddedProxy;
beforeAll(async () => {
  proxy = await proxyWith('log-events.ts');
});
afterAll(() => proxy.close());

describe('log-events', () => {
  it('logs at each level, tagged with the addon', () => {
    const mine = proxy.logs.filter((e) => e.addon === 'logevents').map((e) => [e.level, e.message.split('.')[0]]);
    expect(mine).toEqual([
      ['info', 'This is some informative text'],
      ['warn', 'This is a warning'],
      ['error', 'This is an error'],
      ['alert', 'This is an alert'],
    ]);
  });
});
