/**
 * The codec against real peers over loopback (through the test-only adapter in endpoint.ts):
 * Python `websockets` and `ws` clients against a codec-built echo server, a codec-built client
 * against a `ws` server, and the relay between a `ws` client and a `ws` server. With and without
 * permessage-deflate; every message must come back byte-identical.
 */
import { execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { Opcode } from '../../src/proxy/websocket/index.js';
import { connectClient, startEchoServer, startRelayProxy } from './endpoint.js';
import { canInstall, installDebianPackages } from '../../../scripts/debian.mjs';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const CLIENT_PY = fileURLToPath(new URL('./fixtures/echo_client.py', import.meta.url));
const N = 1000;

const closers: Array<() => void> = [];
afterEach(() => {
  while (closers.length) closers.pop()!();
});
const track = (s: net.Server | WebSocketServer) => closers.push(() => s.close());

/** Debian's python3-websockets: present, or installed (as the tests on a fresh machine must). */
function pythonWebsockets(): string | null {
  const check = () => existsSync(PYTHON) && execFileOk(PYTHON, ['-c', 'import websockets']);
  if (check()) return null;
  if (!canInstall()) return 'python3-websockets is missing and this process cannot install Debian packages';
  return (
    installDebianPackages(['python3', 'python3-websockets']) ??
    (check() ? null : 'python3-websockets did not import after installing')
  );
}
function execFileOk(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Messages a Node peer sends: text and binary alternately, sizes up to ~3 KB (some compressible). */
function messages(n: number): Array<string | Buffer> {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  return Array.from({ length: n }, (_, i) => {
    if (i % 2 === 0) return `text ${i} ` + 'é€𝄞'.repeat(Math.floor(rnd() * 40)) + 'x'.repeat(Math.floor(rnd() * 2000));
    const b = Buffer.alloc(Math.floor(rnd() * 3000));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
    return b;
  });
}

/** A `ws` client sends every message, waiting for each echo, and checks it. */
async function wsClientEcho(url: string, deflate: boolean): Promise<{ extensions: string }> {
  const ws = new WebSocket(url, { perMessageDeflate: deflate ? { threshold: 0 } : false });
  await once(ws, 'open');
  const msgs = messages(N);
  for (const m of msgs) {
    const got = once(ws, 'message');
    ws.send(m);
    const [data, isBinary] = (await got) as [Buffer, boolean];
    expect(isBinary).toBe(typeof m !== 'string');
    expect(Buffer.compare(data, typeof m === 'string' ? Buffer.from(m) : m)).toBe(0);
  }
  const extensions = ws.extensions;
  ws.close(4000, 'done');
  const [code] = (await once(ws, 'close')) as [number];
  expect(code).toBe(4000);
  return { extensions };
}

describe.each([false, true])('codec interop (permessage-deflate: %s)', (deflate) => {
  it('echo server answers the Python websockets client: 1,000 messages, fragments, ping, close', async (ctx) => {
    const why = pythonWebsockets();
    if (why) {
      ctx.skip(`Python websockets unavailable: ${why}`);
      return;
    }
    const echo = await startEchoServer({ deflate });
    track(echo.server);
    const { stdout } = await run(
      PYTHON,
      [CLIENT_PY, `ws://127.0.0.1:${echo.port}/`, deflate ? 'deflate' : 'plain', String(N)],
      { timeout: 60_000 },
    );
    const result = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(result).toMatchObject({ ok: true, count: N, close_code: 4000 });
    expect(result.extensions ?? '').toContain(deflate ? 'permessage-deflate' : '');
    if (!deflate) expect(result.extensions).toBeNull();
    expect(echo.endpoints[0]!.peerClose).toEqual({ code: 4000, reason: 'done' });
  });

  it('echo server answers the ws client: 1,000 messages', async () => {
    const echo = await startEchoServer({ deflate });
    track(echo.server);
    const { extensions } = await wsClientEcho(`ws://127.0.0.1:${echo.port}/`, deflate);
    expect(extensions).toBe(deflate ? 'permessage-deflate' : '');
  });

  it('codec client talks to a ws server: 1,000 messages echoed', async () => {
    const wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      perMessageDeflate: deflate ? { threshold: 0 } : false,
    });
    track(wss);
    await once(wss, 'listening');
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    const client = await connectClient((wss.address() as net.AddressInfo).port, { deflate });
    expect(client.params !== null).toBe(deflate);
    for (const m of messages(N)) {
      client.send(m);
      const echo = await client.next();
      expect(echo.opcode).toBe(typeof m === 'string' ? Opcode.TEXT : Opcode.BINARY);
      expect(Buffer.compare(echo.content, typeof m === 'string' ? Buffer.from(m) : m)).toBe(0);
    }
    client.close(1000, 'bye');
    await client.closed;
    expect(client.peerClose).toEqual({ code: 1000, reason: 'bye' }); // ws echoes code and reason
  });

  it('relay between a ws client and a ws server: 1,000 messages each way unchanged, recorded, closed', async () => {
    const wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      perMessageDeflate: deflate ? { threshold: 0 } : false,
    });
    track(wss);
    await once(wss, 'listening');
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    const proxy = await startRelayProxy((wss.address() as net.AddressInfo).port);
    track(proxy.server);
    await wsClientEcho(`ws://127.0.0.1:${proxy.port}/`, deflate);
    const [conn] = proxy.connections;
    expect(await conn!.ended).toBe('closed');
    const msgs = messages(N);
    expect(conn!.data.messages).toHaveLength(2 * N);
    conn!.data.messages.forEach((m, i) => {
      const sent = msgs[i >> 1]!;
      expect(m.fromClient).toBe(i % 2 === 0);
      expect(m.type).toBe(typeof sent === 'string' ? Opcode.TEXT : Opcode.BINARY);
      expect(Buffer.compare(m.content, typeof sent === 'string' ? Buffer.from(sent) : sent)).toBe(0);
    });
    expect(conn!.data).toMatchObject({ closedByClient: true, closeCode: 4000, closeReason: 'done' });
  });
});

describe('relay interop: changed messages on a compressed connection', () => {
  it('a hook changing message 10 of 100: the ws server decodes all 100, the changed one as changed', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { threshold: 0 } });
    track(wss);
    await once(wss, 'listening');
    const received: string[] = [];
    const all = new Promise<void>((resolve) =>
      wss.on('connection', (ws) =>
        ws.on('message', (data) => {
          received.push(String(data));
          if (received.length === 100) resolve();
        }),
      ),
    );
    const proxy = await startRelayProxy((wss.address() as net.AddressInfo).port, async (m) => {
      if (m.fromClient && m.text === 'message 10 the same words the same words') {
        await new Promise((r) => setTimeout(r, 5)); // an async hook holds the lane meanwhile
        m.text = 'CHANGED BY HOOK';
      }
    });
    track(proxy.server);
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/`, { perMessageDeflate: { threshold: 0 } });
    await once(ws, 'open');
    expect(ws.extensions).toBe('permessage-deflate');
    for (let i = 1; i <= 100; i++) ws.send(`message ${i} the same words the same words`);
    await all;
    expect(received[9]).toBe('CHANGED BY HOOK');
    expect(received.filter((_, i) => i !== 9)).toEqual(
      Array.from({ length: 100 }, (_, i) => `message ${i + 1} the same words the same words`).filter((_, i) => i !== 9),
    );
    ws.close();
    await once(ws, 'close');
  });
});
