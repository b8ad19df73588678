/**
 * The WebSocket layer on real loopback sockets (no proxy around it): backpressure (a server that
 * does not read pauses the client's socket, so the proxy holds a bounded amount), an async hook
 * pausing its direction only, the close timeout, and `websocket_end` once.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HTTPFlow, Headers, WebSocketData } from '../../src/flow/index.js';
import { tflow } from '../../src/flow/testing.js';
import { HookTable } from '../../src/hooks/dispatcher.js';
import type { HookName } from '../../src/hooks/hookmap.js';
import { Logger, type LogEntry } from '../../src/kernel/log.js';
import type { RuntimeConfig } from '../../src/proxy/config.js';
import { acceptKey } from '../../src/proxy/websocket/handshake.js';
import { type LiveWebSockets, relayWebSocket, type WebSocketContext } from '../../src/proxy/websocket/layer.js';
import { PeerEncoder } from './peers.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const sockets: net.Socket[] = [];
afterEach(() => {
  while (sockets.length) sockets.pop()!.destroy();
});

/** Two connected loopback sockets. */
async function pair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const a = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [b] = await accepted;
  await once(a, 'connect');
  server.close();
  sockets.push(a, b);
  return [a, b];
}

function handshakeFlow(): HTTPFlow {
  const f = tflow({ resp: true });
  f.request.headers = new Headers([
    ['upgrade', 'websocket'],
    ['connection', 'Upgrade'],
    ['sec-websocket-key', KEY],
    ['sec-websocket-version', '13'],
  ]);
  f.response!.statusCode = 101;
  f.response!.headers = new Headers([
    ['upgrade', 'websocket'],
    ['connection', 'Upgrade'],
    ['sec-websocket-accept', acceptKey(KEY)],
  ]);
  f.websocket = new WebSocketData();
  f.live = true;
  return f;
}

type Handler = (flow: HTTPFlow) => void | Promise<void>;

function context(
  hooks: Partial<Record<HookName, Handler>>,
  logs: LogEntry[] = [],
  closeTimeoutMs?: number,
): WebSocketContext & { webSockets: LiveWebSockets } {
  const map = new Map(
    Object.entries(hooks).map(([name, fn]) => [
      name as HookName,
      [{ addon: 'test', fn: fn as (...a: unknown[]) => unknown, self: {}, id: 0 }],
    ]),
  );
  const log = new Logger();
  log.onEntry((e) => logs.push(e));
  return {
    hooks: new HookTable(
      map,
      () => undefined,
      () => undefined,
    ),
    log,
    config: { websocketMaxMessageSize: 16 * 1024 * 1024, websocketRetention: null } as RuntimeConfig,
    webSockets: new Map(),
    describe: () => 'client',
    ...(closeTimeoutMs !== undefined ? { closeTimeoutMs } : {}),
  };
}

/** client peer <-> [proxy client side | layer | proxy server side] <-> server peer */
async function rig(hooks: Partial<Record<HookName, Handler>>, logs: LogEntry[] = [], closeTimeoutMs?: number) {
  const [clientPeer, proxyClient] = await pair();
  const [proxyServer, serverPeer] = await pair();
  const flow = handshakeFlow();
  const ctx = context(hooks, logs, closeTimeoutMs);
  const done = relayWebSocket(
    ctx,
    flow,
    { stream: proxyClient, rest: Buffer.alloc(0) },
    { stream: proxyServer, rest: Buffer.alloc(0) },
  );
  return { clientPeer, proxyClient, proxyServer, serverPeer, flow, ctx, done };
}

