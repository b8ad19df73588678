// What addons and the proxy do to a WebSocket connection, with real `ws` peers through the
// running proxy: a hook changing a message on a compressed connection, injected messages, kills,
// close codes from either side, the 16 MiB limit (close 1009), connections lost without a close
// frame (websocket_end exactly once), retention of flow.websocket.messages, `websocket` off.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createProxy, OptionsError, type EmbeddedProxy, type HTTPFlow, type TCPFlow } from '@mitmts/sdk';
import { echo, HookLog, wsClient, wsServer, type WsServer } from '../helpers/websocket.js';

/** Changes, drops or kills messages by their text; the async variant holds its direction meanwhile. */
class Editor {
  readonly name = 'editor';
  async websocket_message(f: HTTPFlow): Promise<void> {
    const m = f.websocket!.messages.at(-1)!;
    if (!m.isText) return;
    if (m.text.startsWith('message 10 ')) m.text = 'CHANGED BY HOOK';
    else if (m.text.startsWith('message 20 ')) {
      await new Promise((r) => setImmediate(r));
      m.text = `${m.text.toUpperCase()} (after an await)`;
    } else if (m.text === 'drop me') m.drop();
    else if (m.text === 'kill me') f.kill();
  }
}

let proxy: EmbeddedProxy;
let log: HookLog;
let ca: string;
const servers: WsServer[] = [];
async function server(o: Parameters<typeof wsServer>[0] = {}): Promise<WsServer> {
  const s = await wsServer(o);
  servers.push(s);
  return s;
}
const through = () => ({ port: proxy.port, ca });

beforeAll(async () => {
  log = new HookLog();
  proxy = await createProxy({ addons: [log, new Editor()] });
  ca = readFileSync(proxy.caCertPath, 'latin1');
});
afterAll(async () => {
  await proxy?.close();
});
afterEach(async () => {
  log.events.length = 0;
  while (servers.length) await servers.pop()!.close();
  proxy.kernel.options.update({ websocket: true, websocket_messages_keep: 0, rawtcp: true });
});

/** Collect `n` messages a `ws` peer receives, as strings. */
function collect(ws: WebSocket, n: number): Promise<string[]> {
  const got: string[] = [];
  return new Promise((resolve) =>
    ws.on('message', (d) => {
      got.push(String(d));
      if (got.length === n) resolve(got);
    }),
  );
}

describe('hooks change messages', () => {
  it('a hook edits message 10 of 100 (and an async one message 20) on a compressed connection: the server decodes all 100', async () => {
    const up = await server({ deflate: true });
    const received = new Promise<string[]>((resolve) =>
      up.wss.on('connection', (peer) => void collect(peer, 100).then(resolve)),
    );
    const ended = log.nextEnd('/edit');
    const ws = wsClient(through(), `${up.url}/edit`, { deflate: true });
    await once(ws, 'open');
    expect(ws.extensions).toBe('permessage-deflate');
    const words = (i: number) => `message ${i} the same words the same words the same words`;
    for (let i = 1; i <= 100; i++) ws.send(words(i));
    const got = await received;
    expect(got[9]).toBe('CHANGED BY HOOK');
    expect(got[19]).toBe(`${words(20).toUpperCase()} (after an await)`);
    expect(got.filter((_, i) => i !== 9 && i !== 19)).toEqual(
      Array.from({ length: 100 }, (_, i) => words(i + 1)).filter((_, i) => i !== 9 && i !== 19),
    );
    ws.close();
    const f = await ended;
    expect(f.websocket!.messages[9]!.text).toBe('CHANGED BY HOOK');
    expect(f.websocket!.messages).toHaveLength(100);
  });

  it('a dropped message never reaches the server; the next one does', async () => {
    const up = await server({ deflate: true });
    const received = new Promise<string[]>((resolve) =>
      up.wss.on('connection', (peer) => void collect(peer, 1).then(resolve)),
    );
    const ended = log.nextEnd('/drop');
    const ws = wsClient(through(), `${up.url}/drop`, { deflate: true });
    await once(ws, 'open');
    ws.send('drop me');
    ws.send('after the dropped one');
    expect(await received).toEqual(['after the dropped one']);
    ws.close();
    const f = await ended;
    expect(f.websocket!.messages.map((m) => [m.text, m.dropped])).toEqual([
      ['drop me', true],
      ['after the dropped one', false],
    ]);
  });

  it('a hook that kills the flow closes both peers with 1001; websocket_end fires once', async () => {
    const up = await server();
    const serverClose = new Promise<number>((resolve) =>
      up.wss.on('connection', (peer) => peer.on('close', (code) => resolve(code))),
    );
    const ended = log.nextEnd('/kill');
    const ws = wsClient(through(), `${up.url}/kill`);
    await once(ws, 'open');
    ws.send('kill me');
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).toBe(1001);
    expect(await serverClose).toBe(1001);
    const f = await ended;
    expect(f.error?.msg).toBe('Connection killed.');
    expect(f.websocket).toMatchObject({ closeCode: 1001 });
    expect(log.count('end')).toBe(1);
  });

  it('a flow killed from outside (flow.kill(), as the flow.kill command does) closes at its next message', async () => {
    const up = await server();
    let serverGot = 0;
    const serverClose = new Promise<number>((resolve) =>
      up.wss.on('connection', (peer) => {
        peer.on('message', () => serverGot++);
        peer.on('close', (code) => resolve(code));
      }),
    );
    const ended = log.nextEnd('/kill-outside');
    const ws = wsClient(through(), `${up.url}/kill-outside`);
    await once(ws, 'open');
    const flow = proxy.flows
      .all()
      .find((f) => f.type === 'http' && (f as HTTPFlow).request.path === '/kill-outside') as HTTPFlow;
    flow.kill();
    ws.send('after the kill');
    expect(((await once(ws, 'close')) as [number])[0]).toBe(1001);
    expect(await serverClose).toBe(1001);
    expect(serverGot).toBe(0);
    expect((await ended).websocket!.closeCode).toBe(1001);
  });
});

