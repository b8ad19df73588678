/**
 * The codec in server role against real clients on loopback: curl (`--http2` over TLS with our
 * CA, `--http2-prior-knowledge` for h2c), nghttp (Debian's nghttp2-client) and Node's
 * `http2.connect`. A test-only adapter runs the connection on the socket (adapter.ts).
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/proxy/http2/index.js';
import { codecServer, type Received } from './adapter.js';
import { raw, str } from './helpers.js';
import { ensurePeers, run, testCerts } from './tools.js';

const peers = ensurePeers();
const missing = 'missing' in peers ? peers.missing : null;
if (missing) console.warn(`HTTP/2 interop tests with curl/nghttp skipped: ${missing}`);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let certs: Awaited<ReturnType<typeof testCerts>>;
beforeAll(async () => {
  certs = await testCerts();
});
afterAll(() => certs.cleanup());

/** The test app: a few routes, answered through the codec's sending API. */
function app(r: Received): void {
  const { conn, id, head } = r;
  const path = head.path.split('?')[0];
  if (path === '/hello') {
    conn.sendHeaders(
      id,
      {
        status: 200,
        headers: raw([
          ['content-type', 'text/plain'],
          ['x-b', 'second? no, first'],
          ['x-a', 'Then This'],
        ]),
      },
      false,
    );
    conn.sendData(id, Buffer.from('hello h2\n'), true);
  } else if (path === '/echo') {
    conn.sendHeaders(
      id,
      {
        status: 200,
        headers: raw([
          ['x-length', String(r.body.length)],
          ['x-sha', sha(r.body)],
          ['x-trailers', JSON.stringify(r.trailers)],
        ]),
      },
      false,
    );
    conn.sendData(id, r.body, true);
  } else if (path === '/early') {
    conn.sendHeaders(id, { status: 103, headers: raw([['link', '</style.css>; rel=preload; as=style']]) }, false);
    conn.sendHeaders(id, { status: 200, headers: raw([['content-type', 'text/html']]) }, false);
    conn.sendData(id, Buffer.from('<p>early hints</p>'), false);
    conn.sendTrailers(id, raw([['x-trailer', 'done']]));
  } else if (path === '/big') {
    const n = Number(new URLSearchParams(head.path.split('?')[1]).get('n'));
    conn.sendHeaders(id, { status: 200, headers: raw([['content-length', String(n)]]) }, false);
    conn.sendData(id, pattern(n), true);
  } else if (path === '/hold') {
    conn.sendHeaders(id, { status: 200, headers: [] }, false);
    conn.sendData(id, Buffer.from('partial'), false); // never ends: the client cancels
  } else {
    conn.sendHeaders(id, { status: 404, headers: [] }, true);
  }
}

function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 10)) & 0xff;
  return b;
}

