// HTTP/2 through the proxy with real peers on loopback: curl (--http2 through CONNECT + TLS
// interception, --http2-prior-knowledge in regular mode), Node's http2 as client and origin
// (stream limits, cancels, GOAWAY, resets, out-of-order hooks), HTTPS HTTP/1.1 origins for the
// translation both ways, and the .mitm round trip of HTTP/2 flows.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addon, createProxy, FlowReader, FlowWriter, hook, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { startOrigin, type Origin } from '@mitmts/sdk/testing';
import { h2cOrigin, h2Origin, h2Request, h2Through } from '../helpers/h2.js';
import { curl, httpServer, rawExchange, testCa, type TestCa } from '../helpers/servers.js';

const FIXTURE_CA = join(import.meta.dirname, '../fixtures/mitmproxy-ca');
const { HTTP2_HEADER_PATH: PATH, HTTP2_HEADER_METHOD: METHOD } = http2.constants;

/** Records each flow's hooks by path; can hold a request hook until released, or kill. */
@addon({ name: 'h2watch' })
class Watch {
  events: string[] = [];
  flows: HTTPFlow[] = [];
  private readonly held = new Map<string, () => void>();
  private readonly waiting = new Map<string, Promise<void>>();

  /** The `request` hook of `path` waits until {@link release}. */
  hold(path: string): void {
    this.waiting.set(path, new Promise<void>((r) => this.held.set(path, r)));
  }
  release(path: string): void {
    this.held.get(path)?.();
  }

  @hook('requestheaders') rh(f: HTTPFlow): void {
    this.events.push(`requestheaders ${f.request.path}`);
    if (f.request.path.startsWith('/stream-up')) f.request.stream = true;
  }
  @hook('request') async rq(f: HTTPFlow): Promise<void> {
    this.events.push(`request ${f.request.path}`);
    if (f.request.path === '/kill') f.kill();
    const w = this.waiting.get(f.request.path);
    if (w) await w;
  }
  @hook('responseheaders') sh(f: HTTPFlow): void {
    this.events.push(`responseheaders ${f.request.path}`);
  }
  @hook('response') rs(f: HTTPFlow): void {
    this.events.push(`response ${f.request.path}`);
    this.flows.push(f);
  }
  @hook('error') er(f: HTTPFlow): void {
    this.events.push(`error ${f.request.path}: ${f.error?.msg}`);
    this.flows.push(f);
  }
  flow(path: string): HTTPFlow {
    const f = this.flows.find((x) => x.request.path === path);
    if (!f) throw new Error(`no flow for ${path}; flows: ${this.flows.map((x) => x.request.path).join(', ')}`);
    return f;
  }
}

let ca: TestCa;
let confdir: string;
let watch: Watch;
let proxy: EmbeddedProxy;
let proxyCa: string;
/** The proxy's CA certificate (PEM), for Node clients. */
let caPem: Buffer;
let h2: Awaited<ReturnType<typeof h2Origin>>;
/** An HTTPS HTTP/1.1 origin (certificate from startOrigin's CA: the proxy trusts both CAs). */
let h1: Origin;
/** Streams the h2 origin saw, in arrival order: path and the origin's stream id. */
const h2Seen: Array<{ path: string; id: number }> = [];

