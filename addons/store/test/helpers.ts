// Real peers for the store's end-to-end tests: an origin server, a keep-alive client through
// the proxy, and mitmts itself as a child process.
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '../../../bin/mitmts.js');

/**
 * An origin on 127.0.0.1: `/status/N` answers N, `/bytes/N` N bytes (varying with `?i=`),
 * `/api/users/N` a JSON record with a token in it, anything else "ok".
 */
export async function origin(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const status = /^\/status\/(\d+)/.exec(url.pathname);
    const bytes = /^\/bytes\/(\d+)/.exec(url.pathname);
    const user = /^\/api\/users\/(\d+)/.exec(url.pathname);
    if (user) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: Number(user[1]), name: `user ${user[1]}`, token: 'tok-0123456789abcdef' }));
      return;
    }
    if (bytes) {
      const n = Number(bytes[1]);
      const seed = Number(url.searchParams.get('i') ?? 0);
      const body = Buffer.alloc(n);
      for (let i = 0; i < n; i += 4)
        body.writeUInt32LE(((i + 1) * 2654435761 + seed * 40503) >>> 0, Math.min(i, n - 4));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
      res.end(body);
      return;
    }
    res.writeHead(status ? Number(status[1]) : 200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** GET an absolute URL through a proxy; resolves with the status once the body is read. */
export function get(
  proxyPort: number,
  url: string,
  agent?: http.Agent,
  headers: http.OutgoingHttpHeaders = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: proxyPort,
        path: url,
        agent: agent ?? false,
        headers: { host: new URL(url).host, ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** `mitmts ARGS` as a child process, resolved once it listens (its port parsed from the log). */
export async function mitmts(args: string[]): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, [BIN, '-p', '0', '--listen-host', '127.0.0.1', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const check = (): void => {
      const m = /listening at 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => reject(new Error(`mitmts exited with ${code} before listening:\n${out}`)));
  });
  return { child, port, output: () => out };
}

/** Run `mitmts ARGS` to the end. */
export function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
