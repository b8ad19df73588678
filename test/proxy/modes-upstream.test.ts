import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, setUpstreamProxy, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { ProxyAuth } from '@mitmts/addon-proxyauth';
import { UpstreamAuth } from '@mitmts/addon-upstreamauth';
import { confdirWithCa } from '../helpers/cli.js';
import { FIXTURE_CA_CERT, listenerPort } from '../helpers/modes.js';
import { curl, httpServer, httpsServer, rawExchange, type Upstream } from '../helpers/servers.js';

const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`${req.url} via ${req.headers['x-hop'] ?? 'none'} auth=${req.headers['proxy-authorization'] ?? '-'}`);
};

let plain: Upstream;
let secure: Upstream & { ca: { caCertPath: string } };
/** The upstream proxies (second mitmts instances): `auth` requires credentials. */
let auth: EmbeddedProxy;
let open1: EmbeddedProxy;
let open2: EmbeddedProxy;
/** The proxy under test: upstream mode to `auth`, and a regular listener with a routing addon. */
let proxy: EmbeddedProxy;
const flows: HTTPFlow[] = [];
const connectUpstream: HTTPFlow[] = [];

/** A second mitmts as an upstream proxy; it marks what it forwards with `X-Hop: name`. */
function upstreamProxy(name: string, ca: string, extra: Record<string, unknown> = {}): Promise<EmbeddedProxy> {
  return createProxy({
    confdir: confdirWithCa(),
    options: { ssl_verify_upstream_trusted_ca: ca, ...extra },
    addons: [
      new ProxyAuth(),
      { name: `hop-${name}`, requestheaders: (f: HTTPFlow) => void f.request.headers.set('X-Hop', name) },
    ],
  });
}

const listener = (prefix: string): number => listenerPort(proxy, prefix);

beforeAll(async () => {
  plain = await httpServer(handler);
  secure = await httpsServer(handler);
  auth = await upstreamProxy('auth', secure.ca.caCertPath, { proxyauth: 'alice:s3cret' });
  open1 = await upstreamProxy('one', secure.ca.caCertPath);
  open2 = await upstreamProxy('two', secure.ca.caCertPath);
  // The upstreams intercept TLS with the fixture CA: trust it, and the servers' CA (a tunnel's
  // eager connection goes there directly before a request picks its upstream).
  const trust = join(auth.confdir, 'trusted-upstreams.pem');
  writeFileSync(trust, [FIXTURE_CA_CERT, secure.ca.caCertPath].map((p) => readFileSync(p, 'latin1')).join(''));
  proxy = await createProxy({
    confdir: confdirWithCa(),
    options: {
      mode: [`upstream:http://127.0.0.1:${auth.port}@0`, 'regular@0'],
      upstream_auth: 'alice:s3cret',
      ssl_verify_upstream_trusted_ca: trust,
    },
    addons: [
      new UpstreamAuth(),
      {
        name: 'route',
        // Per-flow upstream on the regular listener: 127.0.0.1 through one, localhost through two.
        // A whole tunnel through one upstream: chosen on the CONNECT.
        http_connect: (f: HTTPFlow) => {
          if (f.request.host === '127.0.0.1' && f.request.port === secure.port)
            setUpstreamProxy(f, ['http', ['127.0.0.1', open1.port]]);
        },
        requestheaders: (f: HTTPFlow) => {
          if (
            f.clientConn.proxyMode !== 'regular@0' ||
            f.request.path.startsWith('/direct') ||
            f.request.path.startsWith('/whole')
          )
            return;
          setUpstreamProxy(f, `http://127.0.0.1:${f.request.host === '127.0.0.1' ? open1.port : open2.port}`);
        },
        response: (f: HTTPFlow) => void flows.push(f),
        error: (f: HTTPFlow) => void flows.push(f),
        http_connect_upstream: (f: HTTPFlow) => void connectUpstream.push(f),
      },
    ],
  });
});

