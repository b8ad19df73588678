/**
 * Buffered bodies have a default ceiling (issue 16): past `max_buffered_body` (64m) a body is
 * streamed, so its first byte reaches the client before the server sent the rest; the flow marks
 * it streamed and keeps no copy, and a warning names the option. Users who set
 * `body_size_limit` get mitmproxy's buffering up to that limit. A raw origin controls when the
 * rest of the body goes out; curl is the client.
 */
import { spawn } from 'node:child_process';
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { httpServer, tcpServer, type Upstream } from '../helpers/servers.js';

const MiB = 1024 * 1024;
const BLOCK = Buffer.alloc(MiB, 0x61);

/**
 * An origin that answers one request with `head`, then `first` MiB of body, then holds the rest
 * (`rest` MiB) until `release()`; a close-delimited body ends with the connection.
 */
async function holdingOrigin(
  head: string,
  first: number,
  rest: number,
  closeAtEnd: boolean,
): Promise<Upstream & { release: () => void }> {
  let socket: net.Socket | null = null;
  let released = false;
  const sendRest = (): void => {
    const s = socket;
    if (s === null || !released) return;
    socket = null;
    let left = rest;
    const pump = (): void => {
      while (left > 0) {
        left--;
        if (!s.write(BLOCK)) return void s.once('drain', pump);
      }
      if (closeAtEnd) s.end();
    };
    pump();
  };
  const up = await tcpServer((s) => {
    s.on('error', () => undefined);
    s.once('data', () => {
      s.write(head);
      for (let i = 0; i < first; i++) s.write(BLOCK);
      socket = s;
      sendRest();
    });
  });
  return Object.assign(up, {
    release: () => {
      released = true;
      sendRest();
    },
  });
}

