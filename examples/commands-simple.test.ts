import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import { messages, proxyWith } from './support.js';

let proxy: EmbeddedProxy;
beforeAll(async () => {
  proxy = await proxyWith('commands-simple.ts');
});
afterAll(() => proxy.close());

describe('commands-simple', () => {
  it('registers myaddon.inc', async () => {
    await proxy.command('myaddon.inc');
    await proxy.kernel.commands.execute('myaddon.inc');
    expect(messages(proxy, 'info').filter((m) => m.startsWith('num ='))).toEqual(['num = 1', 'num = 2']);
    expect(proxy.kernel.commands.get('myaddon.inc').help).toBe('Increment the counter and log it.');
  });
});
