import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createProxy,
  hook,
  addon,
  HTTPResponse,
  type EmbeddedProxy,
  type HTTPFlow,
  type Client,
  type NextLayer,
  type ServerConnectionHookData,
} from '@mitmts/sdk';
import { startOrigin, type Origin } from '@mitmts/sdk/testing';
import { curl, httpServer, rawExchange, tcpServer, tempFile } from '../helpers/servers.js';

/** Records the hooks each flow went through, in order. */
@addon({ name: 'recorder' })
class Recorder {
  events: string[] = [];
  flows: HTTPFlow[] = [];
  @hook('requestheaders') rh(f: HTTPFlow): void {
    this.events.push(`requestheaders ${f.request.path}`);
  }
  @hook('request') rq(f: HTTPFlow): void {
    this.events.push(`request ${f.request.path}`);
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
}

/** Per-path behaviour switches, driven by the request path. */
@addon({ name: 'behaviour' })
class Behaviour {
  @hook('request') request(f: HTTPFlow): void {
    const p = f.request.path;
    if (p === '/answer') f.response = HTTPResponse.make(299, 'from the proxy', { 'x-by': 'mitmts' });
    if (p === '/kill') f.kill();
    if (p.startsWith('/boom')) throw new Error('addon exploded');
    if (p === '/rewrite') f.request.headers.set('X-Added', 'yes');
  }
  @hook('response') response(f: HTTPFlow): void {
    if (f.request.path === '/modify' || f.request.path === '/cl') f.response!.text = 'modified by addon';
  }
}

let up: Origin;
let proxy: EmbeddedProxy;
let rec: Recorder;

beforeAll(async () => {
  up = await startOrigin((req, res) => {
    const body = req.body.toString('utf8');
    const u = new URL(req.url, 'http://x');
    switch (u.pathname) {
      case '/chunked':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('part one, ');
        res.end('part two');
        return;
      case '/nocontent':
        res.writeHead(204);
        return res.end();
      case '/notmodified':
        res.writeHead(304, { etag: '"x"' });
        return res.end();
      case '/cl':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '7' });
        return res.end('content');
      case '/echo':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)) });
        return res.end(body);
      case '/close':
        res.writeHead(200, { connection: 'close', 'content-length': '6' });
        return res.end('closed');
      default:
        res.writeHead(200, { 'content-type': 'text/plain', 'X-Upstream-Case': 'Kept' });
        res.end(`hello ${u.pathname}`);
    }
  });
  // Behaviour throws on purpose (/boom): only logged.
  proxy = await createProxy({ addons: [Recorder, Behaviour], addonErrors: 'log' });
  rec = proxy.kernel.get<Recorder>('recorder')!;
});

afterAll(async () => {
  await proxy?.close();
  await up?.close();
});

