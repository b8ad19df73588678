import { execFile } from 'node:child_process';
import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, HTTPHeaders, HTTPRequest, type EmbeddedProxy } from '@mitmts/sdk';
import { startOrigin, requestVia, tflow, withAddon, type Origin } from '@mitmts/sdk/testing';
import { DisableH2C } from '../src/index.js';

const H2C = {
  connection: 'keep-alive, Upgrade, HTTP2-Settings',
  upgrade: 'h2c',
  'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA',
};

describe('disableh2c (unit)', () => {
  it('removes the h2c offer and keeps the other Connection tokens', async () => {
    const tctx = await withAddon(DisableH2C);
    const f = tflow({
      req: HTTPRequest.make(
        'GET',
        'http://example.com/',
        '',
        new HTTPHeaders(Object.entries({ ...H2C, accept: '*/*' })),
      ),
    });
    await tctx.trigger('requestheaders', f);
    expect(f.request.headers.items(true).filter(([k]) => k !== 'content-length')).toEqual([
      ['connection', 'keep-alive'],
      ['accept', '*/*'],
    ]);
    expect(tctx.hasLog('h2c upgrade requests) are currently not supported', 'warn')).toBe(true);
  });

  it('leaves other upgrades (WebSocket) alone', async () => {
    const tctx = await withAddon(DisableH2C);
    const f = tflow({
      req: HTTPRequest.make('GET', 'http://example.com/', '', { connection: 'Upgrade', upgrade: 'websocket' }),
    });
    await tctx.trigger('requestheaders', f);
    expect(f.request.headers.get('upgrade')).toBe('websocket');
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

  it('curl --http2 to an origin that would switch to h2c: answered over HTTP/1.1, the offer never reaches it (streamed body too)', async () => {
    // A server that takes the h2c upgrade when offered (101, then HTTP/2 SETTINGS), else answers HTTP/1.1.
    const heads: string[] = [];
    const h2cServer = net.createServer((sock) => {
      let buf = '';
      sock.on('data', (c: Buffer) => {
        buf += c.toString('latin1');
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        heads.push(head);
        buf = '';
        if (/\r\nupgrade: *h2c/i.test(head)) {
          sock.end(
            Buffer.concat([
              Buffer.from('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n'),
              Buffer.from('000000040000000000', 'hex'),
            ]),
          );
        } else {
          sock.write('HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nstill HTTP/1');
        }
      });
    });
    await new Promise<void>((r) => h2cServer.listen(0, '127.0.0.1', r));
    const port = (h2cServer.address() as net.AddressInfo).port;
    const streaming = await createProxy({ addons: [DisableH2C], options: { stream_large_bodies: '1' } });
    try {
      for (const [p, extra] of [
        [proxy, []],
        [streaming, ['--data-binary', 'a streamed request body']],
      ] as const) {
        const { stdout } = await promisify(execFile)('curl', [
          '-sS',
          '-i',
          '--http2',
          '-x',
          `http://127.0.0.1:${p.port}`,
          ...extra,
          `http://127.0.0.1:${port}/plain`,
        ]);
        expect(stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nstill HTTP\/1$/);
        const head = heads.at(-1)!;
        expect(head).not.toMatch(/upgrade|http2-settings|h2c/i);
        expect(
          p.logs.some(
            (e) => e.level === 'warn' && e.message.includes('h2c upgrade requests) are currently not supported'),
          ),
        ).toBe(true);
      }
      expect(heads.length).toBe(2);
    } finally {
      await streaming.close();
      await new Promise<void>((r) => h2cServer.close(() => r()));
    }
  });
});
