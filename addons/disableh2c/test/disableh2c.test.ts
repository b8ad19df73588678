import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, HTTPHeaders, HTTPRequest, type EmbeddedProxy } from '@mitmts/sdk';
import { startOrigin, requestVia, tflow, withAddon, type Origin } from '@mitmts/sdk/testing';
import { DisableH2C } from '../src/index.js';

const H2C = { connection: 'keep-alive, Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA' };

describe('disableh2c (unit)', () => {
  it('removes the h2c offer and keeps the other Connection tokens', async () => {
    const tctx = await withAddon(DisableH2C);
    const f = tflow({ req: HTTPRequest.make('GET', 'http://example.com/', '', new HTTPHeaders(Object.entries({ ...H2C, accept: '*/*' }))) });
    await tctx.trigger('request', f);
    expect(f.request.headers.items(true).filter(([k]) => k !== 'content-length')).toEqual([
      ['connection', 'keep-alive'],
      ['accept', '*/*'],
    ]);
    expect(tctx.hasLog('h2c upgrade requests) are currently not supported', 'warn')).toBe(true);
  });

  it('leaves other upgrades (WebSocket) alone', async () => {
    const tctx = await withAddon(DisableH2C);
    const f = tflow({ req: HTTPRequest.make('GET', 'http://example.com/', '', { connection: 'Upgrade', upgrade: 'websocket' }) });
    await tctx.trigger('request', f);
    expect(f.request.headers.get('upgrade')).toBe('websocket');
  });

  it('kills an HTTP/2 prior-knowledge request', async () => {
    const tctx = await withAddon(DisableH2C);
    const f = tflow({ req: HTTPRequest.make('PRI', 'http://example.com/') });
    f.request.path = '*';
    f.request.httpVersion = 'HTTP/2.0';
    f.live = true;
    await tctx.trigger('request', f);
    expect(f.error?.msg).toBe('Connection killed.');
  });
});

describe('disableh2c (end to end)', () => {
  let server: Origin;
  let proxy: EmbeddedProxy;
  const seen: IncomingHttpHeaders[] = [];
  beforeAll(async () => {
    server = await startOrigin((req, res) => {
      seen.push(req.headers);
      res.end('still HTTP/1');
    });
    proxy = await createProxy({ addons: [DisableH2C] });
  });
  afterAll(async () => {
    await proxy.close();
    await server.close();
  });

  it('the server never sees the h2c offer, the client gets its HTTP/1 answer', async () => {
    const { body } = await requestVia(proxy, `${server.url}/`, { headers: H2C });
    expect(body.toString()).toBe('still HTTP/1');
    // What disableh2c leaves of Connection (keep-alive) is hop-by-hop: the proxy does not forward it.
    expect(seen.at(-1)!.connection).toBeUndefined();
    expect(seen.at(-1)!.upgrade).toBeUndefined();
    expect(seen.at(-1)!['http2-settings']).toBeUndefined();
  });
});
