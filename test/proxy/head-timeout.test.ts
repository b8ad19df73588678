/**
 * request_head_timeout (issue 16, slowloris): a client whose request head does not complete in
 * time gets a 408 and is closed; a connection that never sends its first request is closed; an
 * idle keep-alive connection between requests is left to tcp_timeout; other clients are served
 * meanwhile; a client that sends its ClientHello and then stalls is closed too. Raw sockets for
 * the slow clients, curl for the normal one.
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy, type TlsData } from '@mitmts/sdk';
import { curl, httpServer, type Upstream } from '../helpers/servers.js';

let proxy: EmbeddedProxy;
let origin: Upstream;
const tlsFailures: string[] = [];

beforeAll(async () => {
  origin = await httpServer((_req, res) => res.end('ok'));
  const failures = {
    name: 'tlsfailures',
    tls_failed_client: (d: TlsData) => void tlsFailures.push(d.conn.error ?? ''),
  };
  proxy = await createProxy({ options: { request_head_timeout: 1 }, addons: [failures] });
});

afterAll(async () => {
  await proxy?.close();
  await origin?.close();
});

/** A raw client: what it received, and a promise of its close. */
function client(): { socket: net.Socket; received: () => string; closed: Promise<void> } {
  const socket = net.connect(proxy.port, proxy.host);
  let data = '';
  socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  return { socket, received: () => data, closed };
}

it('a head that trickles in gets 408 and the connection is closed; others are served meanwhile', async () => {
  const slow = client();
  slow.socket.write(`GET ${origin.url}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
  // One header byte at a time, as slowloris does: each byte resets a plain idle timeout.
  const drip = setInterval(() => slow.socket.writable && slow.socket.write('X'), 100);
  const normal = await curl(['-x', proxy.url, `${origin.url}/`]);
  expect(normal.stdout).toBe('ok');
  await slow.closed;
  clearInterval(drip);
  expect(slow.received()).toMatch(/^HTTP\/1\.1 408 Request Time-?out\r\n/);
  expect(slow.received()).toContain('request_head_timeout');
});

it('a connection that never sends a request is closed without an answer; an idle keep-alive connection stays', async () => {
  // A keep-alive connection with one request done, then silent.
  const kept = client();
  kept.socket.write(`GET ${origin.url}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  await new Promise<void>((r) => {
    const check = (): void => void (kept.received().endsWith('ok') ? r() : kept.socket.once('data', check));
    check();
  });
  const silent = client();
  await silent.closed;
  expect(silent.received()).toBe('');
  // The silent one was opened after the keep-alive connection went idle, and timed out: the
  // idle one has been idle longer than the timeout and still serves its next request.
  kept.socket.write(`GET ${origin.url}/again HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  await new Promise<void>((r) => {
    const check = (): void => void (/ok[\s\S]*ok$/.test(kept.received()) ? r() : kept.socket.once('data', check));
    check();
  });
  kept.socket.destroy();
});

/** A real ClientHello (Node's), taken from a server that never answers it. */
async function clientHello(): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const hello = new Promise<Buffer>((r) =>
    server.once('connection', (s) => s.once('data', (d: Buffer) => (r(d), s.destroy()))),
  );
  const c = tls.connect({
    port: (server.address() as net.AddressInfo).port,
    host: '127.0.0.1',
    servername: 'localhost',
  });
  c.on('error', () => undefined);
  try {
    return await hello;
  } finally {
    c.destroy();
    server.close();
  }
}

it('a client that sends its ClientHello into a CONNECT tunnel and stalls is closed after request_head_timeout', async () => {
  const hello = await clientHello();
  const stalled = client();
  stalled.socket.write(`CONNECT localhost:${origin.port} HTTP/1.1\r\nHost: localhost:${origin.port}\r\n\r\n`);
  await new Promise<void>((r) => {
    const check = (): void => void (stalled.received().includes('\r\n\r\n') ? r() : stalled.socket.once('data', check));
    check();
  });
  expect(stalled.received()).toMatch(/^HTTP\/1\.1 200 /);
  stalled.socket.write(hello);
  // Never answers the ServerHello: only the handshake deadline ends this (tcp_timeout is 600 s).
  await stalled.closed;
  expect(tlsFailures).toContain(
    'Client TLS handshake failed: the TLS handshake did not complete within 1 s (request_head_timeout)',
  );
});
