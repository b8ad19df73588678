import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, HTTPHeaders, type EmbeddedProxy } from '@mitmts/sdk';
import { requestVia, startOrigin, tflow, treq, withAddon, type Origin } from '@mitmts/sdk/testing';
import { AntiCache } from '../src/index.js';

const conditional = () =>
  treq({
    headers: new HTTPHeaders([
      ['If-Modified-Since', 'Wed, 21 Oct 2015 07:28:00 GMT'],
      ['if-none-match', '"abc"'],
      ['accept', '*/*'],
    ]),
  });

describe('anticache (unit)', () => {
  it('leaves its request hook out of the chain while the option is off (activeWhen)', async () => {
    const tctx = await withAddon(AntiCache);
    expect(tctx.kernel.addons.has('request')).toBe(false);
    tctx.configure({ anticache: true });
    expect(tctx.kernel.addons.has('request')).toBe(true);
  });

  it('does nothing while the option is off', async () => {
    const tctx = await withAddon(AntiCache);
    const f = tflow({ req: conditional() });
    await tctx.trigger('request', f);
    expect(f.request.headers.has('if-modified-since')).toBe(true);
    expect(f.request.headers.has('if-none-match')).toBe(true);
  });

  it('strips If-Modified-Since and If-None-Match (any case) and keeps the rest', async () => {
    const tctx = await withAddon(AntiCache);
    tctx.configure({ anticache: true });
    const f = tflow({ req: conditional() });
    await tctx.trigger('request', f);
    expect(f.request.headers.items(true)).toEqual([['accept', '*/*']]);
  });

  it('declares the option as mitmproxy does', async () => {
    const tctx = await withAddon(AntiCache);
    const info = tctx.kernel.options.info('anticache');
    expect([info.type, info.default, info.owner]).toEqual(['bool', false, 'anticache']);
  });
});

describe('anticache (end to end)', () => {
  let origin: Origin;
  let proxy: EmbeddedProxy;

  beforeAll(async () => {
    // A server that honours conditional requests: 304 whenever the client has a copy.
    origin = await startOrigin((req, res) => {
      if (req.headers['if-none-match'] === '"v1"') res.writeHead(304).end();
      else res.writeHead(200, { etag: '"v1"' }).end('fresh');
    });
    proxy = await createProxy({ addons: [AntiCache], options: { anticache: true } });
  });

  afterAll(async () => {
    await proxy.close();
    await origin.close();
  });

  it('turns a conditional GET into a full 200 through a running proxy', async () => {
    const r = await requestVia(proxy, `${origin.url}/`, {
      headers: { 'if-none-match': '"v1"', 'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT' },
    });
    expect(r.status).toBe(200);
    expect(r.text).toBe('fresh');
    expect(origin.requests.at(-1)!.headers['if-none-match']).toBeUndefined();
    expect(origin.requests.at(-1)!.headers['if-modified-since']).toBeUndefined();
  });
});
