import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, HTTPHeaders, type EmbeddedProxy } from '@mitmts/sdk';
import { requestVia, startOrigin, tflow, treq, withAddon, type Origin } from '@mitmts/sdk/testing';
import { AntiComp } from '../src/index.js';

describe('anticomp (unit)', () => {
  it('leaves its request hook out of the chain while the option is off (activeWhen)', async () => {
    const tctx = await withAddon(AntiComp);
    expect(tctx.kernel.addons.has('request')).toBe(false);
    tctx.configure({ anticomp: true });
    expect(tctx.kernel.addons.has('request')).toBe(true);
  });

  it('does nothing while the option is off', async () => {
    const tctx = await withAddon(AntiComp);
    const f = tflow({ req: treq({ headers: new HTTPHeaders([['Accept-Encoding', 'gzip, br']]) }) });
    await tctx.trigger('request', f);
    expect(f.request.headers.get('accept-encoding')).toBe('gzip, br');
  });

  it('replaces Accept-Encoding with identity, or adds it', async () => {
    const tctx = await withAddon(AntiComp);
    tctx.configure({ anticomp: true });
    const f = tflow({
      req: treq({
        headers: new HTTPHeaders([
          ['Accept-Encoding', 'gzip, br'],
          ['accept-encoding', 'zstd'],
        ]),
      }),
    });
    await tctx.trigger('request', f);
    expect(f.request.headers.getAll('accept-encoding')).toEqual(['identity']);
    const bare = tflow();
    await tctx.trigger('request', bare);
    expect(bare.request.headers.get('accept-encoding')).toBe('identity');
  });
});

describe('anticomp (end to end)', () => {
  let origin: Origin;
  let proxy: EmbeddedProxy;

  beforeAll(async () => {
    // Compress whenever the client allows gzip, as real servers do.
    origin = await startOrigin((req, res) => {
      if (/gzip/.test(req.headers['accept-encoding'] ?? ''))
        res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('plain text'));
      else res.writeHead(200).end('plain text');
    });
    proxy = await createProxy({ addons: [AntiComp], options: { anticomp: true } });
  });

  afterAll(async () => {
    await proxy.close();
    await origin.close();
  });

  it('gets an uncompressed body for a client that asked for gzip', async () => {
    const r = await requestVia(proxy, `${origin.url}/`, { headers: { 'accept-encoding': 'gzip, deflate' } });
    expect(origin.requests.at(-1)!.headers['accept-encoding']).toBe('identity');
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.text).toBe('plain text');
  });
});
