import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, Response, type EmbeddedProxy } from '@mitmts/sdk';
import { tflow, withAddon } from '@mitmts/sdk/testing';
import { ServerSideEvents } from '../src/index.js';

describe('serversideevents (unit)', () => {
  it('warns about a buffered event stream, not about a streamed one or other content', async () => {
    const tctx = await withAddon(ServerSideEvents);
    const sse = tflow({ resp: Response.make(200, '', { 'content-type': 'text/event-stream; charset=utf-8' }) });
    await tctx.trigger('responseheaders', sse);
    expect(tctx.messages('warn')).toEqual([
      'http://address:22/path: server-sent events are held until the response ends, because it is not streamed. Stream it: set flow.response.stream = true in a script (responseheaders), or use stream_large_bodies.',
    ]);
    const streamed = tflow({ resp: Response.make(200, '', { 'content-type': 'text/event-stream' }) });
    streamed.response!.stream = true;
    await tctx.trigger('responseheaders', streamed);
    await tctx.trigger('responseheaders', tflow({ resp: true }));
    expect(tctx.messages('warn')).toHaveLength(1);
  });
});

describe('serversideevents (end to end)', () => {
  let server: Server;
  let base: string;
  let proxy: EmbeddedProxy;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      res.end('data: two\n\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    proxy = await createProxy({ addons: [ServerSideEvents] });
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise((r) => server.close(r));
  });

  it('the events arrive (once the stream ends) and the log says why they were held', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: proxy.host, port: proxy.port, path: `${base}/events`, headers: { host: new URL(base).host }, agent: false }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d));
        res.on('end', () => resolve(b));
      });
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('data: one\n\ndata: two\n\n');
    expect(proxy.logs.some((e) => e.level === 'warn' && e.message.startsWith(`${base}/events: server-sent events are held`))).toBe(true);
  });
});