beforeAll(async () => {
  ca = await testCa();
  confdir = mkdtempSync(join(tmpdir(), 'mitmts-h2-'));
  cpSync(FIXTURE_CA, confdir, { recursive: true });
  h2 = await h2Origin((stream, headers) => {
    const path = String(headers[PATH]);
    h2Seen.push({ path, id: stream.id ?? 0 });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      if (path === '/trailers') {
        stream.respond({ ':status': 200, 'x-b': '2', 'x-a': '1' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc' }));
        stream.end('with trailers');
      } else if (path === '/early') {
        stream.additionalHeaders({ ':status': 103, link: '</style.css>; rel=preload; as=style' });
        stream.respond({ ':status': 200 });
        stream.end('after early hints');
      } else if (path === '/rst') {
        stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      } else if (path.startsWith('/echo') || path.startsWith('/stream-up')) {
        stream.respond({
          ':status': 200,
          'x-method': String(headers[METHOD]),
          'x-trailer': JSON.stringify(stream.sentTrailers ?? null),
        });
        stream.end(body);
      } else {
        stream.respond({ ':status': 200, 'content-type': 'text/plain', 'x-second': 'b', 'x-first': 'a' });
        stream.end(`h2 ${path}`);
      }
    });
  });
  h1 = await startOrigin(
    (req, res) => {
      res.writeHead(200, { 'X-Mixed-Case': 'Kept', 'Content-Type': 'text/plain' });
      res.end(`h1 ${req.url}`);
    },
    { tls: true },
  );
  // The upstream CAs: the test CA (the h2 origins) and startOrigin's (the HTTP/1.1 origins).
  const trusted = join(confdir, 'upstream-cas.pem');
  writeFileSync(trusted, Buffer.concat([readFileSync(ca.caCertPath), readFileSync(h1.caCertPath!)]));
  watch = new Watch();
  proxy = await createProxy({ confdir, addons: [watch], options: { ssl_verify_upstream_trusted_ca: trusted } });
  proxyCa = proxy.caCertPath;
  caPem = readFileSync(proxyCa);
});

afterAll(async () => {
  await proxy?.close();
  await h2?.close();
  await h1?.close();
});

/** Run `f` with the proxy's connection_strategy set (restored afterwards). */
async function withStrategy<T>(strategy: 'eager' | 'lazy', f: () => Promise<T>): Promise<T> {
  proxy.kernel.options.update({ connection_strategy: strategy });
  try {
    return await f();
  } finally {
    proxy.kernel.options.update({ connection_strategy: 'eager' });
  }
}