describe('inject.websocket', () => {
  it('sends text to the client and binary to the server (echoed back); both recorded as injected', async () => {
    const up = await server({ deflate: true });
    echo(up);
    const ended = log.nextEnd('/inject');
    const ws = wsClient(through(), `${up.url}/inject`, { deflate: true });
    await once(ws, 'open');
    const flow = proxy.flows
      .all()
      .find(
        (f) => f.type === 'http' && (f as HTTPFlow).request.path === '/inject' && (f as HTTPFlow).websocket,
      ) as HTTPFlow;
    const got = new Promise<Array<[string, boolean]>>((resolve) => {
      const out: Array<[string, boolean]> = [];
      ws.on('message', (d: Buffer, binary) => {
        out.push([binary ? d.toString('hex') : String(d), binary]);
        if (out.length === 2) resolve(out);
      });
    });
    await proxy.command('inject.websocket', flow, true, Buffer.from('hello client, from the proxy'), true);
    await proxy.command('inject.websocket', flow, false, Buffer.from([1, 2, 3]), false);
    expect(await got).toEqual([
      ['hello client, from the proxy', false],
      ['010203', true],
    ]);
    ws.close(1000);
    const f = await ended;
    const injected = f.websocket!.messages.filter((m) => m.injected);
    expect(injected.map((m) => [m.fromClient, m.type, m.content.toString('hex')])).toEqual([
      [false, 1, Buffer.from('hello client, from the proxy').toString('hex')],
      [true, 2, '010203'],
    ]);
    expect(log.count('message')).toBe(3); // both injected ones and the echo passed the hook
  });

  it('with string arguments (the flow named by a filter, as on a command line); a closed flow gets a warning', async () => {
    const up = await server();
    echo(up);
    const ws = wsClient(through(), `${up.url}/by-filter`);
    await once(ws, 'open');
    const got = once(ws, 'message');
    await proxy.command('inject.websocket', '~websocket & ~u /by-filter', 'true', 'hi there');
    expect(String(((await got) as [Buffer])[0])).toBe('hi there');
    const ended = log.nextEnd('/by-filter');
    ws.close();
    const f = await ended;
    const before = proxy.logs.length;
    await proxy.command('inject.websocket', f, true, Buffer.from('too late'));
    expect(proxy.logs.slice(before).map((e) => `${e.level} ${e.message}`)).toEqual([
      'warn Flow is not from a live WebSocket connection.',
    ]);
  });
});

