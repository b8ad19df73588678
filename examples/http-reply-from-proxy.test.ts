import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import { proxyWith, send } from './support.js';

let proxy: EmbeddedProxy;
beforeAll(async () => {
  proxy = await proxyWith('http-reply-from-proxy.ts');
});
afterAll(() => proxy.close());

describe('http-reply-from-proxy', () => {
  it('answers http://example.com/path without contacting example.com', async () => {
    const r = await send(proxy, 'http://example.com/path');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html');
    expect(r.body).toBe('Hello World');
    expect(proxy.flows.all().at(-1)!.serverConn.timestampStart).toBeNull();
  });
});