describe('HTTP/2 through CONNECT and TLS interception (curl --http2)', () => {
  it('h2 to an h2 origin: one HTTP/2.0 flow per stream, hooks in order, fields as received', async () => {
    const r = await curl([
      '--http2',
      '--cacert',
      proxyCa,
      '-x',
      proxy.url,
      '-w',
      ' %{http_version}\\n',
      `https://localhost:${h2.port}/one`,
      `https://localhost:${h2.port}/two`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('h2 /one 2\nh2 /two 2\n');
    for (const path of ['/one', '/two']) {
      const f = watch.flow(path);
      expect(f.request.httpVersion).toBe('HTTP/2.0');
      expect(f.response!.httpVersion).toBe('HTTP/2.0');
      expect(f.request.authority).toBe(`localhost:${h2.port}`);
      expect([f.request.scheme, f.request.host, f.request.port]).toEqual(['https', 'localhost', h2.port]);
      expect(f.request.headers.fields.map(([n]) => n.toString())).toEqual(['user-agent', 'accept']);
      expect(f.response!.headers.fields.map(([n]) => n.toString())).toEqual([
        'content-type',
        'x-second',
        'x-first',
        'date',
      ]);
      expect(watch.events.filter((e) => e.endsWith(` ${path}`))).toEqual([
        `requestheaders ${path}`,
        `request ${path}`,
        `responseheaders ${path}`,
        `response ${path}`,
      ]);
    }
    // one client connection, one server connection: both streams on it
    expect(watch.flow('/one').clientConn.id).toBe(watch.flow('/two').clientConn.id);
    expect(watch.flow('/one').serverConn.id).toBe(watch.flow('/two').serverConn.id);
    expect(watch.flow('/one').serverConn.alpn?.toString()).toBe('h2');
  });

  it('h2 to an HTTP/1.1-only origin (lazy): Host from :authority, cookie crumbs joined, connection fields dropped', async () => {
    const r = await withStrategy('lazy', () =>
      curl([
        '--http2',
        '--cacert',
        proxyCa,
        '-x',
        proxy.url,
        '-H',
        'cookie: a=1',
        '-H',
        'cookie: b=2',
        '-D',
        '-',
        '-w',
        '%{http_version}',
        `https://localhost:${h1.port}/h1-from-h2`,
      ]),
    );
    expect(r.stdout).toMatch(/^HTTP\/2 200 \r\n/m);
    expect(r.stdout).toMatch(/x-mixed-case: Kept\r\n/);
    expect(r.stdout).not.toMatch(/^(connection|keep-alive):/im);
    expect(r.stdout).toMatch(/h1 \/h1-from-h2 ?2$/);
    const seen = h1.requests.find((s) => s.url === '/h1-from-h2')!;
    expect(seen.httpVersion).toBe('1.1');
    expect(seen.rawHeaders.slice(0, 2)).toEqual(['Host', `localhost:${h1.port}`]);
    expect(seen.rawHeaders.filter((_, i) => i % 2 === 0 && seen.rawHeaders[i]!.toLowerCase() === 'cookie').length).toBe(
      1,
    );
    expect(seen.rawHeaders[seen.rawHeaders.findIndex((x) => x.toLowerCase() === 'cookie') + 1]).toBe('a=1; b=2');
    const f = watch.flow('/h1-from-h2');
    expect(f.request.httpVersion).toBe('HTTP/2.0');
    expect(f.response!.httpVersion).toBe('HTTP/1.1');
    // the flow keeps the fields as each side sent them
    expect(f.request.headers.getAll('cookie')).toEqual(['a=1', 'b=2']);
    expect(f.response!.headers.fields.map(([n]) => n.toString())).toContain('X-Mixed-Case');
  });

  it('concurrent streams to an HTTP/1.1-only origin (lazy): one connection per concurrent stream, reused once free', async () => {
    // the origin answers only when all five requests are in: serialized on one connection they would never be
    const waiting: Array<() => void> = [];
    const origin = await startOrigin(
      (req, res) => {
        const answer = (): void => void res.end(`h1 ${req.url}`);
        if (req.url === '/later') return answer();
        waiting.push(answer);
        if (waiting.length === 5) for (const w of waiting) w();
      },
      { tls: true },
    );
    const port = origin.port;
    try {
      await withStrategy('lazy', async () => {
        const s = await h2Through(proxy.port, 'localhost', port, caPem);
        const results = await Promise.all(Array.from({ length: 5 }, (_, i) => h2Request(s, { [PATH]: `/par${i}` })));
        expect(results.map((r) => r.body.toString())).toEqual(Array.from({ length: 5 }, (_, i) => `h1 /par${i}`));
        expect((await h2Request(s, { [PATH]: '/later' })).body.toString()).toBe('h1 /later');
        s.close();
      });
      expect(origin.connections).toBe(5);
    } finally {
      await origin.close();
    }
  });

  it('eager: the client is offered what the server took (HTTP/1.1 here)', async () => {
    const r = await curl([
      '--http2',
      '--cacert',
      proxyCa,
      '-x',
      proxy.url,
      '-w',
      ' %{http_version}',
      `https://localhost:${h1.port}/eager-h1`,
    ]);
    expect(r.stdout).toBe('h1 /eager-h1 1.1');
  });

  it('an HTTP/1.1 client to an HTTP/2-only origin (allowHTTP1: false): translated, eager and lazy', async () => {
    const only = await h2Origin(
      (stream, headers) => {
        stream.respond({ ':status': 200 });
        stream.end(`h2-only ${String(headers[PATH])} ${String(headers[':authority'])}`);
      },
      { allowHTTP1: false },
    );
    try {
      for (const strategy of ['eager', 'lazy'] as const) {
        const r = await withStrategy(strategy, () =>
          curl([
            '--http1.1',
            '--cacert',
            proxyCa,
            '-x',
            proxy.url,
            '-w',
            ' %{http_version}',
            `https://localhost:${only.port}/${strategy}`,
          ]),
        );
        expect(r.stdout).toBe(`h2-only /${strategy} localhost:${only.port} 1.1`);
        const f = watch.flow(`/${strategy}`);
        expect([f.request.httpVersion, f.response!.httpVersion]).toEqual(['HTTP/1.1', 'HTTP/2.0']);
      }
    } finally {
      await only.close();
    }
  });
});

describe('cleartext HTTP/2 with prior knowledge in regular mode', () => {
  it('curl --http2-prior-knowledge: to an h2c origin, and to an HTTP/1 origin (which gets HTTP/1.1)', async () => {
    const c = await h2cOrigin((stream, headers) => {
      stream.respond({ ':status': 200 });
      stream.end(`h2c ${String(headers[PATH])}`);
    });
    const plain = await httpServer((req, res) => res.end(`plain ${req.url} ${req.httpVersion} ${req.headers.host}`));
    try {
      const via = ['--http2-prior-knowledge', '--connect-to', `::127.0.0.1:${proxy.port}`, '-w', ' %{http_version}'];
      expect((await curl([...via, `http://127.0.0.1:${c.port}/pk`])).stdout).toBe('h2c /pk 2');
      expect((await curl([...via, `http://127.0.0.1:${plain.port}/pk1`])).stdout).toBe(
        `plain /pk1 1.1 127.0.0.1:${plain.port} 2`,
      );
      const f = watch.flow('/pk');
      expect([f.request.scheme, f.request.authority, f.request.httpVersion, f.clientConn.tls]).toEqual([
        'http',
        `127.0.0.1:${c.port}`,
        'HTTP/2.0',
        false,
      ]);
    } finally {
      await c.close();
      await plain.close();
    }
  });
});

describe('the http2 option off', () => {
  it('clients are offered HTTP/1.1 only, servers too; a prior-knowledge preface is answered 505', async () => {
    proxy.kernel.options.update({ http2: false });
    try {
      // lazy: with http2 on the client would get h2 here
      const r = await withStrategy('lazy', () =>
        curl([
          '--http2',
          '--cacert',
          proxyCa,
          '-x',
          proxy.url,
          '-w',
          ' %{http_version}',
          `https://localhost:${h1.port}/off`,
        ]),
      );
      expect(r.stdout).toBe('h1 /off 1.1');
      expect(watch.flow('/off').request.httpVersion).toBe('HTTP/1.1');
      // an h2-only origin is not offered h2: the upstream handshake fails, the client gets a 502
      const only = await h2Origin((stream) => stream.respond({ ':status': 204 }, { endStream: true }), {
        allowHTTP1: false,
      });
      try {
        const r2 = await curl([
          '--http2',
          '--cacert',
          proxyCa,
          '-x',
          proxy.url,
          '-w',
          ' %{http_code} %{http_version}',
          `https://localhost:${only.port}/off-h2only`,
        ]);
        expect(r2.stdout).toMatch(/ 502 1\.1$/);
      } finally {
        await only.close();
      }
      const pri = await rawExchange(
        proxy.port,
        Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from('000000040000000000', 'hex')]),
      );
      expect(pri.response).toMatch(
        /^HTTP\/1\.1 505 [^]*HTTP version &#34;HTTP\/2\.0&#34; is not supported over HTTP\/1 framing/,
      );
      expect(pri.closed).toBe(true);
    } finally {
      proxy.kernel.options.update({ http2: true });
    }
  });
});