describe('closing', () => {
  it("server-initiated close: code and reason reach the client and are recorded as the server's", async () => {
    const up = await server();
    up.wss.on('connection', (peer) => peer.on('message', () => peer.close(4001, 'server says bye')));
    const ended = log.nextEnd('/server-close');
    const ws = wsClient(through(), `${up.url}/server-close`);
    await once(ws, 'open');
    ws.send('bye?');
    const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
    expect([code, String(reason)]).toEqual([4001, 'server says bye']);
    const f = await ended;
    expect(f.websocket).toMatchObject({ closedByClient: false, closeCode: 4001, closeReason: 'server says bye' });
  });

  it('a 32 MiB message against the 16 MiB default limit: close 1009 to both peers, nothing forwarded', async () => {
    const up = await server();
    let serverGotMessage = false;
    const serverClose = new Promise<number>((resolve) =>
      up.wss.on('connection', (peer) => {
        peer.on('message', () => (serverGotMessage = true));
        peer.on('close', (code) => resolve(code));
      }),
    );
    const ended = log.nextEnd('/big');
    const ws = wsClient(through(), `${up.url}/big`);
    await once(ws, 'open');
    ws.send(Buffer.alloc(32 * 1024 * 1024, 7));
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).toBe(1009);
    expect(await serverClose).toBe(1009);
    expect(serverGotMessage).toBe(false);
    const f = await ended;
    expect(f.websocket).toMatchObject({ closedByClient: true, closeCode: 1009, closeReason: 'message too big' });
    expect(f.websocket!.messages).toHaveLength(0);
    expect(
      proxy.logs.some(
        (e) =>
          e.level === 'info' &&
          /WebSocket protocol error from the client .*exceeds the limit of 16777216 bytes/.test(e.message),
      ),
    ).toBe(true);
  });

  it.each(['server', 'client'] as const)(
    "the %s's TCP connection lost without a close frame: the other peer sees 1006, websocket_end fires exactly once",
    async (lost) => {
      const up = await server();
      const serverClose = new Promise<number>((resolve) =>
        up.wss.on('connection', (peer) => {
          peer.on('message', () => peer.send('pong'));
          peer.on(
            'message',
            () => lost === 'server' && (peer as unknown as { _socket: { destroy(): void } })._socket.destroy(),
          );
          peer.on('close', (code) => resolve(code));
        }),
      );
      const ended = log.nextEnd('/lost');
      const gone = log.nextDisconnect();
      const ws = wsClient(through(), `${up.url}/lost`);
      await once(ws, 'open');
      ws.send('ping?');
      if (lost === 'client') {
        await once(ws, 'message');
        ws.terminate();
      }
      const f = await ended;
      expect(f.websocket).toMatchObject({ closedByClient: lost === 'client', closeCode: 1006 });
      expect(f.error).toBeNull(); // as mitmproxy 8.1.1: the close code says it, the flow has no error
      if (lost === 'server') expect(((await once(ws, 'close')) as [number])[0]).toBe(1006);
      else expect(await serverClose).toBe(1006);
      await gone;
      expect(log.count('end')).toBe(1);
    },
  );
});

describe('options', () => {
  it('websocket_messages_keep bounds flow.websocket.messages; every message still passes', async () => {
    proxy.kernel.options.update({ websocket_messages_keep: 10 });
    const up = await server();
    echo(up);
    const ended = log.nextEnd('/keep');
    const ws = wsClient(through(), `${up.url}/keep`);
    await once(ws, 'open');
    const echoes = collect(ws, 200);
    for (let i = 0; i < 200; i++) ws.send(`m${i}`);
    expect((await echoes).at(-1)).toBe('m199');
    ws.close();
    const f = await ended;
    const kept = f.websocket!.messages;
    expect(kept.length).toBeGreaterThanOrEqual(10);
    expect(kept.length).toBeLessThanOrEqual(10 + 64);
    expect(kept.at(-1)!.text).toBe('m199');
    expect(f.websocket!.omittedMessages).toBe(400 - kept.length);
    expect(log.count('message')).toBe(400);
    expect(f.getState().metadata).toMatchObject({ websocket_omitted: { messages: 400 - kept.length } });
  });

  it('websocket off: the upgraded connection is a TCP flow (tcp_* hooks), no websocket hooks', async () => {
    proxy.kernel.options.update({ websocket: false });
    const up = await server();
    echo(up);
    const before = proxy.flows.all().length;
    const ws = wsClient(through(), `${up.url}/raw`);
    await once(ws, 'open');
    ws.send('as bytes');
    expect(String(((await once(ws, 'message')) as [Buffer])[0])).toBe('as bytes');
    const gone = log.nextDisconnect();
    ws.close();
    await gone;
    const flows = proxy.flows.all().slice(before);
    const http = flows.find((f) => f.type === 'http') as HTTPFlow;
    expect(http.response!.statusCode).toBe(101);
    expect(http.websocket).toBeNull();
    const tcp = flows.find((f) => f.type === 'tcp') as TCPFlow;
    expect(tcp.messages.length).toBeGreaterThanOrEqual(2);
    expect(log.events.filter((e) => !e.startsWith('response'))).toEqual([]);
  });

  it('websocket and rawtcp off: the 101 is sent, then the connection closes with a warning', async () => {
    proxy.kernel.options.update({ websocket: false, rawtcp: false });
    const up = await server();
    const ws = wsClient(through(), `${up.url}/`);
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).toBe(1006);
    expect(proxy.logs.some((e) => e.level === 'warn' && /no protocol is enabled to upgrade to/.test(e.message))).toBe(
      true,
    );
  });

  it('bad values are refused with the option named', () => {
    expect(() => proxy.kernel.options.update({ websocket_max_message_size: 'lots' })).toThrow(OptionsError);
    expect(() => proxy.kernel.options.update({ websocket_max_message_size: 'lots' })).toThrow(
      /websocket_max_message_size/,
    );
    expect(() => proxy.kernel.options.update({ websocket_max_message_size: '0' })).toThrow(/at least 1 byte/);
    expect(() => proxy.kernel.options.update({ websocket_messages_keep: -1 })).toThrow(/websocket_messages_keep/);
    expect(() => proxy.kernel.options.update({ websocket_messages_keep_size: '1x' })).toThrow(
      /websocket_messages_keep_size/,
    );
  });
});
