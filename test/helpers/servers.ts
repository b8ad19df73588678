import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertStore } from '@mitmts/sdk';

export interface Upstream {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** A local HTTP server on 127.0.0.1 with a request handler. */
export async function httpServer(handler: http.RequestListener): Promise<Upstream & { server: http.Server }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return { server, port, url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

/** An "upstream CA" (separate from the proxy's CA) that signs the test HTTPS servers' certificates. */
export interface TestCa {
  readonly dir: string;
  readonly caCertPath: string;
  readonly store: CertStore;
  /** Key and certificate (PEM) for these names. */
  issue(...names: string[]): { key: string; cert: string };
}

let sharedCa: Promise<TestCa> | undefined;
export function testCa(): Promise<TestCa> {
  sharedCa ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mitmts-upstream-ca-'));
    const store = await CertStore.fromConfdir(dir, { basename: 'upstream' });
    return {
      dir,
      store,
      caCertPath: join(dir, 'upstream-ca-cert.pem'),
      issue: (...names: string[]) => {
        const e = store.getCert(names[0] ?? null, names);
        return { key: e.keyPem, cert: e.certPem };
      },
    };
  })();
  return sharedCa;
}

/** A local HTTPS server whose certificate (for localhost and 127.0.0.1) the test CA signed. */
export async function httpsServer(
  handler: http.RequestListener,
  names: string[] = ['localhost', '127.0.0.1'],
): Promise<Upstream & { server: https.Server; ca: TestCa }> {
  const ca = await testCa();
  const server = https.createServer(ca.issue(...names), handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return { server, ca, port, url: `https://localhost:${port}`, close: () => closeServer(server) };
}

/** A raw TCP server: full control over what goes on the wire. */
export async function tcpServer(
  onConnection: (socket: net.Socket) => void,
): Promise<Upstream & { server: net.Server }> {
  const server = net.createServer(onConnection);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return { server, port, url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

function closeServer(server: net.Server): Promise<void> {
  (server as http.Server).closeAllConnections?.();
  return new Promise((r) => server.close(() => r()));
}

export interface CurlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** `-w` output if requested. */
}

/** Run curl with arguments; never throws on a non-zero exit (the test asserts on `code`). */
export function curl(args: string[], timeoutMs = 15_000): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-sS', '--max-time', String(timeoutMs / 1000), ...args],
      { maxBuffer: 64 * 1024 * 1024, encoding: 'latin1' },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Write a file in a fresh temp dir; returns its path. */
export function tempFile(name: string, content: string | Buffer): string {
  const p = join(mkdtempSync(join(tmpdir(), 'mitmts-t-')), name);
  writeFileSync(p, content);
  return p;
}

/** Send raw bytes to host:port and collect everything until the peer closes (or timeout). */
export function rawExchange(
  port: number,
  data: Buffer | string,
  timeoutMs = 5000,
): Promise<{ response: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let response = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ response, closed: false });
    }, timeoutMs);
    s.on('data', (d: Buffer) => (response += d.toString('latin1')));
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ response, closed: true });
    });
    s.on('error', () => undefined);
    s.write(data);
  });
}
