/**
 * The codec in client role against real servers on loopback: nghttpd (Debian's nghttp2-server)
 * and Node's `http2.createSecureServer` / `http2.createServer`. Trailers, 1xx, a large body
 * with flow control (a slow reader stops the server), RST_STREAM and GOAWAY.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/proxy/http2/index.js';
import { codecClient, request } from './adapter.js';
import { raw } from './helpers.js';
import { ensurePeers, nghttpd, testCerts } from './tools.js';

const peers = ensurePeers();
const missing = 'missing' in peers ? peers.missing : null;
if (missing) console.warn(`HTTP/2 interop tests with nghttpd skipped: ${missing}`);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let certs: Awaited<ReturnType<typeof testCerts>>;
beforeAll(async () => {
  certs = await testCerts();
});
afterAll(() => certs.cleanup());

describe.skipIf(missing !== null)('the codec (client role) against nghttpd', () => {
  const tools = (peers as { paths: Record<string, string> }).paths;
  let docs: string;
  beforeAll(() => {
    docs = join(certs.dir, 'docs');
    mkdirSync(docs, { recursive: true });
    writeFileSync(join(docs, 'small.txt'), 'small file\n');
    writeFileSync(join(docs, 'big.bin'), Buffer.alloc(5 * 1024 * 1024, 0x5a));
  });

  it('GET over TLS; a 3 MiB upload echoed (--echo-upload); response trailers (--trailer)', async () => {
    const server = await nghttpd(tools.nghttpd!, docs, certs, ['--echo-upload', '--trailer', 'x-served-by: nghttpd']);
    const client = await codecClient(server.port, { tls: true });
    try {
      const small = await client.request(
        request('GET', '/small.txt', [['user-agent', 'mitmts-codec']], `localhost:${server.port}`),
      );
      expect(small.head!.status).toBe(200);
      expect(small.body.toString()).toBe('small file\n');
      expect(small.trailers).toEqual([['x-served-by', 'nghttpd']]);
      const body = Buffer.alloc(3 * 1024 * 1024 + 5, 0x41);
      body.write('start', 0);
      const echo = await client.request(request('POST', '/echo', [['content-length', String(body.length)]]), body);
      expect(echo.head!.status).toBe(200);
      expect(sha(echo.body)).toBe(sha(body));
      const notFound = await client.request(request('GET', '/nope'));
      expect(notFound.head!.status).toBe(404);
      expect(client.handler.error).toBeNull();
    } finally {
      client.close();
      server.stop();
    }
  });

  it('respects MAX_CONCURRENT_STREAMS (-m 2) with a queue: 20 requests, never more than 2 open', async () => {
    const server = await nghttpd(tools.nghttpd!, docs, certs, ['-m', '2']);
    const client = await codecClient(server.port, { tls: true });
    try {
      let maxOpen = 0;
      const all = await Promise.all(
        Array.from({ length: 20 }, () =>
          client.request(request('GET', '/small.txt'), undefined, undefined, () => {
            maxOpen = Math.max(maxOpen, client.conn.activeStreams);
          }),
        ),
      );
      expect(all.every((r) => r.head?.status === 200 && r.body.toString() === 'small file\n')).toBe(true);
      expect(client.conn.remoteSettings.maxConcurrentStreams).toBe(2);
      expect(maxOpen).toBeLessThanOrEqual(2);
    } finally {
      client.close();
      server.stop();
    }
  });

  it('a slow reader: without consume() nghttpd stops at the window; consuming brings the rest', async () => {
    const server = await nghttpd(tools.nghttpd!, docs, certs);
    const client = await codecClient(server.port, {
      tls: true,
      options: { initialWindowSize: 65536, connectionWindowSize: 65536 * 2 },
    });
    client.handler.autoConsume = false;
    try {
      const pending = client.request(request('GET', '/big.bin'));
      const received = (): number => [...client.handler.unconsumed.values()].reduce((a, b) => a + b, 0);
      await until(() => received() === 65536);
      // the window is full: after a PING round trip nghttpd has had its chance to send more
      await client.ping();
      await client.ping();
      expect(received()).toBe(65536);
      const pump = setInterval(() => client.consumeAll(), 1);
      const r = await pending;
      clearInterval(pump);
      expect(r.body.length).toBe(5 * 1024 * 1024);
    } finally {
      client.close();
      server.stop();
    }
  });
});

describe('the codec (client role) against node:http2 servers', () => {
  async function nodeServer(
    secure: boolean,
    handler: (
      stream: http2.ServerHttp2Stream,
      headers: http2.IncomingHttpHeaders,
      session: http2.ServerHttp2Session,
    ) => void,
  ) {
    const server = secure
      ? http2.createSecureServer({ key: readFileSync(certs.keyPath), cert: readFileSync(certs.certPath) })
      : http2.createServer();
    server.on('stream', (stream, headers) => {
      stream.on('error', () => undefined); // resets the tests make on purpose
      handler(stream, headers, stream.session as http2.ServerHttp2Session);
    });
    server.on('sessionError', () => undefined);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
  }

  it('h2c (createServer): request head and body arrive as sent', async () => {
    let seen: http2.IncomingHttpHeaders = {};
    const server = await nodeServer(false, (stream, headers) => {
      seen = headers;
      const c: Buffer[] = [];
      stream.on('data', (d: Buffer) => c.push(d));
      stream.on('end', () =>
        stream.respond({ ':status': 200, 'x-got': String(Buffer.concat(c).length) }, { endStream: true }),
      );
    });
    const client = await codecClient(server.port);
    try {
      const r = await client.request(
        {
          ...request('PUT', '/put?q=1', [
            ['x-Mixed', 'Case Value'],
            ['cookie', 'a=1'],
            ['cookie', 'b=2'],
          ]),
          scheme: 'http',
        },
        Buffer.from('0123456789'),
      );
      expect(r.head!.status).toBe(200);
      expect(r.head!.headers.find(([n]) => n.toString() === 'x-got')![1].toString()).toBe('10');
      expect(seen).toMatchObject({
        ':method': 'PUT',
        ':path': '/put?q=1',
        ':scheme': 'http',
        'x-mixed': 'Case Value',
        cookie: 'a=1; b=2',
      });
    } finally {
      client.close();
      server.close();
    }
  });

  it('103 Early Hints, trailers, and an informational 100', async () => {
    const server = await nodeServer(true, (stream) => {
      stream.additionalHeaders({ ':status': 100 });
      stream.additionalHeaders({ ':status': 103, link: '</a.js>; rel=preload' });
      stream.respond({ ':status': 200 }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'ok' }));
      stream.end('body');
    });
    const client = await codecClient(server.port, { tls: true });
    try {
      const r = await client.request(
        request('POST', '/rpc', [['te', 'trailers']]),
        Buffer.from('x'),
        raw([['x-req-trailer', '1']]),
      );
      expect(r.informational.map((h) => h.status)).toEqual([100, 103]);
      expect(r.informational[1]!.headers.map(([n, v]) => `${n}: ${v}`)).toEqual(['link: </a.js>; rel=preload']);
      expect(r.head!.status).toBe(200);
      expect(r.body.toString()).toBe('body');
      expect(r.trailers).toEqual([
        ['grpc-status', '0'],
        ['grpc-message', 'ok'],
      ]);
    } finally {
      client.close();
      server.close();
    }
  });

  it('a server RST_STREAM reaches only that stream, with its code', async () => {
    const server = await nodeServer(true, (stream, headers) => {
      if (headers[':path'] === '/refuse') stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      else stream.respond({ ':status': 204 }, { endStream: true });
    });
    const client = await codecClient(server.port, { tls: true });
    try {
      const [a, b] = await Promise.all([
        client.request(request('GET', '/refuse')),
        client.request(request('GET', '/ok')),
      ]);
      expect(a.reset).toEqual({ code: ErrorCode.REFUSED_STREAM, cause: 'peer' });
      expect(b.head!.status).toBe(204);
    } finally {
      client.close();
      server.close();
    }
  });

  it('a server GOAWAY while streams are open: streams above last_stream_id are refused, the others complete', async () => {
    const open: http2.ServerHttp2Stream[] = [];
    const server = await nodeServer(true, (stream, _h, session) => {
      open.push(stream);
      if (open.length === 3) {
        session.goaway(http2.constants.NGHTTP2_NO_ERROR, 1);
        open[0]!.respond({ ':status': 200 }, { endStream: true });
      }
    });
    const client = await codecClient(server.port, { tls: true });
    try {
      const rs = await Promise.all([1, 2, 3].map((i) => client.request(request('GET', `/s${i}`))));
      expect(rs[0]!.head!.status).toBe(200);
      expect(rs[1]!.reset).toEqual({ code: ErrorCode.REFUSED_STREAM, cause: 'goaway' });
      expect(rs[2]!.reset).toEqual({ code: ErrorCode.REFUSED_STREAM, cause: 'goaway' });
      expect(client.handler.goaway).toEqual({ last: 1, code: 0 });
      expect(client.conn.canOpenStream()).toBe(false);
    } finally {
      client.close();
      server.close();
    }
  });

  it('a 24 MiB body: the server writes only as fast as the codec consumes', async () => {
    const n = 24 * 1024 * 1024;
    const body = Buffer.alloc(n);
    for (let i = 0; i < n; i += 4096) body.writeUInt32BE(i, i);
    let written = 0;
    const server = await nodeServer(true, (stream) => {
      stream.respond({ ':status': 200, 'content-length': String(n) });
      const write = (): void => {
        while (written < n) {
          const ok = stream.write(body.subarray(written, written + 65536));
          written += 65536;
          if (!ok) {
            stream.once('drain', write);
            return;
          }
        }
        stream.end();
      };
      write();
    });
    const client = await codecClient(server.port, {
      tls: true,
      options: { initialWindowSize: 128 * 1024, connectionWindowSize: 256 * 1024 },
    });
    client.handler.autoConsume = false;
    try {
      const pending = client.request(request('GET', '/big'));
      const received = (): number => [...client.handler.unconsumed.values()].reduce((a, b) => a + b, 0);
      await until(() => received() === 128 * 1024);
      await client.ping();
      await client.ping();
      // nothing past our window arrived, and the server's writes stalled far below the body
      expect(received()).toBe(128 * 1024);
      expect(written).toBeLessThan(1024 * 1024);
      const pump = setInterval(() => client.consumeAll(), 1);
      const r = await pending;
      clearInterval(pump);
      expect(sha(r.body)).toBe(sha(body));
    } finally {
      client.close();
      server.close();
    }
  });
});

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
