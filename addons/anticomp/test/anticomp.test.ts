import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, Headers, type EmbeddedProxy } from '@mitmts/sdk';
import { tflow, treq, withAddon } from '@mitmts/sdk/testing';
import { AntiComp } from '../src/index.js';

describe('anticomp (unit)', () => {
  it('does nothing while the option is off', async () => {
    const tctx = await withAddon(AntiComp);
    const f = tflow({ req: treq({ headers: new Headers([['Accept-Encoding', 'gzip, br']]) }) });
    await tctx.trigger('request', f);
    expect(f.request.headers.get('accept-encoding')).toBe('gzip, br');
  });

  it('replaces Accept-Encoding with identity, or adds it', async () => {
    const tctx = await withAddon(AntiComp);
    tctx.configure({ anticomp: true });
    const f = tflow({ req: treq({ headers: new Headers([['Accept-Encoding', 'gzip, br'], ['accept-encoding', 'zstd']]) }) });
    await tctx.trigger('request', f);
    expect(f.request.headers.getAll('accept-encoding')).toEqual(['identity']);
    const bare = tflow();
    await tctx.trigger('request', bare);
    expect(bare.request.headers.get('accept-encoding')).toBe('identity');
  });
});

describe('anticomp (end to end)', () => {
  let upstream: Server;
  let upstreamUrl: string;
  let seen: IncomingHttpHeaders[];
  let proxy: EmbeddedProxy;

  beforeAll(async () => {
    seen = [];
    upstream = createServer((req, res) => {
      seen.push(req.headers);
      // Compress whenever the client allows gzip, as real servers do.
      if (/gzip/.test(req.headers['accept-encoding'] ?? '')) res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('plain text'));
      else res.writeHead(200).end('plain text');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/`;
    proxy = await createProxy({ addons: [AntiComp], options: { anticomp: true } });
  });

  afterAll(async () => {
    await proxy.close();
    await new Promise((r) => upstream.close(r));
  });

  it('gets an uncompressed body for a client that asked for gzip', async () => {
    const { encoding, body } = await new Promise<{ encoding: string | undefined; body: string }>((resolve, reject) => {
      const req = request(
        { host: proxy.host, port: proxy.port, path: upstreamUrl, agent: false, headers: { host: new URL(upstreamUrl).host, 'accept-encoding': 'gzip, deflate' } },
        (res) => {
          let data = '';
          res.setEncoding('latin1');
          res.on('data', (c: string) => (data += c));
          res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: data }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(seen.at(-1)!['accept-encoding']).toBe('identity');
    expect(encoding).toBeUndefined();
    expect(body).toBe('plain text');
  });
});
