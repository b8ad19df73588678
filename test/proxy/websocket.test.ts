// WebSocket through the running proxy with real peers: `ws` and Python `websockets` clients,
// `ws` servers; wss:// through CONNECT (our CA trusted) and ws:// as an absolute-form upgrade;
// with and without permessage-deflate. Messages pass byte-identical and are recorded on the
// handshake flow; hooks, injection, close codes, limits and lost connections as mitmproxy.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import {
  bytesOf,
  echo,
  echoRoundTrips,
  HookLog,
  pythonClient,
  pythonWebsockets,
  testMessages,
  wsClient,
  wsServer,
  type WsServer,
} from '../helpers/websocket.js';

const N = 1000;

let proxy: EmbeddedProxy;
let log: HookLog;
let ca: string;
const servers: WsServer[] = [];
const server = async (o: Parameters<typeof wsServer>[0]): Promise<WsServer> => {
  const s = await wsServer(o);
  servers.push(s);
  return s;
};

beforeAll(async () => {
  log = new HookLog();
  const up = await wsServer({ tls: true });
  servers.push(up);
  proxy = await createProxy({ addons: [log], options: { ssl_verify_upstream_trusted_ca: up.caCertPath } });
  ca = readFileSync(proxy.caCertPath, 'latin1');
});
afterAll(async () => {
  await proxy?.close();
});
afterEach(async () => {
  log.events.length = 0;
  while (servers.length > 1) await servers.pop()!.close();
});

const through = () => ({ port: proxy.port, ca });

/** Every client message and its echo are on the flow, byte for byte, each direction in order. */
function expectEchoed(f: HTTPFlow, sent: Array<string | Buffer> | null, n: number): void {
  const msgs = f.websocket!.messages;
  expect(msgs).toHaveLength(2 * n);
  const fromClient = msgs.filter((m) => m.fromClient);
  const fromServer = msgs.filter((m) => !m.fromClient);
  expect(fromClient).toHaveLength(n);
  for (let i = 0; i < n; i++) {
    const [c, s] = [fromClient[i]!, fromServer[i]!];
    expect(s.type).toBe(c.type);
    expect(s.content.equals(c.content)).toBe(true);
    if (sent) {
      expect(c.type).toBe(typeof sent[i] === 'string' ? 1 : 2);
      expect(c.content.equals(bytesOf(sent[i]!))).toBe(true);
    }
  }
}

describe.each([false, true])('WebSocket through the proxy, permessage-deflate %s', (deflate) => {
  describe.each(['wss', 'ws'] as const)('%s://', (scheme) => {
    it(`ws client: ${N} text and binary messages each way, byte-identical, recorded; hooks in order`, async () => {
      const up = await server({ tls: scheme === 'wss', deflate });
      echo(up);
      const ended = log.nextEnd('/echo?x=1');
      const ws = wsClient(through(), `${up.url}/echo?x=1`, { deflate });
      await once(ws, 'open');
      expect(ws.extensions).toBe(deflate ? 'permessage-deflate' : '');
      const msgs = testMessages(N);
      await echoRoundTrips(ws, msgs);
      const f = await ended;
      expect(f.request.path).toBe('/echo?x=1');
      expect(f.request.scheme).toBe(scheme === 'wss' ? 'https' : 'http');
      expect(f.response!.statusCode).toBe(101);
      expectEchoed(f, msgs, N);
      expect(f.websocket).toMatchObject({ closedByClient: true, closeCode: 4000, closeReason: 'done' });
      expect(f.websocket!.timestampEnd).toBeGreaterThanOrEqual(f.response!.timestampEnd!);
      expect(f.error).toBeNull();
      expect(log.events[0]).toBe('response websocket=true');
      expect(log.events[1]).toBe('start true');
      expect(log.events.slice(2, -1).every((e) => e === 'message')).toBe(true);
      expect(log.events.length).toBe(2 * N + 3);
      expect(log.events.at(-1)).toBe('end 4000 live=true');
      expect(f.live).toBe(false);
    }, 60_000);

    it(`Python websockets client: ${N} messages each way (some fragmented), a ping, close 4000`, async (ctx) => {
      const why = pythonWebsockets();
      if (why) return ctx.skip(`Python websockets unavailable: ${why}`);
      const up = await server({ tls: scheme === 'wss', deflate });
      echo(up);
      const ended = log.nextEnd('/py');
      const r = await pythonClient(proxy.port, `${up.url}/py`, deflate, N, proxy.caCertPath);
      expect(r).toMatchObject({ ok: true, count: N, close_code: 4000 });
      expect(r.extensions ?? null).toBe(deflate ? 'permessage-deflate' : null);
      const f = await ended;
      expectEchoed(f, null, N);
      expect(f.websocket).toMatchObject({ closedByClient: true, closeCode: 4000, closeReason: 'done' });
    }, 120_000);
  });
});