afterAll(async () => {
  for (const p of [proxy, auth, open1, open2]) await p?.close();
  await Promise.all([plain?.close(), secure?.close()]);
});

describe('upstream mode, chained through a second mitmts that requires proxyauth', () => {
  it('logs the listener as mitmproxy does', () => {
    expect(proxy.logs.map((e) => e.message)).toContain(
      `HTTP(S) proxy (upstream mode) listening at 127.0.0.1:${listener('upstream:')}.`,
    );
  });

  it('plain HTTP goes to the upstream proxy in absolute form with Proxy-Authorization from upstream_auth', async () => {
    const r = await curl(['-x', `http://127.0.0.1:${listener('upstream:')}`, `${plain.url}/plain`]);
    expect(r.stdout).toBe('/plain via auth auth=-');
    const f = flows.find((x) => x.request.path === '/plain')!;
    expect(f.serverConn.via).toEqual(['http', ['127.0.0.1', auth.port]]);
    expect(f.serverConn.peername?.[1]).toBe(auth.port);
    // The upstream authenticated it (and removed the header before the server).
    const seen = auth.flows.all().find((x) => (x as HTTPFlow).request?.path === '/plain') as HTTPFlow;
    expect(seen.metadata.proxyauth).toEqual(['alice', 's3cret']);
  });

  it('HTTPS goes through a CONNECT to the upstream (http_connect_upstream fires), then TLS inside', async () => {
    const r = await curl([
      '-x',
      `http://127.0.0.1:${listener('upstream:')}`,
      '--cacert',
      proxy.caCertPath,
      `${secure.url}/tls`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('/tls via auth auth=-');
    const c = connectUpstream.find((x) => x.request.port === secure.port)!;
    expect(c.request.method).toBe('CONNECT');
    expect(c.request.headers.get('proxy-authorization')).toBe(
      `Basic ${Buffer.from('alice:s3cret').toString('base64')}`,
    );
    expect(c.request.headers.get('host')).toBe(`localhost:${secure.port}`);
    const f = flows.find((x) => x.request.path === '/tls')!;
    expect(f.serverConn.via).toEqual(['http', ['127.0.0.1', auth.port]]);
    expect(f.serverConn.tls).toBe(true);
  });

  it('an HTTP/2 client: its streams share one connection through the upstream proxy, HTTP/1.1 on the server leg', async () => {
    // lazy: the client gets h2 before any server connection (eager passes the server's http/1.1 on)
    proxy.kernel.options.update({ connection_strategy: 'lazy' });
    let r;
    try {
      r = await curl([
        '--http2',
        '-x',
        `http://127.0.0.1:${listener('upstream:')}`,
        '--cacert',
        proxy.caCertPath,
        `${secure.url}/h2-one`,
        `${secure.url}/h2-two`,
      ]);
    } finally {
      proxy.kernel.options.update({ connection_strategy: 'eager' });
    }
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('/h2-one via auth auth=-/h2-two via auth auth=-');
    const [one, two] = ['/h2-one', '/h2-two'].map((path) => flows.find((x) => x.request.path === path)!);
    for (const f of [one!, two!]) {
      expect(f.request.httpVersion).toBe('HTTP/2.0');
      expect(f.serverConn.via).toEqual(['http', ['127.0.0.1', auth.port]]);
      expect(f.serverConn.alpn?.toString()).not.toBe('h2');
    }
    expect(one!.clientConn.id).toBe(two!.clientConn.id);
    expect(two!.serverConn).toBe(one!.serverConn);
  });

  it('wrong credentials: the upstream answers 407 for HTTP; a refused CONNECT is a 502 naming the proxy', async () => {
    proxy.kernel.options.update({ upstream_auth: 'alice:wrong' });
    try {
      const r = await curl(['-i', '-x', `http://127.0.0.1:${listener('upstream:')}`, `${plain.url}/wrong`]);
      expect(r.stdout).toMatch(/^HTTP\/1\.1 407 /);
      const s = await curl([
        '-x',
        `http://127.0.0.1:${listener('upstream:')}`,
        '--cacert',
        proxy.caCertPath,
        `${secure.url}/wrong-tls`,
      ]);
      expect(s.stderr).toContain('CONNECT tunnel failed, response 502');
      const connect = proxy.flows
        .all()
        .find((x) => (x as HTTPFlow).request?.method === 'CONNECT' && x.error !== null) as HTTPFlow;
      expect(connect.error!.msg).toBe(
        `Upstream proxy 127.0.0.1:${auth.port} refused HTTP CONNECT request: 407 Proxy Authentication Required`,
      );
    } finally {
      proxy.kernel.options.update({ upstream_auth: 'alice:s3cret' });
    }
  });

  it('upstream_auth refuses a value without user:pass', () => {
    expect(() => proxy.kernel.options.update({ upstream_auth: 'nocolon' })).toThrow(
      /Invalid upstream auth specification: "nocolon"/,
    );
  });
});

describe('per-flow upstream proxies (setUpstreamProxy)', () => {
  it('routes two hosts through two upstreams on one client connection', async () => {
    const p = listener('regular');
    const r = await rawExchange(
      p,
      `GET ${plain.url}/one HTTP/1.1\r\nHost: 127.0.0.1:${plain.port}\r\n\r\n` +
        `GET http://localhost:${plain.port}/two HTTP/1.1\r\nHost: localhost:${plain.port}\r\n\r\n` +
        `GET ${plain.url}/direct HTTP/1.1\r\nHost: 127.0.0.1:${plain.port}\r\nConnection: close\r\n\r\n`,
    );
    expect(r.response).toContain('/one via one auth=-');
    expect(r.response).toContain('/two via two auth=-');
    expect(r.response).toContain('/direct via none auth=-');
    const byPath = (path: string): HTTPFlow => flows.find((x) => x.request.path === path)!;
    expect(byPath('/one').serverConn.via).toEqual(['http', ['127.0.0.1', open1.port]]);
    expect(byPath('/two').serverConn.via).toEqual(['http', ['127.0.0.1', open2.port]]);
    expect(byPath('/direct').serverConn.via).toBeNull();
    expect(new Set(['/one', '/two', '/direct'].map((x) => byPath(x).clientConn.id)).size).toBe(1);
  });

  it('an HTTPS request inside a CONNECT tunnel goes through the chosen upstream with its own CONNECT', async () => {
    const r = await curl([
      '-x',
      `http://127.0.0.1:${listener('regular')}`,
      '--cacert',
      proxy.caCertPath,
      `${secure.url}/tunnelled`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('/tunnelled via two auth=-');
    expect(flows.find((x) => x.request.path === '/tunnelled')!.serverConn.via).toEqual([
      'http',
      ['127.0.0.1', open2.port],
    ]);
  });

  it('an upstream chosen in http_connect carries the whole tunnel (its eager connection too)', async () => {
    const r = await curl([
      '-x',
      `http://127.0.0.1:${listener('regular')}`,
      '--cacert',
      proxy.caCertPath,
      `https://127.0.0.1:${secure.port}/whole-tunnel`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('/whole-tunnel via one auth=-');
    const connect = proxy.flows
      .all()
      .find(
        (x) => (x as HTTPFlow).request?.method === 'CONNECT' && (x as HTTPFlow).request.host === '127.0.0.1',
      ) as HTTPFlow;
    expect(connect.serverConn.via).toEqual(['http', ['127.0.0.1', open1.port]]);
    expect(flows.find((x) => x.request.path === '/whole-tunnel')!.serverConn).toBe(connect.serverConn);
  });

  it('refuses a bad upstream spec with a message naming it', () => {
    const f = flows[0]!;
    expect(() => setUpstreamProxy(f, 'socks5://x:1')).toThrow(
      'Invalid upstream proxy "socks5://x:1": Invalid scheme: socks5 (expected http://host:port or https://host:port).',
    );
  });
});
