/**
 * The codec against real Node peers on loopback: what Node's http client sends, what Node's
 * http server answers, and a minimal keep-alive forwarder built from the codec in between.
 */
import { Buffer } from 'node:buffer';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Http1Error,
  type RawHeaders,
  RequestParser,
  type RequestHead,
  ResponseParser,
  type ResponseHead,
  encodeChunk,
  encodeLastChunk,
  isChunked,
  serializeRequestHead,
  serializeResponseHead,
  toRawHeaders,
} from '../../src/proxy/http1/index.js';
import { str } from './helpers.js';

const closers: Array<() => void> = [];
afterEach(() => {
  while (closers.length) closers.pop()!();
});

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

interface Exchange {
  head: RequestHead;
  body: string;
  trailers: Array<[string, string]>;
}

/**
 * A raw TCP server that parses requests with RequestParser and answers each with `respond`.
 * Answers 100 Continue itself when the client asks for it.
 */
async function rawServer(
  respond: (ex: Exchange) => string,
): Promise<{ port: number; seen: Exchange[]; errors: Http1Error[] }> {
  const seen: Exchange[] = [];
  const errors: Http1Error[] = [];
  const server = net.createServer((socket) => {
    let current: Exchange | null = null;
    const parser: RequestParser = new RequestParser({
      onHead(head) {
        current = { head, body: '', trailers: [] };
        if (head.expectContinue) socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      },
      onData(chunk) {
        current!.body += chunk.toString('latin1');
      },
      onTrailers(t) {
        current!.trailers = str(t);
      },
      onEnd() {
        seen.push(current!);
        socket.write(respond(current!));
        parser.next();
      },
      onError(e) {
        errors.push(e);
        socket.end(`HTTP/1.1 ${e.status} Bad\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      },
    });
    socket.on('data', (c: Buffer) => parser.push(c));
    socket.on('end', () => parser.finish());
    socket.on('error', () => {});
  });
  return { port: await listen(server), seen, errors };
}

function request(
  options: http.RequestOptions,
  body?: string | string[],
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', ...options }, (res) => {
      let data = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: data, headers: res.headers }));
    });
    req.on('error', reject);
    if (options.headers && (options.headers as Record<string, string>)['Expect'] === '100-continue') {
      req.on('continue', () => req.end(body as string));
    } else {
      for (const piece of Array.isArray(body) ? body : body === undefined ? [] : [body]) req.write(piece);
      req.end();
    }
  });
}

describe('parsing what Node http clients send', () => {
  it('GET, Content-Length POST, chunked POST with keep-alive, header case kept', async () => {
    const { port, seen, errors } = await rawServer(
      (ex) => `HTTP/1.1 200 OK\r\nContent-Length: ${ex.body.length}\r\n\r\n${ex.body}`,
    );
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    closers.push(() => agent.destroy());
    const r1 = await request({
      port,
      agent,
      path: '/first?x=1',
      headers: { 'X-Mixed-CASE': 'v1', accept: 'text/plain' },
    });
    const r2 = await request(
      { port, agent, method: 'POST', path: '/cl', headers: { 'Content-Length': '11' } },
      'hello world',
    );
    const r3 = await request({ port, agent, method: 'POST', path: '/chunked' }, ['part one, ', 'part two']);
    expect([r1.status, r2.body, r3.body]).toEqual([200, 'hello world', 'part one, part two']);
    expect(errors).toEqual([]);
    expect(seen.map((e) => [e.head.method, e.head.path, e.head.bodyKind])).toEqual([
      ['GET', '/first?x=1', 'none'],
      ['POST', '/cl', 'length'],
      ['POST', '/chunked', 'chunked'],
    ]);
    expect(str(seen[0]!.head.headers).slice(0, 2)).toEqual([
      ['X-Mixed-CASE', 'v1'],
      ['accept', 'text/plain'],
    ]);
    expect(seen.every((e) => e.head.keepAlive)).toBe(true);
  });

  it('Expect: 100-continue', async () => {
    const { port, seen } = await rawServer(
      (ex) => `HTTP/1.1 200 OK\r\nContent-Length: ${ex.body.length}\r\n\r\n${ex.body}`,
    );
    const r = await request(
      { port, method: 'PUT', path: '/upload', headers: { Expect: '100-continue', 'Content-Length': '7' } },
      'payload',
    );
    expect(r.body).toBe('payload');
    expect(seen[0]!.head.expectContinue).toBe(true);
  });

  it('chunked request with trailers', async () => {
    const { port, seen } = await rawServer(() => 'HTTP/1.1 204 No Content\r\n\r\n');
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: '/t', headers: { Trailer: 'X-Digest' } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.write('abc');
      req.addTrailers({ 'X-Digest': 'sha=1' });
      req.end();
    });
    expect(seen[0]!.body).toBe('abc');
    expect(seen[0]!.trailers).toEqual([['X-Digest', 'sha=1']]);
  });

  it('a malformed request gets 400 and only its connection closes', async () => {
    const { port, errors } = await rawServer(() => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    const bad = net.connect(port, '127.0.0.1');
    bad.write('GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n');
    let answer = '';
    bad.on('data', (d: Buffer) => (answer += d.toString()));
    await once(bad, 'end');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(errors[0]!.code).toBe('MITMTS_ERR_HTTP_CONFLICTING_FRAMING');
    const good = await request({ port, path: '/' });
    expect(good.body).toBe('ok');
  });
});

/** Sends raw request bytes to `port` and parses the responses with ResponseParser. */
async function exchange(
  port: number,
  requests: Array<{ method: string; bytes: Buffer }>,
): Promise<Array<{ head: ResponseHead; body: string; info: number[] }>> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const results: Array<{ head: ResponseHead; body: string; info: number[] }> = [];
  let info: number[] = [];
  let body = '';
  let current: ResponseHead | null = null;
  let i = 0;
  const done = new Promise<void>((resolve, reject) => {
    const parser: ResponseParser = new ResponseParser({
      onInformational: (h) => info.push(h.statusCode),
      onHead: (h) => (current = h),
      onData: (c) => (body += c.toString('latin1')),
      onTrailers: () => {},
      onEnd: () => {
        results.push({ head: current!, body, info });
        body = '';
        info = [];
        if (++i === requests.length) {
          socket.end();
          resolve();
        } else {
          parser.next(requests[i]!.method);
        }
      },
      onError: reject,
    });
    parser.next(requests[0]!.method);
    socket.on('data', (c: Buffer) => parser.push(c));
    socket.on('end', () => parser.finish());
  });
  // pipelined: all requests at once
  socket.write(Buffer.concat(requests.map((r) => r.bytes)));
  await done;
  socket.destroy();
  return results;
}

const get = (
  method: string,
  path: string,
  extra: Array<[string, string]> = [],
  body = '',
): { method: string; bytes: Buffer } => ({
  method,
  bytes: Buffer.concat([
    serializeRequestHead({
      method,
      target: path,
      httpVersion: 'HTTP/1.1',
      headers: toRawHeaders([['Host', 'localhost'], ...extra]),
    }),
    Buffer.from(body),
  ]),
});

describe('parsing what a Node http server answers', () => {
  it('chunked, Content-Length, HEAD, 204, 304 and 100-continue on one keep-alive connection', async () => {
    const server = http.createServer((req, res) => {
      let received = '';
      req.on('data', (d: Buffer) => (received += d.toString()));
      req.on('end', () => {
        switch (req.url) {
          case '/chunked':
            res.setHeader('X-Kind', 'Chunked');
            res.write('hello ');
            res.end('world');
            return;
          case '/length':
          case '/head':
            res.setHeader('Content-Length', '5');
            res.end(req.method === 'HEAD' ? undefined : 'abcde');
            return;
          case '/head-chunked':
            res.write('will not be sent for HEAD');
            res.end();
            return;
          case '/204':
            res.statusCode = 204;
            res.end();
            return;
          case '/304':
            res.statusCode = 304;
            res.end();
            return;
          case '/echo':
            res.end('got ' + received);
            return;
        }
      });
    });
    const port = await listen(server);
    const results = await exchange(port, [
      get('GET', '/chunked'),
      get('GET', '/length'),
      get('HEAD', '/head'),
      get('HEAD', '/head-chunked'),
      get('GET', '/204'),
      get('GET', '/304'),
      get(
        'POST',
        '/echo',
        [
          ['Expect', '100-continue'],
          ['Content-Length', '4'],
        ],
        'data',
      ),
    ]);
    expect(results.map((r) => [r.head.statusCode, r.head.bodyKind, r.body, r.info])).toEqual([
      [200, 'chunked', 'hello world', []],
      [200, 'length', 'abcde', []],
      [200, 'none', '', []],
      [200, 'none', '', []],
      [204, 'none', '', []],
      [304, 'none', '', []],
      [200, 'length', 'got data', [100]],
    ]);
    expect(str(results[0]!.head.headers)[0]).toEqual(['X-Kind', 'Chunked']);
    // Node answers this HEAD without any framing header: it must not be read until close
    expect(isChunked(results[3]!.head.headers)).toBe(false);
    expect(results[3]!.head.contentLength).toBe(-1);
    expect(results[2]!.head.contentLength).toBe(5);
  });
});

/**
 * The smallest useful forwarder: one upstream connection per client connection, requests one at
 * a time, heads re-serialized from the parsed raw pairs, bodies streamed (re-chunked when
 * chunked).
 */
async function forwarder(upstreamPort: number): Promise<number> {
  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    // head and body go out in separate writes: without noDelay, Nagle + delayed ACK stall each
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    let reqChunked = false;
    let resChunked = false;
    let method = 'GET';
    const reqParser: RequestParser = new RequestParser({
      onHead(h) {
        method = h.method;
        reqChunked = h.bodyKind === 'chunked';
        resParser.next(h.method);
        upstream.write(serializeRequestHead(h));
      },
      onData: (c) => upstream.write(reqChunked ? encodeChunk(c) : c),
      onTrailers: (t: RawHeaders) => upstream.write(encodeLastChunk(t)),
      onEnd() {
        if (reqChunked && !trailersSent) upstream.write(encodeLastChunk());
      },
      onError: (e) => client.end(`HTTP/1.1 ${e.status} Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`),
    });
    let trailersSent = false;
    const resParser: ResponseParser = new ResponseParser({
      onInformational: (h) => client.write(serializeResponseHead(h)),
      onHead(h) {
        resChunked = h.bodyKind === 'chunked';
        client.write(serializeResponseHead(h));
      },
      onData: (c) => client.write(resChunked ? encodeChunk(c) : c),
      onTrailers: (t) => {
        trailersSent = true;
        client.write(encodeLastChunk(t));
      },
      onEnd() {
        if (resChunked && !trailersSent) client.write(encodeLastChunk());
        trailersSent = false;
        void method;
        reqParser.next();
      },
      onError: () => client.destroy(),
    });
    client.on('data', (c: Buffer) => reqParser.push(c));
    upstream.on('data', (c: Buffer) => resParser.push(c));
    client.on('end', () => upstream.end());
    upstream.on('end', () => {
      resParser.finish();
      client.end();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return listen(server);
}

describe('a keep-alive forwarder built from the codec', () => {
  it('forwards a mix of requests between a Node client and a Node server', async () => {
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d));
      req.on('end', () => {
        res.setHeader('X-Echo-Method', req.method!);
        res.setHeader('X-Raw-Header-Names', req.rawHeaders.filter((_, i) => i % 2 === 0).join(','));
        if (req.url === '/chunked') {
          res.write(body);
          res.end('!');
        } else {
          res.end(`${req.method} ${req.url} ${body}`);
        }
      });
    });
    const upstream = await listen(server);
    const port = await forwarder(upstream);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    closers.push(() => agent.destroy());
    const r1 = await request({ port, agent, path: '/a', headers: { 'X-Keep-Case': '1' } });
    const r2 = await request({ port, agent, method: 'POST', path: '/chunked' }, ['x', 'y', 'z']);
    const r3 = await request({ port, agent, method: 'PUT', path: '/c', headers: { 'Content-Length': '3' } }, 'abc');
    const r4 = await request({ port, agent, method: 'HEAD', path: '/d' });
    expect(r1.body).toBe('GET /a ');
    expect(r1.headers['x-raw-header-names']).toBe('X-Keep-Case,Host,Connection');
    expect(r2.body).toBe('xyz!');
    expect(r3.body).toBe('PUT /c abc');
    expect([r4.status, r4.body, r4.headers['x-echo-method']]).toEqual([200, '', 'HEAD']);
  });
});