describe('streams on one connection (Node http2 client)', () => {
  it('50 streams to a server that allows 2 at a time: all answered, never more than 2 open upstream', async () => {
    let open = 0;
    let most = 0;
    const limited = await h2Origin(
      (stream) => {
        open++;
        most = Math.max(most, open);
        stream.on('close', () => open--);
        setImmediate(() => {
          stream.respond({ ':status': 200 });
          stream.end(`n${stream.id}`);
        });
      },
      { settings: { maxConcurrentStreams: 2 } },
    );
    try {
      const s = await h2Through(proxy.port, 'localhost', limited.port, caPem);
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => h2Request(s, { [PATH]: `/c${i}` })));
      s.close();
      expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
      expect(most).toBe(2);
      expect(limited.sessions.length).toBe(1);
    } finally {
      await limited.close();
    }
  });

  it('a kill resets one stream (CANCEL); the others on the connection go on', async () => {
    const s = await h2Through(proxy.port, 'localhost', h2.port, caPem);
    const [killed, ok] = await Promise.all([h2Request(s, { [PATH]: '/kill' }), h2Request(s, { [PATH]: '/alive' })]);
    expect(killed.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    expect([ok.status, ok.body.toString()]).toEqual([200, 'h2 /alive']);
    expect((await h2Request(s, { [PATH]: '/after-kill' })).body.toString()).toBe('h2 /after-kill');
    s.close();
    expect(h2Seen.some((x) => x.path === '/kill')).toBe(false);
  });

  it('http2_ping_keepalive: an idle server connection gets a PING, and the client connection stays usable', async () => {
    proxy.kernel.options.update({ http2_ping_keepalive: 1 });
    const pinged = await h2Origin((stream) => stream.respond({ ':status': 204 }, { endStream: true }));
    try {
      const s = await h2Through(proxy.port, 'localhost', pinged.port, caPem);
      expect((await h2Request(s, { [PATH]: '/before-idle' })).status).toBe(204);
      const ping = await new Promise<Buffer>((resolve) => pinged.sessions[0]!.once('ping', resolve));
      expect(ping.length).toBe(8);
      expect((await h2Request(s, { [PATH]: '/after-idle' })).status).toBe(204);
      s.close();
      expect(pinged.sessions.length).toBe(1);
    } finally {
      proxy.kernel.options.update({ http2_ping_keepalive: 58 });
      await pinged.close();
    }
  });

  it("a server's RST_STREAM reaches the client with its code", async () => {
    const s = await h2Through(proxy.port, 'localhost', h2.port, caPem);
    const r = await h2Request(s, { [PATH]: '/rst' });
    s.close();
    expect(r.rstCode).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    expect(watch.flow('/rst').error?.msg).toBe('Server reset the stream: ENHANCE_YOUR_CALM (0xb).');
  });

  it('trailers both ways and a 103 Early Hints before the response', async () => {
    const s = await h2Through(proxy.port, 'localhost', h2.port, caPem);
    const t = await h2Request(s, { [PATH]: '/trailers' });
    expect([t.status, t.body.toString(), t.trailers?.['x-checksum']]).toEqual([200, 'with trailers', 'abc']);
    const e = await h2Request(s, { [PATH]: '/early' });
    expect(e.interim.map((h) => [h[':status'], h.link])).toEqual([[103, '</style.css>; rel=preload; as=style']]);
    expect(e.body.toString()).toBe('after early hints');
    // request trailers: sent by the client after its body, seen on the flow
    const up = s.request({ [METHOD]: 'POST', [PATH]: '/echo-trailers' }, { waitForTrailers: true });
    up.on('wantTrailers', () => up.sendTrailers({ 'x-request-trailer': 'yes' }));
    up.end('body before trailers');
    const chunks: Buffer[] = [];
    up.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((r) => up.on('close', r));
    s.close();
    expect(Buffer.concat(chunks).toString()).toBe('body before trailers');
    expect(watch.flow('/echo-trailers').request.trailers?.get('x-request-trailer')).toBe('yes');
    expect(watch.flow('/trailers').response!.trailers?.get('x-checksum')).toBe('abc');
  });

  it('hooks finishing out of order: stream 1 waits in its request hook while stream 3 completes (ids remapped upstream)', async () => {
    watch.hold('/first');
    const s = await h2Through(proxy.port, 'localhost', h2.port, caPem);
    const first = h2Request(s, { [PATH]: '/first' });
    const second = await h2Request(s, { [PATH]: '/second' });
    expect(second.body.toString()).toBe('h2 /second');
    watch.release('/first');
    expect((await first).body.toString()).toBe('h2 /first');
    s.close();
    const order = h2Seen.filter((x) => x.path === '/first' || x.path === '/second');
    expect(order.map((x) => x.path)).toEqual(['/second', '/first']);
    expect(order[0]!.id).toBeLessThan(order[1]!.id);
  });

  it('a client that cancels mid-request and mid-response: the server stream is reset, the flows get the error', async () => {
    const s = await h2Through(proxy.port, 'localhost', h2.port, caPem);
    // mid-request: a streamed upload, cancelled after its first chunk went upstream
    const up = s.request({ [METHOD]: 'POST', [PATH]: '/stream-up-cancel' }, { endStream: false });
    up.on('error', () => undefined);
    up.write('first part');
    await until(() => h2Seen.some((x) => x.path === '/stream-up-cancel'));
    up.close(http2.constants.NGHTTP2_CANCEL);
    await until(() => watch.events.some((e) => e.startsWith('error /stream-up-cancel')));
    expect(watch.flow('/stream-up-cancel').error?.msg).toBe('Client reset the stream: CANCEL (0x8).');
    // mid-response: the response streams (stream_large_bodies), the client cancels after its first bytes
    proxy.kernel.options.update({ stream_large_bodies: '1k' });
    const big = (await h2Origin((stream, headers) => {
      if (headers[PATH] !== '/big-cancel') {
        stream.respond({ ':status': 200 });
        stream.end('small');
        return;
      }
      stream.respond({ ':status': 200, 'content-length': String(64 << 20) });
      const chunk = Buffer.alloc(64 << 10, 0x61);
      const pump = (): void => {
        while (!stream.destroyed && stream.write(chunk));
        if (!stream.destroyed) stream.once('drain', pump);
      };
      stream.on('close', () => (big.rst = stream.rstCode ?? -1));
      pump();
    })) as Awaited<ReturnType<typeof h2Origin>> & { rst?: number };
    try {
      const s2 = await h2Through(proxy.port, 'localhost', big.port, caPem);
      const down = s2.request({ [PATH]: '/big-cancel' });
      await new Promise((r) => down.once('data', r));
      down.close(http2.constants.NGHTTP2_CANCEL);
      await until(() => big.rst !== undefined);
      expect(big.rst).toBe(http2.constants.NGHTTP2_CANCEL);
      await until(() => watch.events.some((e) => e.startsWith('error /big-cancel')));
      expect(watch.flow('/big-cancel').error?.msg).toMatch(
        /^Client (reset the stream: CANCEL \(0x8\)|disconnected)\.$/,
      );
      // the connection still works
      expect((await h2Request(s2, { [PATH]: '/after-cancel' })).status).toBe(200);
      s2.close();
    } finally {
      proxy.kernel.options.update({ stream_large_bodies: null });
      await big.close();
    }
    expect((await h2Request(s, { [PATH]: '/after-cancel-2' })).body.toString()).toBe('h2 /after-cancel-2');
    s.close();
  });

  it("a server's GOAWAY while streams are open: streams it took finish, the others go again on a new connection", async () => {
    let first: http2.ServerHttp2Session | null = null;
    const pending: http2.ServerHttp2Stream[] = [];
    const g = await h2Origin((stream, headers) => {
      const session = stream.session as http2.ServerHttp2Session;
      stream.on('error', () => undefined);
      first ??= session;
      if (session !== first) {
        stream.respond({ ':status': 200 });
        stream.end(`second connection ${String(headers[PATH])}`);
        return;
      }
      pending.push(stream);
      if (pending.length === 2) {
        // take the first two, refuse what came after
        session.goaway(http2.constants.NGHTTP2_NO_ERROR, pending[1]!.id);
        for (const p of pending) {
          p.respond({ ':status': 200 });
          p.end(`first connection ${p.id}`);
        }
      }
    });
    try {
      const s = await h2Through(proxy.port, 'localhost', g.port, caPem);
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => h2Request(s, { [PATH]: `/g${i}` })));
      s.close();
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(results.filter((r) => r.body.toString().startsWith('first connection')).length).toBe(2);
      expect(results.filter((r) => r.body.toString().startsWith('second connection')).length).toBe(3);
      expect(g.sessions.length).toBe(2);
    } finally {
      await g.close();
    }
  });

  it('flow control follows the reader: a client that stops reading stops the server after a bounded amount', async () => {
    const size = 32 << 20;
    let written = 0;
    const origin = await h2Origin((stream) => {
      stream.respond({ ':status': 200, 'content-length': String(size) });
      const chunk = Buffer.alloc(16 << 10, 0x62);
      const pump = (): void => {
        while (written < size && !stream.destroyed) {
          const more = stream.write(chunk, () => undefined);
          written += chunk.length;
          if (written >= size) stream.end();
          if (!more) return void stream.once('drain', pump);
        }
      };
      stream.on('error', () => undefined);
      pump();
    });
    proxy.kernel.options.update({ stream_large_bodies: '1m' });
    try {
      const s = await h2Through(proxy.port, 'localhost', origin.port, caPem);
      const down = s.request({ [PATH]: '/slow-reader' });
      let received = 0;
      down.on('data', (c: Buffer) => {
        received += c.length;
        down.pause();
      });
      await new Promise((r) => down.once('data', r));
      // the reader is paused: wait until the server can send no more
      await quiet(() => written);
      expect(written, `the server sent ${written} bytes to a client that read ${received}`).toBeLessThan(2 << 20);
      down.removeAllListeners('data');
      down.on('data', (c: Buffer) => (received += c.length));
      down.resume();
      await new Promise((r) => down.on('close', r));
      s.close();
      expect(received).toBe(size);
    } finally {
      proxy.kernel.options.update({ stream_large_bodies: null });
      await origin.close();
    }
  });

  it('server data that comes while the request hook runs is held, then forwarded in order', async () => {
    const early = await h2Origin((stream) => {
      // answers as soon as the head arrives, before the streamed request body ends
      stream.respond({ ':status': 200 });
      stream.end('answered early');
      stream.on('data', () => undefined);
      stream.on('error', () => undefined);
    });
    try {
      const s = await h2Through(proxy.port, 'localhost', early.port, caPem);
      const up = s.request({ [METHOD]: 'POST', [PATH]: '/stream-up-early' }, { endStream: false });
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('error', () => undefined);
      up.write('part one ');
      await until(() => watch.events.includes('requestheaders /stream-up-early'));
      up.end('part two');
      await new Promise((r) => up.on('close', r));
      s.close();
      expect(Buffer.concat(chunks).toString()).toBe('answered early');
      const events = watch.events.filter((e) => e.endsWith(' /stream-up-early'));
      expect(events).toEqual([
        'requestheaders /stream-up-early',
        'request /stream-up-early',
        'responseheaders /stream-up-early',
        'response /stream-up-early',
      ]);
    } finally {
      await early.close();
    }
  });
});