describe.skipIf(missing !== null)('curl and nghttp against the codec (server role)', () => {
  const tools = (peers as { paths: Record<string, string> }).paths;

  it('curl --http2 over TLS (leaf from our CA, verified): head, header order and body', async () => {
    const server = await codecServer(app, { secureContext: certs.secureContext });
    try {
      const url = `https://localhost:${server.port}/hello?x=1`;
      const r = await run(tools.curl!, ['-sS', '--http2', '--cacert', certs.caCertPath, '-D', '-', url]);
      expect(r.err).toBe('');
      const text = r.out.toString();
      expect(text).toMatch(/^HTTP\/2 200 ?\r\n/);
      expect(text.indexOf('x-b: second? no, first')).toBeLessThan(text.indexOf('x-a: Then This'));
      expect(text.endsWith('\r\n\r\nhello h2\n')).toBe(true);
      const got = server.log.received[0]!.head;
      expect(got).toMatchObject({
        method: 'GET',
        scheme: 'https',
        authority: `localhost:${server.port}`,
        path: '/hello?x=1',
      });
      expect(str(got.headers).map(([n]) => n)).toEqual(['user-agent', 'accept']);
    } finally {
      await server.close();
    }
  });

  it('curl --http2-prior-knowledge (h2c): a 3 MiB upload through flow control, echoed back', async () => {
    const server = await codecServer(app, { options: { initialWindowSize: 65535, connectionWindowSize: 128 * 1024 } });
    try {
      const body = pattern(3 * 1024 * 1024 + 17);
      const file = join(certs.dir, 'upload.bin');
      writeFileSync(file, body);
      const r = await run(tools.curl!, [
        '-sS',
        '--http2-prior-knowledge',
        '--data-binary',
        `@${file}`,
        '-D',
        join(certs.dir, 'h.txt'),
        `http://127.0.0.1:${server.port}/echo`,
      ]);
      expect(r.err).toBe('');
      expect(sha(r.out)).toBe(sha(body));
      expect(server.log.received[0]!.head).toMatchObject({
        method: 'POST',
        scheme: 'http',
        contentLength: body.length,
      });
    } finally {
      await server.close();
    }
  });

  it("curl --http2: a 16 MiB download queued against curl's window arrives whole", async () => {
    const server = await codecServer(app, { secureContext: certs.secureContext });
    try {
      const n = 16 * 1024 * 1024;
      const r = await run(tools.curl!, [
        '-sS',
        '--http2',
        '--cacert',
        certs.caCertPath,
        `https://localhost:${server.port}/big?n=${n}`,
      ]);
      expect(r.err).toBe('');
      expect(r.out.length).toBe(n);
      expect(sha(r.out)).toBe(sha(pattern(n)));
    } finally {
      await server.close();
    }
  });

  it('nghttp: 103 Early Hints, the final response and trailers; request trailers and a body go the other way', async () => {
    const server = await codecServer(app, { secureContext: certs.secureContext });
    try {
      const r = await run(tools.nghttp!, ['-nv', `https://localhost:${server.port}/early`]);
      const text = r.out.toString();
      expect(text).toMatch(/:status: 103/);
      expect(text).toMatch(/link: <\/style.css>; rel=preload; as=style/);
      expect(text).toMatch(/:status: 200/);
      expect(text).toMatch(/x-trailer: done/);
      expect(text.indexOf(':status: 103')).toBeLessThan(text.indexOf(':status: 200'));
      const file = join(certs.dir, 'up.txt');
      writeFileSync(file, 'payload from nghttp');
      const up = await run(tools.nghttp!, [
        '-nv',
        '-d',
        file,
        '--trailer',
        'x-sum: 42',
        `https://localhost:${server.port}/echo`,
      ]);
      expect(up.out.toString()).toMatch(/x-length: 19/);
      const got = server.log.received.find((x) => x.head.path === '/echo')!;
      expect(got.body.toString()).toBe('payload from nghttp');
      expect(got.trailers).toEqual([['x-sum', '42']]);
      expect(server.log.errors).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('nghttp: many concurrent streams on one connection, all answered', async () => {
    const server = await codecServer(app, { secureContext: certs.secureContext, options: { maxConcurrentStreams: 4 } });
    try {
      const urls = Array.from({ length: 40 }, (_, i) => `https://localhost:${server.port}/hello?i=${i}`);
      const r = await run(tools.nghttp!, ['-n', '-s', ...urls]);
      expect(r.code).toBe(0);
      expect(server.log.received).toHaveLength(40);
      expect(server.log.streamErrors).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('Node http2.connect against the codec (server role)', () => {
  function connect(port: number): http2.ClientHttp2Session {
    // verified against our CA, as a client that installed it
    const session = http2.connect(`https://localhost:${port}`, { ca: readFileSync(certs.caCertPath) });
    session.on('error', () => undefined); // the server closing first is fine here
    return session;
  }
  function get(session: http2.ClientHttp2Session, path: string, opts?: { body?: Buffer }) {
    const req = session.request({ ':method': opts?.body ? 'POST' : 'GET', ':path': path }, { endStream: !opts?.body });
    if (opts?.body) req.end(opts.body);
    return new Promise<{
      status: number;
      headers: http2.IncomingHttpHeaders;
      body: Buffer;
      trailers: http2.IncomingHttpHeaders;
    }>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let headers: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders = {};
      req.on('response', (h) => (headers = h));
      req.on('trailers', (t) => (trailers = t));
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () =>
        resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks), trailers }),
      );
      req.on('error', reject);
    });
  }

  it('50 concurrent streams against maxConcurrentStreams 2: the client queues, every one completes', async () => {
    const server = await codecServer(app, { secureContext: certs.secureContext, options: { maxConcurrentStreams: 2 } });
    const session = connect(server.port);
    try {
      const all = await Promise.all(Array.from({ length: 50 }, (_, i) => get(session, `/hello?i=${i}`)));
      expect(all.every((r) => r.status === 200 && r.body.toString() === 'hello h2\n')).toBe(true);
      expect(server.log.received).toHaveLength(50);
      expect(server.log.streamErrors).toEqual([]);
    } finally {
      session.close();
      await server.close();
    }
  });

  it('an upload with trailers and a download with 103 and trailers', async () => {
    const server = await codecServer(app, { secureContext: certs.secureContext });
    const session = connect(server.port);
    try {
      const req = session.request({ ':method': 'POST', ':path': '/echo' }, { waitForTrailers: true });
      req.on('wantTrailers', () => req.sendTrailers({ 'x-done': 'yes' }));
      req.end(Buffer.from('node body'));
      const echoed = await new Promise<Buffer>((resolve) => {
        const c: Buffer[] = [];
        req.on('data', (d: Buffer) => c.push(d));
        req.on('end', () => resolve(Buffer.concat(c)));
      });
      expect(echoed.toString()).toBe('node body');
      expect(server.log.received[0]!.trailers).toEqual([['x-done', 'yes']]);
      const early = session.request({ ':path': '/early' });
      const info: number[] = [];
      early.on('headers', (h) => info.push(Number(h[':status'])));
      const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve) => early.on('trailers', resolve));
      early.resume();
      expect(info).toEqual([103]);
      expect(trailers['x-trailer']).toBe('done');
    } finally {
      session.close();
      await server.close();
    }
  });

  it('a client that cancels mid-response resets only its stream (RST_STREAM CANCEL)', async () => {
    const server = await codecServer(app, { secureContext: certs.secureContext });
    const session = connect(server.port);
    try {
      const req = session.request({ ':path': '/hold' });
      await new Promise((resolve) => req.once('data', resolve));
      req.close(http2.constants.NGHTTP2_CANCEL);
      const other = await get(session, '/hello');
      expect(other.status).toBe(200);
      await waitFor(() => server.log.resets.length > 0);
      expect(server.log.resets[0]).toMatchObject({ code: ErrorCode.CANCEL, cause: 'peer' });
    } finally {
      session.close();
      await server.close();
    }
  });

  it('our GOAWAY lets open streams finish and stops new ones', async () => {
    let held: { id: number; conn: import('../../src/proxy/http2/index.js').Http2Connection } | null = null;
    const server = await codecServer(
      (r) => {
        if (r.head.path === '/slow') {
          held = { id: r.id, conn: r.conn };
          r.conn.goaway();
          return;
        }
        app(r);
      },
      { secureContext: certs.secureContext },
    );
    const session = connect(server.port);
    try {
      const goaway = new Promise<number>((resolve) => session.on('goaway', (_code, last) => resolve(last)));
      const slow = get(session, '/slow');
      expect(await goaway).toBe(1);
      held!.conn.sendHeaders(held!.id, { status: 200, headers: [] }, false);
      held!.conn.sendData(held!.id, Buffer.from('finished after GOAWAY'), true);
      expect((await slow).body.toString()).toBe('finished after GOAWAY');
    } finally {
      session.destroy();
      await server.close();
    }
  });

  it('a 32 MiB download to a client with small windows: queued DATA follows its WINDOW_UPDATEs', async () => {
    const server = await codecServer(app, { secureContext: certs.secureContext });
    const session = http2.connect(`https://localhost:${server.port}`, {
      ca: readFileSync(certs.caCertPath),
      settings: { initialWindowSize: 16384 },
    });
    session.on('error', () => undefined);
    try {
      const n = 32 * 1024 * 1024;
      const r = await get(session, `/big?n=${n}`);
      expect(r.body.length).toBe(n);
      expect(sha(r.body)).toBe(sha(pattern(n)));
    } finally {
      session.close();
      await server.close();
    }
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setImmediate(r));
  }
}
