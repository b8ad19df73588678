import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTPFlow, type EmbeddedProxy } from '@mitmts/sdk';
import { messages, proxyWith, send, upstream, type Upstream } from './support.js';

let up: Upstream;
let proxy: EmbeddedProxy;
beforeAll(async () => {
  up = await upstream();
  proxy = await proxyWith('commands-flows.ts');
});
afterAll(async () => {
  await proxy.close();
  await up.close();
});

describe('commands-flows', () => {
  it('adds a header to the flows a filter selects', async () => {
    await send(proxy, `${up.url}/keep`);
    await send(proxy, `${up.url}/tag`);
    await proxy.kernel.commands.execute('myaddon.addheader "~u /tag"');
    const [keep, tag] = proxy.flows.all() as HTTPFlow[];
    expect(tag!.request.headers.get('myheader')).toBe('value');
    expect(keep!.request.headers.has('myheader')).toBe(false);
    expect(messages(proxy, 'alert')).toEqual(['done']);
  });
});
