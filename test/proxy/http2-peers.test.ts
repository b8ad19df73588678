// HTTP/2 through the proxy with nghttp2's tools and python3-h2 as peers: nghttp against nghttpd
// (trailers, push refused, 103 from a Node origin, a 64 MiB body never held whole,
// measured on a child `bin/mitmts.js`), h2load carrying 100,000 streams on one connection (per
// stream state released), and a hostile python3-h2 client (smuggling attempts, rapid reset).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { ensureCommands } from '../../scripts/debian.mjs';
import { ensurePythonH2, nghttpd, run } from '../../core/test/http2/tools.js';
import { childProxy } from '../helpers/child-proxy.js';
import { h2cOrigin } from '../helpers/h2.js';
import { testCa } from '../helpers/servers.js';

const tools = ensureCommands({ nghttp: 'nghttp2-client', h2load: 'nghttp2-client', nghttpd: 'nghttp2-server' });
const missing = 'missing' in tools ? tools.missing : null;
if (missing) console.warn(`HTTP/2 tests with nghttp, nghttpd and h2load skipped: ${missing}`);
const paths = 'paths' in tools ? tools.paths : {};
const python = ensurePythonH2();
const noPython = 'missing' in python ? python.missing : null;
if (noPython) console.warn(`HTTP/2 tests with python3-h2 skipped: ${noPython}`);
const ATTACK = join(import.meta.dirname, '../fixtures/h2/attack.py');

/** Memory after a full GC (see the 100,000-stream test). */
interface Memory {
  heap: number;
  external: number;
  rss: number;
  outsideHeap: number;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const BIG = 64 << 20;

let dir: string;
let docs: string;
let big: Buffer;
let certs: { keyPath: string; certPath: string; caCertPath: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mitmts-h2-peers-'));
  docs = join(dir, 'docs');
  const ca = await testCa();
  const leaf = ca.issue('localhost', '127.0.0.1');
  certs = { keyPath: join(dir, 'key.pem'), certPath: join(dir, 'cert.pem'), caCertPath: ca.caCertPath };
  writeFileSync(certs.keyPath, leaf.key);
  writeFileSync(certs.certPath, leaf.cert);
  await import('node:fs').then((fs) => fs.mkdirSync(docs));
  writeFileSync(join(docs, 'small'), 'small file\n');
  writeFileSync(join(docs, 'pushed.css'), 'body {}\n');
  big = randomBytes(BIG);
  writeFileSync(join(docs, 'big'), big);
});

/** nghttp to the proxy in regular mode (cleartext, prior knowledge), naming the origin in :scheme and :authority. */
function nghttpVia(proxyPort: number, origin: string, path: string, extra: string[] = []): string[] {
  const u = new URL(origin);
  return [
    ...extra,
    `http://127.0.0.1:${proxyPort}${path}`,
    '-H',
    `:authority: ${u.host}`,
    '-H',
    `:scheme: ${u.protocol.slice(0, -1)}`,
  ];
}