describe('WebSocket layer', () => {
  it('a server that does not read pauses the client socket: the proxy holds about one message, then all arrive', async () => {
    const MB = 1024 * 1024;
    let firstMessage!: () => void;
    const first = new Promise<void>((r) => (firstMessage = r));
    let allRead!: (v: string) => void;
    const everything = new Promise<string>((r) => (allRead = r));
    const r = await rig({
      websocket_message: (f) => {
        firstMessage();
        if (f.websocket!.messages.length === 40) allRead('the proxy read every message without waiting for the server');
      },
    });
    r.serverPeer.pause();
    const enc = new PeerEncoder(true);
    const frames = Array.from({ length: 40 }, (_, i) => enc.message(Buffer.alloc(MB, i), { binary: true }));
    for (const f of frames) r.clientPeer.write(f);
    await first;
    expect(await Promise.race([once(r.proxyClient, 'pause').then(() => 'paused'), everything])).toBe('paused');
    const recorded = r.flow.websocket!.messages.length;
    expect(recorded).toBeLessThan(40);
    // What the proxy holds: the server socket's queue (about one message) and the message in assembly.
    expect(r.proxyServer.writableLength).toBeLessThanOrEqual(2 * MB);
    const total = frames.reduce((n, f) => n + f.length, 0);
    let got = 0;
    const all = new Promise<void>((resolve) =>
      r.serverPeer.on('data', (d: Buffer) => {
        got += d.length;
        if (got === total) resolve();
      }),
    );
    r.serverPeer.resume();
    await all;
    expect(r.flow.websocket!.messages).toHaveLength(40);
    expect(r.flow.websocket!.messages.every((m, i) => m.content.length === MB && m.content[0] === i)).toBe(true);
  });

  it('an async hook pauses its own direction only', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let holding!: () => void;
    const isHolding = new Promise<void>((r) => (holding = r));
    const r = await rig({
      websocket_message: (f) => {
        const m = f.websocket!.messages.at(-1)!;
        if (m.fromClient && m.text === 'hold') {
          holding();
          return held;
        }
      },
    });
    const client = new PeerEncoder(true);
    const server = new PeerEncoder(false);
    r.clientPeer.write(Buffer.concat([client.message('hold'), client.message('after')]));
    await isHolding;
    expect(r.proxyClient.isPaused()).toBe(true);
    // The other direction still flows.
    r.serverPeer.write(server.message('from the server'));
    const [toClient] = (await once(r.clientPeer, 'data')) as [Buffer];
    expect(toClient.subarray(2).toString()).toBe('from the server');
    release();
    let got = Buffer.alloc(0);
    const both = client.message('hold').length + client.message('after').length;
    while (got.length < both) got = Buffer.concat([got, ((await once(r.serverPeer, 'data')) as [Buffer])[0]]);
    expect(r.flow.websocket!.messages.map((m) => m.text)).toEqual(['hold', 'from the server', 'after']);
    expect(r.proxyClient.isPaused()).toBe(false);
  });

  it('a close frame nobody answers: both connections close after the close timeout, websocket_end once', async () => {
    const logs: LogEntry[] = [];
    const ends: string[] = [];
    const r = await rig(
      { websocket_end: (f) => void ends.push(`${f.websocket!.closeCode} ${f.websocket!.closedByClient}`) },
      logs,
      50,
    );
    r.clientPeer.write(new PeerEncoder(true).control(8, Buffer.from([0x0f, 0xa0])));
    await Promise.all([once(r.serverPeer, 'data'), r.done]);
    await once(r.clientPeer, 'close');
    expect(ends).toEqual(['4000 true']);
    expect(r.flow.live).toBe(false);
    expect(r.ctx.webSockets.size).toBe(0);
    expect(logs.some((e) => /no answer to the WebSocket close frame within 0.05 s/.test(e.message))).toBe(true);
  });

  it('websocket_end waits for websocket_start, even when a peer leaves during it', async () => {
    const order: string[] = [];
    let startDone!: () => void;
    const r = await rig({
      websocket_start: () => {
        order.push('start');
        return new Promise<void>((resolve) => (startDone = resolve));
      },
      websocket_end: (f) => void order.push(`end ${f.websocket!.closeCode}`),
    });
    r.serverPeer.destroy();
    await once(r.proxyServer, 'close');
    startDone();
    await r.done;
    expect(order).toEqual(['start', 'end 1006']);
  });
});
