/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1, issue 16): removed when the proxy forwards a
 * message, both ways; kept with keep_hop_by_hop_headers (mitmproxy's behaviour). A raw origin
 * records the heads it gets and answers with hop-by-hop headers of its own; the clients are curl
 * and raw sockets.
 */
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy } from '@mitmts/sdk';
import { curl, rawExchange, tcpServer, type Upstream } from '../helpers/servers.js';

const RESPONSE =
  'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nUpgrade: foo\r\nX-End: 1\r\nContent-Length: 2\r\n\r\nok';

let origin: Upstream;
/** Request heads the origin received, by path. */
const heads = new Map<string, string>();

beforeAll(async () => {
  origin = await tcpServer((s: net.Socket) => {
    let buf = '';
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        heads.set(head.split(' ')[1]!, head);
        s.write(RESPONSE);
      }
    });
  });
});

afterAll(async () => {
  await origin?.close();
});

/** Header names of a raw head, lower-cased, in order (the start line left out). */
function names(head: string): string[] {
  return head
    .split('\r\n')
    .slice(1)
    .map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
}

const HOP_REQUEST = (path: string): string =>
  `GET ${origin.url}${path} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nConnection: close, X-Named\r\nX-Named: 1\r\nKeep-Alive: 300\r\nProxy-Connection: keep-alive\r\nTE: gzip, trailers\r\nUpgrade: foo\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\nX-Keep: 1\r\n\r\n`;

describe('default: hop-by-hop headers are removed', () => {
  let proxy: EmbeddedProxy;
  beforeAll(async () => {
    proxy = await createProxy();
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('from the request: Connection and what it names, Keep-Alive, Proxy-Connection, TE but trailers, Upgrade, Proxy-Authorization', async () => {
    const r = await rawExchange(proxy.port, HOP_REQUEST('/raw'));
    expect(r.response).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    const head = heads.get('/raw')!;
    expect(names(head)).toEqual(['host', 'te', 'x-keep']);
    expect(head).toContain('\r\nTE: trailers');
  });

  it("from the response, which carries the proxy's own Connection", async () => {
    const r = await rawExchange(proxy.port, HOP_REQUEST('/back'));
    const head = r.response.slice(0, r.response.indexOf('\r\n\r\n'));
    // The client asked to close: the proxy says so itself.
    expect(names(head)).toEqual(['x-end', 'content-length', 'connection']);
    expect(head).toContain('\r\nConnection: close');
    expect(r.closed).toBe(true);
  });

  it('curl: a keep-alive client gets no Connection header and keeps its connection', async () => {
    const r = await curl([
      '-D',
      '-',
      '-w',
      '[connects %{num_connects}]',
      '-x',
      proxy.url,
      '-H',
      'Proxy-Authorization: Basic Zm9vOmJhcg==',
      `${origin.url}/curl1`,
      `${origin.url}/curl2`,
    ]);
    expect(r.stdout.match(/HTTP\/1\.1 200 OK\r\n/g)).toHaveLength(2);
    expect(r.stdout.match(/\[connects \d\]/g)).toEqual(['[connects 1]', '[connects 0]']);
    expect(r.stdout).not.toMatch(/^(connection|keep-alive|upgrade|x-hop):/im);
    expect(heads.get('/curl1')).not.toMatch(/proxy-authorization/i);
    expect(heads.get('/curl2')).not.toMatch(/proxy-/i);
  });

  it('a request that upgrades keeps Connection: upgrade and Upgrade', async () => {
    await rawExchange(
      proxy.port,
      `GET ${origin.url}/up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      2000,
    );
    const head = heads.get('/up')!;
    expect(head).toContain('\r\nConnection: Upgrade');
    expect(head).toContain('\r\nUpgrade: websocket');
  });
});

describe("keep_hop_by_hop_headers: mitmproxy's behaviour", () => {
  let proxy: EmbeddedProxy;
  beforeAll(async () => {
    proxy = await createProxy({ options: { keep_hop_by_hop_headers: true } });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('forwards every header both ways as received', async () => {
    const r = await rawExchange(proxy.port, HOP_REQUEST('/kept'));
    expect(names(heads.get('/kept')!)).toEqual([
      'host',
      'connection',
      'x-named',
      'keep-alive',
      'proxy-connection',
      'te',
      'upgrade',
      'proxy-authorization',
      'x-keep',
    ]);
    const head = r.response.slice(0, r.response.indexOf('\r\n\r\n'));
    expect(names(head)).toEqual(['connection', 'x-hop', 'keep-alive', 'upgrade', 'x-end', 'content-length']);
  });
});