/** curl through the proxy; `onFirstByte` runs when the first body byte reaches curl's stdout. */
function download(
  proxy: EmbeddedProxy,
  url: string,
  onFirstByte: () => void,
): Promise<{ code: number; bytes: number }> {
  return new Promise((resolve) => {
    const c = spawn('curl', ['-sS', '--max-time', '60', '-x', proxy.url, url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let bytes = 0;
    c.stdout.on('data', (d: Buffer) => {
      if (bytes === 0) onFirstByte();
      bytes += d.length;
    });
    c.on('close', (code) => resolve({ code: code ?? -1, bytes }));
  });
}

/**
 * An origin that counts the request body as it arrives: `reached(n)` resolves once it has `n`
 * bytes; it answers with the total when the body ends.
 */
async function countingOrigin(): Promise<Upstream & { reached: (n: number) => Promise<void> }> {
  let got = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const up = await httpServer((req, res) => {
    req.on('data', (d: Buffer) => {
      got += d.length;
      for (const w of waiters.splice(0))
        if (got >= w.n) w.resolve();
        else waiters.push(w);
    });
    req.on('end', () => res.end(`got ${got}`));
  });
  return Object.assign(up, {
    reached: (n: number) => new Promise<void>((resolve) => (got >= n ? resolve() : waiters.push({ n, resolve }))),
  });
}

/** Resolves with `p`, or rejects after `ms` saying what did not happen. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms).unref()),
  ]);
}

let proxy: EmbeddedProxy | null = null;
let origin: Upstream | null = null;

afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  proxy = origin = null;
});

async function start(options: Record<string, string>): Promise<HTTPFlow[]> {
  const flows: HTTPFlow[] = [];
  proxy = await createProxy({ options, addons: [{ name: 'keep', response: (f: HTTPFlow) => void flows.push(f) }] });
  return flows;
}

describe('max_buffered_body', () => {
  it('default options: a body over 64 MiB is streamed from its first byte, not kept, with a warning', async () => {
    const flows = await start({});
    const o = await holdingOrigin(`HTTP/1.1 200 OK\r\nContent-Length: ${80 * MiB}\r\n\r\n`, 1, 79, false);
    origin = o;
    // The origin holds 79 of the 80 MiB until curl has the first byte: buffering would hang here.
    const got = await download(proxy!, `${o.url}/big`, o.release);
    expect(got).toEqual({ code: 0, bytes: 80 * MiB });
    expect(flows).toHaveLength(1);
    expect(flows[0]!.response!.stream).toBe(true);
    expect(flows[0]!.response!.rawContent).toBeNull();
    const warn = proxy!.logs.filter((e) => e.level === 'warn');
    expect(warn.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /response body of 83886080 bytes of GET http:\/\/127\.0\.0\.1:\d+\/big is larger than max_buffered_body \(67108864 bytes\): streamed/,
      ),
    ]);
  });

  it('a close-delimited body is streamed once it outgrows max_buffered_body', async () => {
    const flows = await start({ max_buffered_body: '1m' });
    const o = await holdingOrigin('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n', 2, 3, true);
    origin = o;
    const got = await download(proxy!, `${o.url}/close`, o.release);
    expect(got).toEqual({ code: 0, bytes: 5 * MiB });
    expect(flows[0]!.response!.stream).toBe(true);
    expect(flows[0]!.response!.rawContent).toBeNull();
    expect(proxy!.logs.some((e) => e.level === 'warn' && e.message.includes('response body over 1048576 bytes'))).toBe(
      true,
    );
  });

  it('a chunked HTTP/1 upload is streamed once it outgrows max_buffered_body, its first bytes included', async () => {
    const flows = await start({ max_buffered_body: '1m' });
    const o = await countingOrigin();
    origin = o;
    const client = net.connect(proxy!.port, '127.0.0.1');
    client.on('error', () => undefined);
    let answer = '';
    client.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    const chunk = (b: Buffer): string => `${b.length.toString(16)}\r\n`;
    client.write(`POST ${o.url}/up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`);
    for (let i = 0; i < 2; i++) client.write(chunk(BLOCK) + BLOCK.toString('latin1') + '\r\n', 'latin1');
    // The client holds the rest until the origin has seen 1.5 MiB: buffering would hang here.
    await within(o.reached(1.5 * MiB), 15_000, 'the origin saw 1.5 MiB of a 5 MiB chunked upload');
    for (let i = 0; i < 3; i++) client.write(chunk(BLOCK) + BLOCK.toString('latin1') + '\r\n', 'latin1');
    client.write('0\r\n\r\n');
    await new Promise((r) => client.on('close', r));
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\ngot 5242880$/);
    await proxy!.waitForFlow(() => true);
    expect(flows[0]!.request.stream).toBe(true);
    expect(flows[0]!.request.rawContent).toBeNull();
    expect(
      proxy!.logs.some((e) => e.level === 'warn' && e.message.includes('request body over 1048576 bytes of POST')),
    ).toBe(true);
  });

  it('an HTTP/2 upload without content-length is streamed once it outgrows max_buffered_body', async () => {
    const flows = await start({ max_buffered_body: '1m' });
    const o = await countingOrigin();
    origin = o;
    // h2c with prior knowledge to the proxy; the origin is named by :authority (regular mode)
    const session = http2.connect(`http://127.0.0.1:${proxy!.port}`);
    try {
      const req = session.request({ ':method': 'POST', ':path': '/up', ':authority': new URL(o.url).host });
      let answer = '';
      req.setEncoding('latin1');
      req.on('data', (d: string) => (answer += d));
      const ended = new Promise((r) => req.on('end', r));
      req.write(BLOCK);
      req.write(BLOCK);
      await within(o.reached(1.5 * MiB), 15_000, 'the origin saw 1.5 MiB of a 5 MiB HTTP/2 upload');
      for (let i = 0; i < 3; i++) req.write(BLOCK);
      req.end();
      await ended;
      expect(answer).toBe('got 5242880');
    } finally {
      session.close();
    }
    await proxy!.waitForFlow(() => true);
    expect(flows[0]!.request.stream).toBe(true);
    expect(flows[0]!.request.httpVersion).toBe('HTTP/2.0');
  });

  it('body_size_limit set: bodies up to it are buffered as in mitmproxy (the ceiling does not apply)', async () => {
    const flows = await start({ max_buffered_body: '1m', body_size_limit: '10m' });
    const o = await holdingOrigin(`HTTP/1.1 200 OK\r\nContent-Length: ${3 * MiB}\r\n\r\n`, 1, 2, false);
    origin = o;
    o.release();
    const got = await download(proxy!, `${o.url}/buffered`, () => undefined);
    expect(got).toEqual({ code: 0, bytes: 3 * MiB });
    expect(flows[0]!.response!.stream).toBe(false);
    expect(flows[0]!.response!.rawContent!.length).toBe(3 * MiB);
    expect(proxy!.logs.filter((e) => e.level === 'warn')).toEqual([]);
  });

  it('refuses a bad size with a message naming the option', async () => {
    await expect(start({ max_buffered_body: '12x' })).rejects.toThrow(
      /max_buffered_body.*invalid size specification "12x"/,
    );
  });
});
