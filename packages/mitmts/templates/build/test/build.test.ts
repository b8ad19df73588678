import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy } from '@mitmts/sdk';
import { buildProxy } from '@mitmts/sdk/cli';
import { Greeting } from '../src/greeting.js';

let upstream: http.Server;
let upstreamUrl = '';

beforeAll(async () => {
  upstream = http.createServer((req, res) => res.end(`upstream ${req.url}`));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

/** A real HTTP client request through the proxy. */
function get(proxyPort: number, url: string): Promise<{ body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, path: url, headers: { host: new URL(url).host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('__name__', () => {
  it('stamps responses and answers for __name__.proxy (embedded with createProxy)', async () => {
    const proxy = await createProxy({ addons: [Greeting], options: { greeting: 'hi' } });
    try {
      const up = await get(proxy.port, `${upstreamUrl}/x`);
      expect(up.body).toBe('upstream /x');
      expect(up.headers['x-__name__']).toBe('hi');
      const own = await get(proxy.port, 'http://__name__.proxy/');
      expect(own.body).toBe('hi');
    } finally {
      await proxy.close();
    }
  });

  it('builds into one file that runs with nothing installed beside it', async () => {
    const out = join(mkdtempSync(join(tmpdir(), '__name__-build-')), '__name__.mjs');
    const result = await buildProxy({ manifest: join(import.meta.dirname, '../mitmts.json'), outfile: out });
    expect(result.bytes).toBeGreaterThan(0);
    // Copy it to an empty directory: no node_modules anywhere above it.
    const lonely = join(mkdtempSync(join(tmpdir(), '__name__-run-')), '__name__.mjs');
    copyFileSync(out, lonely);
    const child = spawn(process.execPath, [lonely, '--listen-host', '127.0.0.1', '--listen-port', '0', '--confdir', join(lonely, '..', 'conf'), '--set', 'greeting=built'], {
      cwd: join(lonely, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let log = '';
        const onData = (d: Buffer): void => {
          log += d;
          const m = /listening at [^\s]*:(\d+)/.exec(log);
          if (m) resolve(Number(m[1]));
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => reject(new Error(`the build exited with ${code}: ${log}`)));
      });
      const r = await get(port, `${upstreamUrl}/built`);
      expect(r.body).toBe('upstream /built');
      expect(r.headers['x-__name__']).toBe('built');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
