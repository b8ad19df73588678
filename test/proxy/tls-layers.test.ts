/**
 * The protocol inside intercepted TLS: chosen by the negotiated ALPN (no sniffing of the first
 * bytes); without ALPN, HTTP/1 unless `rawtcp` relays bytes that do not look like HTTP.
 */
import http from 'node:http';
import type net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy, type HTTPFlow, type TCPFlow } from '@mitmts/sdk';
import { httpsServer, testCa, type Upstream } from '../helpers/servers.js';

/** CONNECT through the proxy, then TLS (trusting the proxy's CA) with these ALPN offers. */
function tunnel(proxy: EmbeddedProxy, port: number, alpn: string[]): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: proxy.host, port: proxy.port, method: 'CONNECT', path: `localhost:${port}` });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) return reject(new Error(`CONNECT answered ${res.statusCode}`));
      const t = tls.connect(
        {
          socket,
          ca: readFileSync(proxy.caCertPath),
          servername: 'localhost',
          ...(alpn.length ? { ALPNProtocols: alpn } : {}),
        },
        () => resolve(t),
      );
      t.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Everything the other side sends until it closes. */
function readAll(t: tls.TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    t.on('data', (d: Buffer) => (out += d));
    t.on('close', () => resolve(out));
  });
}

let web: Upstream;
let echo: tls.Server;
let echoPort: number;
let proxy: EmbeddedProxy;
const httpFlows: HTTPFlow[] = [];
const tcpFlows: TCPFlow[] = [];

beforeAll(async () => {
  web = await httpsServer((req, res) => res.end(`secure ${req.url}`));
  const ca = await testCa();
  echo = tls.createServer(ca.issue('localhost', '127.0.0.1'), (s) => s.on('data', (d: Buffer) => s.end(`echo:${d}`)));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;
  proxy = await createProxy({
    options: { ssl_verify_upstream_trusted_ca: ca.caCertPath },
    addons: [
      {
        name: 'watch',
        response: (f: HTTPFlow) => void httpFlows.push(f),
        tcp_end: (f: TCPFlow) => void tcpFlows.push(f),
      },
    ],
  });
});

afterAll(async () => {
  await proxy?.close();
  await web?.close();
  await new Promise((r) => echo?.close(r));
});

describe('the layer inside TLS', () => {
  it('ALPN http/1.1: HTTP/1, even when the first TLS record holds one byte of the request', async () => {
    const t = await tunnel(proxy, web.port, ['http/1.1']);
    expect(t.alpnProtocol).toBe('http/1.1');
    const reply = readAll(t);
    t.write('G');
    // A later record for the rest (as clients that split their first record do).
    await new Promise((r) => setTimeout(r, 50));
    t.write('ET /split HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(await reply).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*secure \/split$/);
    expect(httpFlows.some((f) => f.request.path === '/split' && f.request.scheme === 'https')).toBe(true);
  });

  it('no ALPN and an HTTP request: HTTP/1', async () => {
    const t = await tunnel(proxy, web.port, []);
    expect(t.alpnProtocol).toBeFalsy();
    const reply = readAll(t);
    t.write('GET /no-alpn HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(await reply).toMatch(/secure \/no-alpn$/);
    expect(httpFlows.some((f) => f.request.path === '/no-alpn')).toBe(true);
  });

  it('no ALPN and bytes that are not HTTP: relayed as TCP (rawtcp)', async () => {
    const t = await tunnel(proxy, echoPort, []);
    const reply = readAll(t);
    t.write('\x00\x01 binary hello');
    expect(await reply).toBe('echo:\x00\x01 binary hello');
    const flow = await new Promise<TCPFlow>((resolve) => {
      const check = (): void => {
        const f = tcpFlows.find((x) => x.serverConn.address?.[1] === echoPort);
        if (f) resolve(f);
        else setImmediate(check);
      };
      check();
    });
    expect(flow.messages.map((m) => m.content.toString('latin1'))).toEqual([
      '\x00\x01 binary hello',
      'echo:\x00\x01 binary hello',
    ]);
  });

  it('no ALPN with rawtcp off: HTTP/1 for any bytes (a 400 for these)', async () => {
    const p = await createProxy({
      options: { rawtcp: false, ssl_verify_upstream_trusted_ca: (await testCa()).caCertPath },
    });
    try {
      const t = await tunnel(p, echoPort, []);
      const reply = readAll(t);
      t.write('\x00\x01 binary hello\r\n\r\n');
      expect(await reply).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    } finally {
      await p.close();
    }
  });
});