describe('HTTP/1.1 through the proxy', () => {
  it('forwards a curl GET and runs every hook in order', async () => {
    const r = await curl(['-i', '-x', proxy.url, `${up.url}/plain`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(r.stdout).toContain('X-Upstream-Case: Kept\r\n');
    expect(r.stdout.endsWith('hello /plain')).toBe(true);
    const f = rec.flows.find((x) => x.request.path === '/plain')!;
    expect(f.request.method).toBe('GET');
    expect(f.request.url).toBe(`${up.url}/plain`);
    expect(f.response!.statusCode).toBe(200);
    expect(f.response!.text).toBe('hello /plain');
    expect(f.serverConn.address).toEqual(['127.0.0.1', up.port]);
    expect(f.serverConn.peername?.[0]).toBe('127.0.0.1');
    expect(f.clientConn.peername[0]).toBe('127.0.0.1');
    expect(rec.events.filter((e) => e.endsWith('/plain'))).toEqual([
      'requestheaders /plain',
      'request /plain',
      'responseheaders /plain',
      'response /plain',
    ]);
  });

  it('forwards header order and case as received', async () => {
    const r = await rawExchange(
      proxy.port,
      `GET ${up.url}/case HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\nX-lower: a\r\nX-UPPER: b\r\nx-MiXeD: c\r\nConnection: close\r\n\r\n`,
    );
    expect(r.response).toMatch(/^HTTP\/1\.1 200 OK/);
    const s = up.requests.find((x) => x.url === '/case')!;
    // Connection is hop-by-hop: not forwarded (keep_hop_by_hop_headers; see hop-by-hop.test.ts).
    expect(s.rawHeaders).toEqual(['Host', `127.0.0.1:${up.port}`, 'X-lower', 'a', 'X-UPPER', 'b', 'x-MiXeD', 'c']);
  });

  it('sends an addon header change upstream', async () => {
    await curl(['-x', proxy.url, `${up.url}/rewrite`]);
    const s = up.requests.find((x) => x.url === '/rewrite')!;
    expect(s.rawHeaders).toContain('X-Added');
  });

  it('keeps the client connection alive and reuses the upstream connection', async () => {
    const before = rec.flows.length;
    const r = await curl(['-x', proxy.url, `${up.url}/ka1`, `${up.url}/ka2`, `${up.url}/ka3`]);
    expect(r.stdout).toBe('hello /ka1hello /ka2hello /ka3');
    const flows = rec.flows.slice(before);
    expect(new Set(flows.map((f) => f.clientConn.id)).size).toBe(1);
    expect(new Set(flows.map((f) => f.serverConn.id)).size).toBe(1);
  });

  it('handles chunked responses, request bodies, HEAD, 204 and 304', async () => {
    expect((await curl(['-x', proxy.url, `${up.url}/chunked`])).stdout).toBe('part one, part two');
    expect((await curl(['-x', proxy.url, '--data-binary', 'a request body', `${up.url}/echo`])).stdout).toBe(
      'a request body',
    );
    const head = await curl(['-I', '-x', proxy.url, `${up.url}/plain`]);
    expect(head.code).toBe(0);
    expect(head.stdout).toMatch(/^HTTP\/1\.1 200 OK/);
    const nc = await curl(['-i', '-x', proxy.url, `${up.url}/nocontent`]);
    expect(nc.stdout).toMatch(/^HTTP\/1\.1 204 No Content/);
    const nm = await curl(['-i', '-x', proxy.url, `${up.url}/notmodified`]);
    expect(nm.stdout).toMatch(/^HTTP\/1\.1 304 Not Modified/);
  });

  it('answers Expect: 100-continue and forwards the body', async () => {
    const body = 'x'.repeat(2000);
    const r = await curl(['-x', proxy.url, '-H', 'Expect: 100-continue', '--data-binary', body, `${up.url}/echo`]);
    expect(r.stdout).toBe(body);
  });

  it('honours Connection: close from the server', async () => {
    const r = await rawExchange(proxy.port, `GET ${up.url}/close HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(r.closed).toBe(true);
    expect(r.response).toMatch(/closed$/);
  });

  it('tolerates pipelined requests and answers them in order', async () => {
    const req = (p: string) => `GET ${up.url}${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    const r = await rawExchange(proxy.port, req('/p1') + req('/p2') + req('/close'));
    const bodies = r.response.match(/hello \/p\d|closed/g);
    expect(bodies).toEqual(['hello /p1', 'hello /p2', 'closed']);
  });

  it('lets an addon answer in the request hook without contacting the server', async () => {
    const n = up.requests.length;
    const r = await curl(['-i', '-x', proxy.url, `${up.url}/answer`]);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 299 /);
    expect(r.stdout).toContain('x-by: mitmts');
    expect(r.stdout.endsWith('from the proxy')).toBe(true);
    expect(up.requests.length).toBe(n);
    // As mitmproxy: the addon's response also goes through responseheaders, then response.
    expect(rec.events.filter((e) => e.endsWith(' /answer'))).toEqual([
      'requestheaders /answer',
      'request /answer',
      'responseheaders /answer',
      'response /answer',
    ]);
  });

  it('lets an addon modify the response body (Content-Length follows, chunked stays chunked)', async () => {
    const cl = await curl(['-i', '-x', proxy.url, `${up.url}/cl`]);
    expect(cl.stdout).toMatch(/content-length: 17\r\n/i);
    expect(cl.stdout.endsWith('\r\n\r\nmodified by addon')).toBe(true);
    const chunked = await curl(['-i', '-x', proxy.url, `${up.url}/modify`]);
    expect(chunked.stdout).toMatch(/transfer-encoding: chunked\r\n/i);
    expect(chunked.stdout.endsWith('\r\n\r\nmodified by addon')).toBe(true);
  });

  it('kills a flow: the connection closes, the server never sees it', async () => {
    const n = up.requests.length;
    const r = await curl(['-x', proxy.url, `${up.url}/kill`]);
    expect(r.code).toBe(52);
    expect(up.requests.length).toBe(n);
  });

  it('a throwing addon changes nothing for the flow', async () => {
    const r = await curl(['-x', proxy.url, `${up.url}/boom`]);
    expect(r.stdout).toBe('hello /boom');
    expect(
      proxy.logs.some(
        (e) => e.level === 'error' && e.message.startsWith('addon behaviour: request failed: addon exploded'),
      ),
    ).toBe(true);
  });

  it('answers 502 with an error page and an error flow when the upstream refuses', async () => {
    const free = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const r = await curl(['-i', '-x', proxy.url, `http://127.0.0.1:${free}/refused`]);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 502 Bad Gateway/);
    expect(r.stdout).toContain(`Failed to connect to 127.0.0.1:${free}: connection refused (ECONNREFUSED)`);
    const f = rec.flows.find((x) => x.request.path === '/refused')!;
    expect(f.error!.msg).toContain('connection refused');
    expect(f.response).toBeNull();
    expect(rec.events).toContain(`error /refused: ${f.error!.msg}`);
  });

  it('answers 502 when the name does not resolve', async () => {
    const r = await curl(['-i', '-x', proxy.url, 'http://does-not-exist.invalid/dns']);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 502 Bad Gateway/);
    expect(r.stdout).toContain('Failed to connect to does-not-exist.invalid:80');
  });

  it('answers malformed requests with 400 and closes, while other connections go on', async () => {
    const good = new Promise<string>((resolve) => {
      const s = net.connect(proxy.port, '127.0.0.1', () => s.write(`GET ${up.url}/slow-good HTTP/1.1\r\nHost: x\r\n`));
      let out = '';
      s.on('data', (d: Buffer) => (out += d));
      setTimeout(() => s.write('Connection: close\r\n\r\n'), 200);
      s.on('close', () => resolve(out));
    });
    const bad = await rawExchange(proxy.port, 'GARBAGE\r\n\r\n');
    expect(bad.response).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(bad.closed).toBe(true);
    const smuggle = await rawExchange(
      proxy.port,
      `POST ${up.url}/x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    );
    expect(smuggle.response).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect(await good).toContain('hello /slow-good');
  });

  it('rejects origin-form requests on the regular proxy port with an explanation', async () => {
    const r = await rawExchange(proxy.port, 'GET /direct HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(r.response).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect(r.response).toContain('Invalid HTTP request form (expected: absolute, got: relative)');
  });
});

describe('framing corner cases', () => {
  it('reads a body until the server closes and gives the client a Content-Length', async () => {
    const closer = await tcpServer((sock) => {
      sock.once('data', () => sock.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close'));
    });
    try {
      const r = await curl(['-i', '-x', proxy.url, `${closer.url}/close-delimited`]);
      expect(r.stdout).toMatch(/content-length: 11\r\n/i);
      expect(r.stdout.endsWith('\r\n\r\nuntil close')).toBe(true);
    } finally {
      await closer.close();
    }
  });
});

describe('connection_strategy', () => {
  it('eager: a CONNECT to an unreachable server is answered 502; lazy: 200, then the error inside the tunnel', async () => {
    const free = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => r(port));
      });
    });
    const eager = await rawExchange(
      proxy.port,
      `CONNECT 127.0.0.1:${free} HTTP/1.1\r\nHost: 127.0.0.1:${free}\r\n\r\n`,
    );
    expect(eager.response).toMatch(/^HTTP\/1\.1 502 Bad Gateway/);
    const p = await createProxy({ options: { connection_strategy: 'lazy' } });
    try {
      const lazy = await rawExchange(
        p.port,
        `CONNECT 127.0.0.1:${free} HTTP/1.1\r\nHost: x\r\n\r\nGET /inside HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      expect(lazy.response).toMatch(/^HTTP\/1\.1 200 Connection established\r\n\r\nHTTP\/1\.1 502 Bad Gateway/);
      expect(lazy.response).toContain('connection refused');
    } finally {
      await p.close();
    }
  });
});

describe('connection hooks', () => {
  it('refuses a client whose client_connected hook sets an error', async () => {
    const p = await createProxy({
      addons: [{ name: 'refuse', client_connected: (c: Client) => void (c.error = 'not welcome') }],
    });
    try {
      const r = await curl(['-x', p.url, `${up.url}/x`]);
      expect(r.code).not.toBe(0);
      expect(p.logs.some((e) => e.message.includes('client connection refused: not welcome'))).toBe(true);
    } finally {
      await p.close();
    }
  });

  it('asks next_layer for the first layer and for the layer inside a CONNECT tunnel', async () => {
    const layers: string[] = [];
    const p = await createProxy({
      options: { ssl_insecure: true },
      addons: [
        {
          name: 'nl',
          next_layer: (d: NextLayer) => void layers.push(`${d.layer}:${d.dataClient().toString('latin1', 0, 7)}`),
        },
      ],
    });
    try {
      expect((await curl(['-x', p.url, `${up.url}/nl`])).stdout).toBe('hello /nl');
      expect(layers).toEqual([`http:GET htt`]);
      layers.length = 0;
      // A CONNECT tunnel: the first layer (the CONNECT request), then the tunnel's (plain HTTP inside).
      const r = await curl(['-p', '-x', p.url, `${up.url}/tunnel`]);
      expect(r.stdout).toBe('hello /tunnel');
      expect(layers).toEqual(['http:CONNECT', 'http:GET /tu']);
    } finally {
      await p.close();
    }
  });

  it('answers 502 when server_connect sets an error, with the hooks in mitmproxy order', async () => {
    const events: string[] = [];
    const p = await createProxy({
      addons: [
        {
          name: 'gate',
          server_connect: (d: ServerConnectionHookData) => {
            events.push('server_connect');
            if (d.server.address![1] !== up.port) d.server.error = 'blocked by policy';
          },
          server_connected: () => void events.push('server_connected'),
          server_disconnected: () => void events.push('server_disconnected'),
          client_connected: () => void events.push('client_connected'),
          client_disconnected: () => void events.push('client_disconnected'),
        },
      ],
    });
    try {
      const r = await curl(['-i', '-x', p.url, 'http://127.0.0.1:1/nope']);
      expect(r.stdout).toMatch(/^HTTP\/1\.1 502/);
      expect(r.stdout).toContain('blocked by policy');
      await curl(['-x', p.url, `${up.url}/ok`]);
      await new Promise((r2) => setTimeout(r2, 100));
      expect(events).toEqual([
        'client_connected',
        'server_connect',
        'client_disconnected',
        'client_connected',
        'server_connect',
        'server_connected',
        'client_disconnected',
        'server_disconnected',
      ]);
    } finally {
      await p.close();
    }
  });
});

describe('a server that is gone before the request is sent', () => {
  it('answers 502 at once, not never: the connection closed while an addon held server_connected', async () => {
    // The server closes every connection as it comes; an addon's slow hook lets the close land
    // between the connect and the request (as a TLS 1.3 server that refuses a missing client
    // certificate does, right after its handshake).
    const gone = await tcpServer((s) => s.destroy());
    const p = await createProxy({
      addons: [{ name: 'slow', server_connected: () => new Promise<void>((r) => setTimeout(r, 200)) }],
    });
    try {
      const t0 = Date.now();
      const r = await curl(['-i', '-x', p.url, `${gone.url}/x`], 10_000);
      expect(r.stdout).toMatch(/^HTTP\/1\.1 502/);
      expect(r.stdout).toContain('Server closed the connection without a response.');
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      await p.close();
      await gone.close();
    }
  });
});

describe('body limits and streaming', () => {
  it('rejects a request body over body_size_limit with 413', async () => {
    const p = await createProxy({ options: { body_size_limit: '1k' } });
    try {
      const r = await curl(['-i', '-x', p.url, '--data-binary', 'x'.repeat(5000), `${up.url}/echo`]);
      expect(r.stdout).toMatch(/^HTTP\/1\.1 413 /);
    } finally {
      await p.close();
    }
  });

  it('rejects a response body over body_size_limit with a 502 that says so', async () => {
    const p = await createProxy({ options: { body_size_limit: '2' } });
    try {
      const r = await curl(['-i', '-x', p.url, `${up.url}/cl`]);
      expect(r.stdout).toMatch(/^HTTP\/1\.1 502 /);
      expect(r.stdout).toMatch(/larger than|too large|limit/i);
    } finally {
      await p.close();
    }
  });

  it('streams with a transform function set in responseheaders', async () => {
    const p = await createProxy({
      addons: [
        {
          name: 'upper',
          responseheaders: (f: HTTPFlow) =>
            void (f.response!.stream = (c: Buffer) => Buffer.from(c.toString('latin1').toUpperCase(), 'latin1')),
        },
      ],
    });
    try {
      expect((await curl(['-x', p.url, `${up.url}/chunked`])).stdout).toBe('PART ONE, PART TWO');
      expect((await curl(['-x', p.url, `${up.url}/plain`])).stdout).toBe('HELLO /PLAIN');
    } finally {
      await p.close();
    }
  });

  it('survives a throwing stream function: that flow fails, the next request works', async () => {
    const p = await createProxy({
      addons: [
        {
          name: 'bad',
          responseheaders: (f: HTTPFlow) => {
            if (f.request.path === '/plain')
              f.response!.stream = () => {
                throw new Error('transform broke');
              };
          },
        },
      ],
    });
    try {
      const r = await curl(['-x', p.url, `${up.url}/plain`]);
      expect(r.code).not.toBe(0);
      expect(
        p.logs.some(
          (e) => e.level === 'error' && e.message.includes('response stream function failed: transform broke'),
        ),
      ).toBe(true);
      const again = await rawExchange(p.port, `GET ${up.url}/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(again.response).toMatch(/^HTTP\/1\.1 200 OK/);
    } finally {
      await p.close();
    }
  });

  it('streams request bodies upstream when asked in requestheaders', async () => {
    const p = await createProxy({
      addons: [{ name: 's', requestheaders: (f: HTTPFlow) => void (f.request.stream = true) }],
    });
    try {
      const body = 'y'.repeat(300_000);
      expect((await curl(['-x', p.url, '--data-binary', `@${tempFile('body', body)}`, `${up.url}/echo`])).stdout).toBe(
        body,
      );
    } finally {
      await p.close();
    }
  });

  it('gives the client a broken response and the flow an error when the server resets mid-body', async () => {
    const errors: string[] = [];
    const resetter = await tcpServer((s) => {
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n' + 'z'.repeat(1000));
        setTimeout(() => s.resetAndDestroy(), 50);
      });
    });
    const p = await createProxy({
      addons: [{ name: 'e', error: (f: HTTPFlow) => void errors.push(f.error!.msg) }],
      options: { stream_large_bodies: '10k' },
    });
    const p2 = await createProxy({
      addons: [{ name: 'e', error: (f: HTTPFlow) => void errors.push(`buffered: ${f.error!.msg}`) }],
    });
    try {
      const streamed = await curl(['-x', p.url, `${resetter.url}/reset`]);
      expect(streamed.code).not.toBe(0);
      const buffered = await curl(['-i', '-x', p2.url, `${resetter.url}/reset`]);
      expect(buffered.stdout).toMatch(/^HTTP\/1\.1 502/);
      // The error hooks run as the proxy notices the reset, which may be after the client's answer.
      await vi.waitFor(() => {
        expect(errors.some((e) => /Server connection lost|closed the connection/.test(e))).toBe(true);
        expect(errors.some((e) => e.startsWith('buffered: '))).toBe(true);
      });
    } finally {
      await p.close();
      await p2.close();
      await resetter.close();
    }
  });

  it('streams a 200 MiB body through with bounded memory', async () => {
    const size = 200 * 1024 * 1024;
    const big = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(size) });
      const chunk = Buffer.alloc(1 << 20, 97);
      let sent = 0;
      const pump = (): void => {
        while (sent < size) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const p = await createProxy({ options: { stream_large_bodies: '1m' } });
    try {
      const before = process.memoryUsage().rss;
      let peak = before;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const received = await new Promise<number>((resolve, reject) => {
        const req = http.request(
          { host: p.host, port: p.port, path: `${big.url}/big`, headers: { host: `127.0.0.1:${big.port}` } },
          (res) => {
            let n = 0;
            res.on('data', (d: Buffer) => (n += d.length));
            res.on('end', () => resolve(n));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end();
      });
      clearInterval(timer);
      expect(received).toBe(size);
      // The proxy runs in this process: it must not have buffered the body.
      expect(peak - before).toBeLessThan(120 * 1024 * 1024);
    } finally {
      await p.close();
      await big.close();
    }
  }, 60_000);
});

describe('streamed bodies with store_streamed_bodies', () => {
  it('keeps an exact copy of a streamed response body', async () => {
    const size = 3 * 1024 * 1024;
    const body = Buffer.alloc(size);
    for (let i = 0; i < size; i++) body[i] = (i * 7 + (i >> 16)) & 0xff;
    const big = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(size) });
      res.end(body);
    });
    const seen: HTTPFlow[] = [];
    const p = await createProxy({
      options: { stream_large_bodies: '100k', store_streamed_bodies: true },
      addons: [{ name: 'keep', response: (f: HTTPFlow) => void seen.push(f) }],
    });
    try {
      const got = await new Promise<Buffer>((resolve, reject) => {
        const req = http.request({ host: p.host, port: p.port, path: `${big.url}/big` }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => resolve(Buffer.concat(parts)));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      expect(got.equals(body)).toBe(true);
      expect(seen[0]!.response!.rawContent!.equals(body)).toBe(true);
    } finally {
      await p.close();
      await big.close();
    }
  });
});

describe('tcp_timeout', () => {
  /** Resolves with the ms until the proxy closed the connection; sends `every` ms if given. */
  const closedAfter = (port: number, every: number | null, stopAfterMs: number): Promise<number | 'open'> =>
    new Promise((resolve, reject) => {
      const started = Date.now();
      const s = net.connect(port, '127.0.0.1');
      let timer: NodeJS.Timeout | undefined;
      s.on('connect', () => {
        if (every !== null) timer = setInterval(() => s.write('x'), every);
      });
      s.on('error', () => undefined);
      s.on('close', () => {
        clearInterval(timer);
        resolve(Date.now() - started);
      });
      setTimeout(() => {
        clearInterval(timer);
        if (!s.destroyed) {
          s.destroy();
          resolve('open');
        }
      }, stopAfterMs).unref();
      s.on('timeout', reject);
    });

  it('gives up on a server that accepts but never answers: 502, flow error, error hook', async () => {
    const held: net.Socket[] = [];
    const silent = await tcpServer((sock) => void held.push(sock));
    const errors: string[] = [];
    const p = await createProxy({
      options: { tcp_timeout: 1 },
      addons: [{ name: 'err', error: (f: HTTPFlow) => void errors.push(f.error?.msg ?? '') }],
    });
    try {
      const started = Date.now();
      const r = await rawExchange(p.port, `GET ${silent.url}/silent HTTP/1.1\r\nHost: x\r\n\r\n`, 8000);
      expect(r.response).toMatch(/^HTTP\/1\.1 502 Bad Gateway/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBe('Server connection lost: no data for 1 s (tcp_timeout)');
      expect(r.response).toContain('no data for 1 s (tcp_timeout)');
    } finally {
      for (const s of held) s.destroy();
      await p.close();
      await silent.close();
    }
  });

  it('closes an idle client connection after tcp_timeout seconds, and not one that is active', async () => {
    const p = await createProxy({ options: { tcp_timeout: 1 } });
    try {
      const [idle, active] = await Promise.all([closedAfter(p.port, null, 4000), closedAfter(p.port, 200, 2600)]);
      expect(idle).not.toBe('open');
      expect(idle as number).toBeGreaterThanOrEqual(950);
      expect(idle as number).toBeLessThan(2500);
      // The active one sends a byte every 200 ms (a request line still being typed, as far as the
      // proxy can tell), so it is still open.
      expect(active).toBe('open');
    } finally {
      await p.close();
    }
  });
});
