import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { EmbeddedProxy, HTTPFlow } from '@mitmts/sdk';
import { messages, proxyWith } from './support.js';

// A real WebSocket conversation through a proxy running the script as `mitmts -s` does: a `ws`
// client talks to a `ws` server on loopback, the script rewrites and drops messages on the way.
let server: WebSocketServer;
let proxy: EmbeddedProxy;
const seen: string[] = [];

beforeAll(async () => {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(server, 'listening');
  server.on('connection', (peer) => peer.on('message', (data) => seen.push(String(data))));
  proxy = await proxyWith('websocket-simple.ts');
});
afterAll(async () => {
  await proxy?.close();
  await new Promise((r) => server.close(r));
});

/** A `ws` client for ws://host/path through the proxy (an absolute-form upgrade request, as browsers send). */
function client(url: string): WebSocket {
  const u = new URL(url);
  return new WebSocket(url, {
    perMessageDeflate: false,
    createConnection: () => net.connect(proxy.port, proxy.host),
    finishRequest: (req) => {
      req.path = `http://${u.host}${u.pathname}`;
      req.end();
    },
  });
}

describe('websocket-simple', () => {
  it('rewrites greetings and drops FOOBAR messages on a live connection', async () => {
    const { port } = server.address() as net.AddressInfo;
    const ws = client(`ws://127.0.0.1:${port}/chat`);
    await once(ws, 'open');
    ws.send('Hello there');
    ws.send('FOOBAR!');
    ws.send('last one');
    await expect.poll(() => seen.length).toBe(2);
    ws.close();
    await once(ws, 'close');
    expect(seen).toEqual(['HAPPY there', 'last one']);
    const flow = proxy.kernel.flows.all().find((f) => (f as HTTPFlow).websocket) as HTTPFlow;
    expect(flow.websocket!.messages.map((m) => [m.text, m.dropped])).toEqual([
      ['HAPPY there', false],
      ['FOOBAR!', true],
      ['last one', false],
    ]);
    expect(messages(proxy, 'info')).toContain('Client sent a message: "Hello there"');
  });
});
