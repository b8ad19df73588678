/**
 * Keep-alive desync (issue 16): bytes a server sends after a complete response must never be
 * read as the response to the next request on a reused server connection. Raw-socket servers
 * misbehave on their first connection only; every later request gets an honest answer.
 */
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { tcpServer, type Upstream } from '../helpers/servers.js';

const honest = (n: number): string => `HTTP/1.1 200 OK\r\nContent-Length: ${`honest ${n}`.length}\r\n\r\nhonest ${n}`;
/** What the server sends after the first response, if it is read as one. */
const SMUGGLED = 'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled';

/**
 * A server that answers each request head it reads; the first request on the first connection
 * gets `first` (a response with extra bytes), every other one an honest 200.
 */
async function misbehaving(first: string): Promise<Upstream & { connections: () => number; sockets: net.Socket[] }> {
  let connections = 0;
  let answered = 0;
  const sockets: net.Socket[] = [];
  const server = await tcpServer((sock: net.Socket) => {
    const conn = ++connections;
    sockets.push(sock);
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        buf = buf.slice(end + 4);
        answered++;
        sock.write(conn === 1 && answered === 1 ? first : honest(answered));
      }
    });
    sock.on('error', () => undefined);
  });
  return Object.assign(server, { connections: () => connections, sockets });
}

/**
 * Two requests in a row on one keep-alive client connection through the proxy; `between` runs
 * after the first response.
 */
async function twoRequests(
  proxy: EmbeddedProxy,
  up: Upstream,
  firstMethod: string,
  between?: () => Promise<void>,
): Promise<Array<{ status: number; body: string }>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const one = (method: string, path: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { host: proxy.host, port: proxy.port, method, path: `${up.url}${path}`, agent },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString('latin1')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  try {
    const a = await one(firstMethod, '/first');
    await between?.();
    return [a, await one('GET', '/second')];
  } finally {
    agent.destroy();
  }
}

let proxy: EmbeddedProxy;
const flows: HTTPFlow[] = [];

beforeAll(async () => {
  proxy = await createProxy({ addons: [{ name: 'keep', response: (f: HTTPFlow) => void flows.push(f) }] });
});

afterAll(async () => {
  await proxy?.close();
});

describe('a server connection with bytes after the response is not reused', () => {
  const cases: Array<[string, string, string]> = [
    ['bytes past Content-Length', 'GET', `HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst${SMUGGLED}`],
    ['a body on a 204', 'GET', `HTTP/1.1 204 No Content\r\n\r\n${SMUGGLED}`],
    ['a body on a HEAD response', 'HEAD', `HTTP/1.1 200 OK\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`],
    [
      'a pipelined server (the next response sent ahead)',
      'GET',
      `HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst${honest(99).replace('honest 99', 'ahead 99!')}`,
    ],
  ];
  for (const [name, method, first] of cases) {
    it(name, async () => {
      const up = await misbehaving(first);
      try {
        const [a, b] = await twoRequests(proxy, up, method);
        expect(a.status).toBeLessThan(300);
        expect(b).toEqual({ status: 200, body: 'honest 2' });
        // The second request went over a new server connection, and the flow records the honest answer.
        expect(up.connections()).toBe(2);
        const second = flows.filter((f) => f.request.port === up.port && f.request.path === '/second');
        expect(second.map((f) => f.response?.text)).toEqual(['honest 2']);
        expect(
          proxy.logs.some(
            (e) =>
              e.level === 'debug' &&
              e.message.includes(`127.0.0.1:${up.port} sent `) &&
              e.message.includes('bytes after the end of a response'),
          ),
        ).toBe(true);
      } finally {
        await up.close();
      }
    });
  }

  it('bytes that arrive while the connection waits for the next request', async () => {
    const up = await misbehaving(honest(1));
    const strayLogged = new Promise<void>((resolve) => {
      const stop = proxy.kernel.log.onEntry((e) => {
        if (e.level === 'debug' && e.message.includes(`127.0.0.1:${up.port} sent ${SMUGGLED.length} bytes`)) {
          stop();
          resolve();
        }
      });
    });
    try {
      const [a, b] = await twoRequests(proxy, up, 'GET', async () => {
        up.sockets[0]!.write(SMUGGLED);
        await strayLogged;
      });
      expect([a.body, b.body]).toEqual(['honest 1', 'honest 2']);
      expect(up.connections()).toBe(2);
    } finally {
      await up.close();
    }
  });

  it('a clean keep-alive server connection is still reused', async () => {
    const up = await misbehaving(honest(1));
    try {
      const [a, b] = await twoRequests(proxy, up, 'GET');
      expect([a.body, b.body]).toEqual(['honest 1', 'honest 2']);
      expect(up.connections()).toBe(1);
    } finally {
      await up.close();
    }
  });
});
