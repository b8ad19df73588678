/**
 * Buffered bodies have a default ceiling (issue 16): past `max_buffered_body` (64m) a body is
 * streamed, so its first byte reaches the client before the server sent the rest; the flow marks
 * it streamed and keeps no copy, and a warning names the option. Users who set
 * `body_size_limit` get mitmproxy's buffering up to that limit. A raw origin controls when the
 * rest of the body goes out; curl is the client.
 */
import { spawn } from 'node:child_process';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { tcpServer, type Upstream } from '../helpers/servers.js';

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