describe('.mitm files', () => {
  it('HTTP/2 flows written and read back keep http_version, authority and header order', async () => {
    const flows = [watch.flow('/one'), watch.flow('/trailers')];
    const file = join(mkdtempSync(join(tmpdir(), 'mitmts-h2-mitm-')), 'h2.mitm');
    const w = new FlowWriter(file);
    for (const f of flows) w.add(f);
    await w.close();
    const back = [...new FlowReader(file)] as HTTPFlow[];
    expect(
      back.map((f) => [f.request.httpVersion, f.response!.httpVersion, f.request.authority, f.request.path]),
    ).toEqual(flows.map((f) => ['HTTP/2.0', 'HTTP/2.0', `localhost:${h2.port}`, f.request.path]));
    expect(back[1]!.response!.headers.fields.map(([n]) => n.toString())).toEqual(['x-b', 'x-a', 'date']);
    expect(back[1]!.response!.trailers?.get('x-checksum')).toBe('abc');
  });
});

/** Wait for a condition the proxy or a peer makes true (no fixed sleeps). */
async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Wait until `value()` stops changing (a peer stopped by flow control). */
async function quiet(value: () => number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let same = 0;
  while (same < 5) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the peer to stop');
    await new Promise((r) => setTimeout(r, 100));
    const v = value();
    same = v === last ? same + 1 : 0;
    last = v;
  }
}