describe.skipIf(missing !== null)('nghttp and nghttpd', () => {
  it('through a child mitmts: trailers, server push refused, 103 Early Hints, and a 64 MiB body never held whole (peak RSS under 100 MiB, growing by less than the body)', async () => {
    const origin = await nghttpd(paths.nghttpd!, docs, certs, [
      '--trailer',
      'x-origin-trailer: yes',
      '--push',
      '/small=/pushed.css',
    ]);
    const early = await import('../helpers/h2.js').then((m) =>
      m.h2Origin((stream, headers) => {
        const trailers: string[] = [];
        stream.on('trailers', (t) => trailers.push(String(t['x-request-trailer'])));
        stream.on('data', () => undefined);
        stream.on('end', () => {
          stream.additionalHeaders({ ':status': 103, link: '</app.js>; rel=preload; as=script' });
          stream.respond({ ':status': 200, 'x-request-trailers': trailers.join(',') });
          stream.end(`early ${String(headers[':path'])}`);
        });
      }),
    );
    const proxy = await childProxy(['stream_large_bodies=1m', `ssl_verify_upstream_trusted_ca=${certs.caCertPath}`]);
    try {
      const o = `https://localhost:${origin.port}`;
      const small = await run(paths.nghttp!, ['-nv', ...nghttpVia(proxy.port, o, '/small')]);
      const text = small.out.toString();
      expect(small.code).toBe(0);
      expect(text).toMatch(/recv \(stream_id=\d+\) :status: 200/);
      expect(text).toMatch(/recv \(stream_id=\d+\) x-origin-trailer: yes/);
      expect(text).not.toMatch(/PUSH_PROMISE/);

      const file = join(dir, 'up.txt');
      writeFileSync(file, 'request body');
      const hints = await run(paths.nghttp!, [
        '-v',
        '-d',
        file,
        '--trailer',
        'x-request-trailer: sent',
        ...nghttpVia(proxy.port, `https://localhost:${early.port}`, '/hints'),
      ]);
      const h = hints.out.toString();
      expect(h).toMatch(/:status: 103/);
      expect(h).toMatch(/link: <\/app.js>; rel=preload; as=script/);
      expect(h.indexOf(':status: 103')).toBeLessThan(h.indexOf(':status: 200'));
      expect(h).toMatch(/x-request-trailers: sent/);
      expect(h).toMatch(/early \/hints/);

      const before = proxy.memory();
      const download = await run(paths.nghttp!, nghttpVia(proxy.port, o, '/big'));
      expect(download.code).toBe(0);
      expect(download.out.length).toBe(BIG);
      expect(sha(download.out)).toBe(sha(big));
      const after = proxy.memory();
      // The body never sits in the proxy: the peak grows by less than the body's size, and stays
      // under issue 10's 100 MiB. What growth there is is Node's TLS read buffers waiting for the
      // next scavenge; the bin's --max-semi-space-size=2 keeps that wait short (75 -> 87 MiB
      // here, unbundled; 87 -> 120 MiB without the flag).
      const growth = after.hwm - before.rss;
      const mb = (n: number): string => `${(n / 1048576).toFixed(0)} MiB`;
      const said = `peak RSS ${mb(after.hwm)}, ${mb(before.rss)} before the download`;
      console.log(`64 MiB over HTTP/2 through a child mitmts: RSS ${mb(before.rss)} before, peak ${mb(after.hwm)}`);
      expect(growth, said).toBeLessThan(BIG);
      expect(after.hwm, said).toBeLessThan(100 << 20);
    } finally {
      await proxy.stop();
      origin.stop();
      await early.close();
    }
  });

  it('reverse:https with the default eager strategy in front of nghttpd (HTTP/2 only): the first streams of fresh proxies succeed', async () => {
    const origin = await nghttpd(paths.nghttpd!, docs, certs);
    // The eager connection is made before the ClientHello; its TLS now waits for the client's
    // ALPN, so nghttpd is offered h2. Offered HTTP/1.1 alone, it closed at the first request that
    // landed on that connection: a 502, seen in about one fresh proxy of five under this load.
    try {
      for (let i = 0; i < 8; i++) {
        const proxy = await createProxy({
          options: {
            mode: [`reverse:https://127.0.0.1:${origin.port}`],
            ssl_verify_upstream_trusted_ca: certs.caCertPath,
          },
        });
        try {
          const h2load = await run(paths.h2load!, [
            '-n',
            '1000',
            '-c',
            '4',
            '-m',
            '20',
            '-t',
            '1',
            `https://127.0.0.1:${proxy.port}/small`,
          ]);
          const out = h2load.out.toString();
          expect(out, `fresh proxy ${i}: ${h2load.err}`).toMatch(/status codes: 1000 2xx, 0 3xx, 0 4xx, 0 5xx/);
        } finally {
          await proxy.close();
        }
      }
    } finally {
      origin.stop();
    }
  }, 120_000);

  it('h2load: 100,000 streams on one connection leave no per-stream state behind (heap, external memory and RSS outside the JS heap stay flat)', async () => {
    const origin = await nghttpd(paths.nghttpd!, docs, certs, ['--no-tls']);
    const proxy: EmbeddedProxy = await createProxy({ keepFlows: 100 });
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    // After a full GC: the live JS heap, memory outside it that JS objects hold (external,
    // ArrayBuffers included), and RSS less what V8 keeps mapped for its heap. V8 keeps the pages
    // of a heap that grew while 100,000 streams' garbage was collected (measured here: old space
    // +23 to +60 MB physical while the used heap stayed flat): the whole RSS follows that, by a
    // different amount on every run, and it is not per-stream state. Per-stream state would show
    // in one of these three.
    const sample = (): Memory => {
      gc();
      const heap = v8.getHeapStatistics();
      const mem = process.memoryUsage();
      return {
        heap: heap.used_heap_size,
        external: mem.external,
        rss: mem.rss,
        outsideHeap: mem.rss - heap.total_physical_size,
      };
    };
    let completed = 0;
    proxy.kernel.flows.onAdd(() => completed++);
    try {
      const h2load = spawn(
        paths.h2load!,
        [
          '-n',
          '100000',
          '-c',
          '1',
          '-m',
          '10',
          '-t',
          '1',
          `--connect-to=127.0.0.1:${proxy.port}`,
          `http://127.0.0.1:${origin.port}/small`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      const samples = new Map<number, Memory>();
      h2load.stdout.on('data', (d: Buffer) => {
        out += d;
        for (const m of String(d).matchAll(/progress: (\d+)% done/g))
          if (m[1] === '20' || m[1] === '50' || m[1] === '90') samples.set(Number(m[1]), sample());
      });
      h2load.stderr.on('data', (d: Buffer) => (out += d));
      const code = await new Promise<number | null>((r) => h2load.on('close', r));
      expect(code, out).toBe(0);
      expect(out).toMatch(/requests: 100000 total, 100000 started, 100000 done, 100000 succeeded/);
      expect(out).toMatch(/status codes: 100000 2xx/);
      expect(completed).toBe(100000);
      const [a, m, b] = [samples.get(20)!, samples.get(50)!, samples.get(90)!];
      const rss = `RSS ${a.rss} -> ${m.rss} -> ${b.rss}; outside the JS heap ${a.outsideHeap} -> ${m.outsideHeap} -> ${b.outsideHeap}`;
      console.log(
        `100,000 h2 streams at 20%, 50%, 90%: heap ${a.heap} -> ${b.heap}, external ${a.external} -> ${b.external}, ${rss}`,
      );
      // 70,000 streams between the samples: even 16 bytes kept per stream would show
      expect(b.heap - a.heap, `heap ${a.heap} -> ${b.heap}`).toBeLessThan(1 << 20);
      // external memory (ArrayBuffers included) moves by a few 64 KiB read buffers in flight
      expect(b.external - a.external, `external ${a.external} -> ${b.external}`).toBeLessThan(4 << 20);
      // Native memory settles early in the run (glibc keeps what V8's and libuv's threads freed:
      // +7 to +15 MB between 10% and 30% alone, then flat), so it is compared from half-way. With
      // another test file running beside this one (npm test runs two), glibc's arenas moved it by
      // up to +29 MB with the heap and external memory flat: the bound is 64 MiB, which 40,000
      // streams keeping 1.7 KB of native memory each would still exceed.
      expect(b.outsideHeap - m.outsideHeap, rss).toBeLessThan(64 << 20);
    } finally {
      await proxy.close();
      origin.stop();
    }
  }, 400_000);
});

describe.skipIf(noPython !== null)('a hostile python3-h2 client', () => {
  let proxy: EmbeddedProxy;
  let origin: Awaited<ReturnType<typeof h2cOrigin>>;
  const reached: string[] = [];
  beforeAll(async () => {
    origin = await h2cOrigin((stream, headers) => {
      reached.push(String(headers[':path']));
      stream.on('data', () => undefined);
      stream.on('error', () => undefined);
      stream.on('end', () => {
        stream.respond({ ':status': 200 });
        stream.end(`ok ${String(headers[':path'])}`);
      });
    });
    proxy = await createProxy();
  });
  afterAll(async () => {
    await proxy?.close();
    await origin?.close();
  });

  const attack = async (
    what: string,
  ): Promise<{
    streams: Record<string, { status?: string; body?: string; reset?: number; ended?: boolean }>;
    goaway?: number;
    sent?: number;
  }> => {
    const r = await run((python as { python: string }).python, [
      ATTACK,
      what,
      String(proxy.port),
      `127.0.0.1:${origin.port}`,
    ]);
    expect(r.err).toBe('');
    return JSON.parse(r.out.toString());
  };

  it('smuggling attempts (content-length vs DATA, transfer-encoding, bad pseudo-headers, CR/LF) are stream errors; nothing reaches the origin', async () => {
    const r = await attack('smuggle');
    for (const id of ['1', '3', '5', '7', '9', '11'])
      expect(r.streams[id], `stream ${id}`).toEqual({ reset: http2.constants.NGHTTP2_PROTOCOL_ERROR });
    expect(r.streams['13']).toEqual({ status: '200', body: 'ok /fine', ended: true });
    expect(reached).toEqual(['/fine']);
    // a valid head whose body then broke the rules is a flow with the error; the rest never were flows
    const flows = (proxy.flows.all() as HTTPFlow[]).map((f) => [
      f.request.path,
      f.response?.statusCode ?? null,
      f.error?.msg ?? null,
    ]);
    expect(flows).toEqual([
      [
        '/cl-surplus',
        null,
        'HTTP/2 protocol error in client request: stream 1: content-length 5 but more bytes of DATA (19 so far)',
      ],
      [
        '/cl-short',
        null,
        'HTTP/2 protocol error in client request: stream 3: content-length 20 but only 5 bytes of DATA',
      ],
      ['/fine', 200, null],
    ]);
    expect(proxy.logs.map((l) => l.message).filter((m) => m.includes('refused'))).toHaveLength(6);
  });

  it('a rapid-reset flood: bounded work, then GOAWAY ENHANCE_YOUR_CALM; the proxy keeps serving', async () => {
    const r = await attack('rapid-reset');
    expect(r.goaway).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    // at most the reset budget of streams ever started an exchange
    expect(reached.filter((p) => p === '/reset').length).toBeLessThanOrEqual(1000);
    const after = await attack('smuggle');
    expect(after.streams['13']?.body).toBe('ok /fine');
  });
});
