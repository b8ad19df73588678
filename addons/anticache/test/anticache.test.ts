import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, Headers, type EmbeddedProxy } from '@mitmts/sdk';
import { tflow, treq, withAddon } from '@mitmts/sdk/testing';
import { AntiCache } from '../src/index.js';

const conditional = () =>
  treq({
    headers: new Headers([
      ['If-Modified-Since', 'Wed, 21 Oct 2015 07:28:00 GMT'],
      ['if-none-match', '"abc"'],
      ['accept', '*/*'],
    ]),
  });

describe('anticache (unit)', () => {
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
  let upstream: Server;
  let upstreamUrl: string;
  let seen: IncomingHttpHeaders[];
  let proxy: EmbeddedProxy;

  beforeAll(async () => {
    seen = [];
    upstream = createServer((req, res) => {
      seen.push(req.headers);
      // A server that honours conditional requests: 304 whenever the client has a copy.
      if (req.headers['if-none-match'] === '"v1"') res.writeHead(304).end();
      else res.writeHead(200, { etag: '"v1"' }).end('fresh');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/`;
    proxy = await createProxy({ addons: [AntiCache], options: { anticache: true } });
  });

  afterAll(async () => {
    await proxy.close();
    await new Promise((r) => upstream.close(r));
  });

  it('turns a conditional GET into a full 200 through a running proxy', async () => {
    const u = new URL(upstreamUrl);
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: proxy.host, port: proxy.port, path: upstreamUrl, agent: false, headers: { host: u.host, 'if-none-match': '"v1"', 'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT' } },
        (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (data += c));
          res.on('end', () => resolve({ status: res.statusCode!, body: data }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    expect(body).toBe('fresh');
    expect(seen.at(-1)!['if-none-match']).toBeUndefined();
    expect(seen.at(-1)!['if-modified-since']).toBeUndefined();
  });
});
