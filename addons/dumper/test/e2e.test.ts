import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy } from '@mitmts/sdk';
import { requestVia } from '@mitmts/sdk/testing';
import { Dumper } from '@mitmts/addon-dumper';

const ROOT = join(import.meta.dirname, '../../..');

/** An upstream with fixed answers (no Date header, so outputs compare byte for byte). */
function upstreamServer(): Server {
  const answers: Record<string, [string, string, Buffer]> = {
    '/': ['200 OK', 'text/plain', Buffer.from('hello world\nline2\n')],
    '/json?x=1': ['200 OK', 'application/json', Buffer.from('{"a": 1, "b": [1, 2, {"c": "d"}], "e": null}')],
    '/bin': ['200 OK', 'application/octet-stream', Buffer.from(Array.from({ length: 40 }, (_, i) => i))],
    '/missing': ['404 Not Found', 'text/html', Buffer.alloc(0)],
  };
  return createServer((s) => {
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [, path] = buf.split(' ');
      const length = /content-length: (\d+)/i.exec(buf.slice(0, end));
      if (length && buf.length < end + 4 + Number(length[1])) return;
      const [status, type, body] = answers[path!] ?? answers['/missing']!;
      s.end(
        Buffer.concat([
          Buffer.from(
            `HTTP/1.1 ${status}\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
          ),
          body,
        ]),
      );
    });
  });
}

async function get(proxyPort: number, url: string, body?: string): Promise<number> {
  const headers: Record<string, string> = { 'user-agent': 'e2e', accept: '*/*' };
  if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  const r = await requestVia({ host: '127.0.0.1', port: proxyPort }, url, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  return r.status;
}

async function traffic(proxyPort: number, upstreamPort: number): Promise<void> {
  const base = `http://127.0.0.1:${upstreamPort}`;
  await get(proxyPort, `${base}/`);
  await get(proxyPort, `${base}/json?x=1`);
  await get(proxyPort, `${base}/bin`, 'a=b&c=%20d');
  await get(proxyPort, `${base}/missing`);
}

/** Client ports differ from run to run. */
function normalize(out: string): string {
  return out.replace(/\r/g, '').replace(/127\.0\.0\.1:\d+: /g, '127.0.0.1:PORT: ');
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`exited early: ${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}: ${output()}`);
}

/** Run a proxy process, send the traffic through it, stop it, return its stdout. */
async function runProcess(cmd: string, args: (port: number) => string[], upstreamPort: number): Promise<string> {
  const port = await freePort();
  const child = spawn(cmd, args(port), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, COLUMNS: '80' },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  try {
    await waitForPort(port, child, () => out + err);
    // Each flow is printed in its response hook, before the client gets the response: once the
    // traffic is done, everything is written (flushed at the latest when the process exits).
    await traffic(port, upstreamPort);
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
  }
  return out;
}

const EXPECTED_DETAIL_1 = [
  '127.0.0.1:PORT: GET http://127.0.0.1:UP/',
  '              << 200 OK 18b',
  '127.0.0.1:PORT: GET http://127.0.0.1:UP/json?x=1',
  '              << 200 OK 44b',
  '127.0.0.1:PORT: POST http://127.0.0.1:UP/bin',
  '              << 200 OK 40b',
  '127.0.0.1:PORT: GET http://127.0.0.1:UP/missing',
  '              << 404 Not Found 0b',
  '',
].join('\n');

describe('dumper through a running proxy', () => {
  let upstream: Server;
  let upstreamPort: number;
  beforeAll(async () => {
    upstream = upstreamServer();
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamPort = (upstream.address() as AddressInfo).port;
  });
  afterAll(() => upstream.close());

  it('prints one request line and one response line per flow at flow_detail 1', async () => {
    const proxy = await createProxy({ addons: [Dumper] });
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d));
    proxy.kernel.get<Dumper>('dumper')!.out = out;
    try {
      await traffic(proxy.port, upstreamPort);
    } finally {
      await proxy.close();
    }
    const ports = [...text.matchAll(/127\.0\.0\.1:(\d+): /g)].map((m) => m[1]);
    expect(new Set(ports).size).toBe(4);
    expect(normalize(text).replaceAll(String(upstreamPort), 'UP')).toBe(EXPECTED_DETAIL_1);
  });

  it('prints raw TCP messages relayed through a CONNECT tunnel', async () => {
    const echo = createServer((s) => s.on('data', (d: Buffer) => s.write(d)));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const echoPort = (echo.address() as AddressInfo).port;
    const proxy = await createProxy({ addons: [Dumper] });
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d));
    proxy.kernel.get<Dumper>('dumper')!.out = out;
    let clientPort = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        const s = connect(proxy.port, proxy.host, () => {
          clientPort = s.localPort!;
          s.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nhost: 127.0.0.1:${echoPort}\r\n\r\n`);
        });
        let got = '';
        s.on('data', (d: Buffer) => {
          got += d.toString('latin1');
          if (got.endsWith('\r\n\r\n') && !got.includes('ping')) s.write('ping\x00');
          else if (got.endsWith('ping\x00')) s.end();
        });
        s.on('close', () => resolve());
        s.on('error', reject);
      });
      await proxy.flows.waitFor(
        (f) => f.type === 'tcp' && f.error === null && (f as unknown as { messages: unknown[] }).messages.length === 2,
        2000,
      );
    } finally {
      await proxy.close();
      echo.close();
    }
    expect(text.split('\n').slice(0, 2)).toEqual([
      `127.0.0.1:${clientPort} -> tcp -> 127.0.0.1:${echoPort}`,
      `127.0.0.1:${clientPort} <- tcp <- 127.0.0.1:${echoPort}`,
    ]);
  });

  const mitmdump = spawnSync('mitmdump', ['--version'], { stdio: 'ignore' }).status === 0;
  it.runIf(mitmdump).each([1, 2, 3])(
    'prints what mitmdump prints at --flow-detail %i (mitmts CLI vs installed mitmdump)',
    async (detail) => {
      const common = ['--flow-detail', String(detail), '--set', 'termlog_verbosity=error'];
      const ours = await runProcess(
        process.execPath,
        (p) => [
          'bin/mitmts.js',
          '-p',
          String(p),
          '--set',
          `confdir=${mkdtempSync(join(tmpdir(), 'mitmts-d-'))}`,
          ...common,
        ],
        upstreamPort,
      );
      const theirs = await runProcess(
        'mitmdump',
        (p) => ['-p', String(p), '--set', `confdir=${mkdtempSync(join(tmpdir(), 'mitmdump-d-'))}`, ...common],
        upstreamPort,
      );
      expect(theirs.length).toBeGreaterThan(0);
      // mitmdump 8.1.1 sorts JSON keys (current mitmproxy does not); this body is sorted already.
      expect(normalize(ours)).toBe(normalize(theirs));
    },
  );
});
