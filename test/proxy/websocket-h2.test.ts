// WebSocket over HTTP/2 (RFC 8441 extended CONNECT) through the proxy with real peers: a
// node:http2 client doing the extended CONNECT itself (with `ws` framing on the stream), to a
// node:http2 origin that announces SETTINGS_ENABLE_CONNECT_PROTOCOL (the WebSocket stays on
// HTTP/2 upstream) and to an HTTP/1.1-only `ws` server (the proxy translates to an Upgrade
// request); headless Chromium opening wss:// on its HTTP/2 connection to the origin (through the
// proxy, which announced extended CONNECT); messages edited by an addon; the flow's .mitm round trip.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WS from 'ws';
import { addon, createProxy, FlowReader, FlowWriter, hook, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { ensureChromium, launchChromium } from '../helpers/browser.js';
import { h2Origin, h2Through } from '../helpers/h2.js';
import { testCa } from '../helpers/servers.js';
import { bytesOf, testMessages, wsServer, type WsServer } from '../helpers/websocket.js';

const requireHere = createRequire(import.meta.url);
const wsLib = (file: string): unknown => requireHere(join(dirname(requireHere.resolve('ws')), 'lib', file));
/** `ws`'s own permessage-deflate (RFC 7692) and extension-header parser, for a stream `ws` did not open. */
const PerMessageDeflate = wsLib('permessage-deflate.js') as new (o: object) => {
  accept(configurations: object[]): object;
};
/** The answer a `ws` server gives to a permessage-deflate offer (its parameters, as a header value). */
function deflateAnswer(offer: string): string {
  const pmd = new PerMessageDeflate({ isServer: true, threshold: 0 });
  return extensionHeader.format({ 'permessage-deflate': pmd.accept(parseExtensions(offer)['permessage-deflate']!) });
}
const extensionHeader = wsLib('extension.js') as {
  parse(h: string): Record<string, object[]>;
  format(e: Record<string, object>): string;
};
const parseExtensions = extensionHeader.parse;

/**
 * `ws` framing on a stream that is already a WebSocket (an extended CONNECT's stream); `client`
 * masks. `deflate`: the `sec-websocket-extensions` answer the client got (permessage-deflate on).
 */
function wsOn(stream: Duplex, client: boolean, deflate?: string): WS {
  const ws = new WS(null as unknown as string, undefined, { autoPong: true });
  (ws as unknown as { _isServer: boolean })._isServer = !client;
  if (deflate !== undefined) {
    const pmd = new PerMessageDeflate({ isServer: !client, maxPayload: 64 * 1024 * 1024, threshold: 0 });
    pmd.accept(parseExtensions(deflate)['permessage-deflate']!);
    (ws as unknown as { _extensions: object })._extensions = { 'permessage-deflate': pmd };
  }
  (ws as unknown as { setSocket(s: Duplex, head: Buffer, o: object): void }).setSocket(stream, Buffer.alloc(0), {
    maxPayload: 64 * 1024 * 1024,
    skipUTF8Validation: false,
    allowSynchronousEvents: true,
  });
  return ws;
}

/** Records the WebSocket hooks; rewrites "edit me" from the client. */
@addon({ name: 'h2wslog' })
class Log {
  flows: HTTPFlow[] = [];
  events: string[] = [];
  private ends: Array<(f: HTTPFlow) => void> = [];
  @hook('websocket_start') start(f: HTTPFlow): void {
    this.events.push(`start ${f.request.path}`);
  }
  @hook('websocket_message') message(f: HTTPFlow): void {
    const m = f.websocket!.messages.at(-1)!;
    if (m.fromClient && m.isText && m.text === 'edit me') m.text = 'edited by the proxy';
  }
  @hook('websocket_end') end(f: HTTPFlow): void {
    this.events.push(`end ${f.request.path}`);
    this.flows.push(f);
    this.ends.shift()?.(f);
  }
  nextEnd(): Promise<HTTPFlow> {
    return new Promise((r) => this.ends.push(r));
  }
}

let log: Log;
let proxy: EmbeddedProxy;
let h2: Awaited<ReturnType<typeof h2Origin>>;
let h1: WsServer;
/** What the HTTP/2 origin saw of each extended CONNECT. */
const seen: http2.IncomingHttpHeaders[] = [];
/** Messages the HTTP/2 origin got on its permessage-deflate WebSocket. */
const h2Deflated: Array<[Buffer, boolean]> = [];

beforeAll(async () => {
  h2 = await h2Origin(
    (stream, headers) => {
      if (headers[':method'] === 'GET') {
        stream.respond({ ':status': 200, 'content-type': 'text/html' });
        stream.end('<!doctype html><title>h2 page</title>');
        return;
      }
      seen.push(headers);
      const offer = headers['sec-websocket-extensions'];
      if (headers[':path'] === '/h2-deflate' && typeof offer === 'string') {
        // permessage-deflate on the HTTP/2 stream itself: the origin agrees and echoes as it got
        // (elsewhere it declines the offer Chromium makes)
        const agreed = deflateAnswer(offer);
        stream.respond({ ':status': 200, 'x-origin': 'h2', 'sec-websocket-extensions': agreed });
        const ws = wsOn(stream, false, offer);
        ws.on('message', (data: Buffer, isBinary) => {
          h2Deflated.push([data, isBinary]);
          ws.send(data, { binary: isBinary });
        });
        return;
      }
      stream.respond({ ':status': 200, 'x-origin': 'h2' });
      const ws = wsOn(stream, false);
      ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `h2 echo: ${String(data)}`, { binary: isBinary }));
    },
    { settings: { enableConnectProtocol: true } },
  );
  h1 = await wsServer({ tls: true });
  h1.wss.on('connection', (ws) =>
    ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `h1 echo: ${String(data)}`, { binary: isBinary })),
  );
  log = new Log();
  proxy = await createProxy({ addons: [log], options: { ssl_verify_upstream_trusted_ca: h2.caCertPath } });
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await h2?.close();
  await h1?.close();
});

/** An extended CONNECT through the proxy; resolves with the open WebSocket and the response head. */
async function openThrough(
  port: number,
  path: string,
  extra: http2.OutgoingHttpHeaders = {},
): Promise<{ session: http2.ClientHttp2Session; ws: WS; headers: http2.IncomingHttpHeaders }> {
  const session = await h2Through(proxy.port, 'localhost', port, await caPem());
  // the proxy announced SETTINGS_ENABLE_CONNECT_PROTOCOL (Node refuses :protocol otherwise)
  if (!session.remoteSettings.enableConnectProtocol) await once(session, 'remoteSettings');
  expect(session.remoteSettings.enableConnectProtocol).toBe(true);
  const stream = session.request(
    {
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': 'https',
      ':authority': `localhost:${port}`,
      ':path': path,
      'sec-websocket-version': '13',
      origin: 'https://localhost',
      ...extra,
    },
    { endStream: false },
  );
  const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
  const agreed = headers['sec-websocket-extensions'];
  return { session, ws: wsOn(stream, true, typeof agreed === 'string' ? agreed : undefined), headers };
}

let pem: Buffer | null = null;
async function caPem(): Promise<Buffer> {
  pem ??= (await import('node:fs')).readFileSync(proxy.caCertPath);
  return pem;
}

/** Send each message and collect its answer. */
async function chat(ws: WS, messages: Array<string | Buffer>): Promise<string[]> {
  const out: string[] = [];
  for (const m of messages) {
    const got = once(ws, 'message') as Promise<[Buffer, boolean]>;
    ws.send(m);
    const [data, binary] = await got;
    out.push(binary ? `binary ${data.toString('hex')}` : String(data));
  }
  return out;
}

/** Messages as `binary hex` lines. */
const shown = (xs: Array<[Buffer, boolean]>): string[] => xs.map(([d, b]) => `${b} ${d.toString('hex')}`);

/**
 * Send 100 text and binary messages (the 11th "edit me", which the Log addon rewrites) and wait
 * for the 100 echoes: what the client got, and what both ends should have got.
 */
async function hundredEchoes(ws: WS): Promise<{ expected: string[]; atClient: string[] }> {
  const sent = testMessages(100);
  sent[10] = 'edit me';
  const want = sent.map((m) => (m === 'edit me' ? 'edited by the proxy' : m));
  const atClient: Array<[Buffer, boolean]> = [];
  const all = new Promise<void>((resolve) =>
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      atClient.push([data, isBinary]);
      if (atClient.length === sent.length) resolve();
    }),
  );
  for (const m of sent) ws.send(m);
  await all;
  return {
    expected: want.map((m) => `${typeof m !== 'string'} ${bytesOf(m).toString('hex')}`),
    atClient: shown(atClient),
  };
}

describe('WebSocket over HTTP/2 (RFC 8441) through the proxy', () => {
  it('to an HTTP/2 origin with extended CONNECT: messages relayed and edited, one flow with the handshake and the messages', async () => {
    const ended = log.nextEnd();
    const { session, ws, headers } = await openThrough(h2.port, '/h2-chat');
    expect(headers[':status']).toBe(200);
    expect(headers['x-origin']).toBe('h2');
    expect(await chat(ws, ['hello', 'edit me', Buffer.from([1, 2, 3])])).toEqual([
      'h2 echo: hello',
      'h2 echo: edited by the proxy',
      'binary 010203',
    ]);
    ws.close(1000, 'bye');
    const flow = await ended;
    session.close();
    expect(seen.at(-1)![':protocol']).toBe('websocket');
    expect(seen.at(-1)![':path']).toBe('/h2-chat');
    expect([
      flow.request.method,
      flow.request.httpVersion,
      flow.request.headers.get(':protocol'),
      flow.response!.statusCode,
    ]).toEqual(['CONNECT', 'HTTP/2.0', 'websocket', 200]);
    const msgs = flow.websocket!.messages.map(
      (m) => `${m.fromClient ? '>' : '<'} ${m.isText ? m.text : m.content.toString('hex')}`,
    );
    expect(msgs).toEqual([
      '> hello',
      '< h2 echo: hello',
      '> edited by the proxy',
      '< h2 echo: edited by the proxy',
      '> 010203',
      '< 010203',
    ]);
    expect([flow.websocket!.closeCode, flow.websocket!.closedByClient]).toEqual([1000, true]);
    expect(log.events.filter((e) => e.endsWith('/h2-chat'))).toEqual(['start /h2-chat', 'end /h2-chat']);

    // .mitm round trip: the handshake as HTTP/2 extended CONNECT, the messages
    const file = join(mkdtempSync(join(tmpdir(), 'mitmts-h2ws-')), 'flows.mitm');
    const w = new FlowWriter(file);
    w.add(flow);
    await w.close();
    const [back] = [...new FlowReader(file)] as HTTPFlow[];
    expect([back!.request.method, back!.request.httpVersion, back!.request.headers.get(':protocol')]).toEqual([
      'CONNECT',
      'HTTP/2.0',
      'websocket',
    ]);
    expect(back!.websocket!.messages.map((m) => m.content.toString())).toEqual(
      flow.websocket!.messages.map((m) => m.content.toString()),
    );
  });

  it('to an HTTP/1.1-only WebSocket server: the proxy sends an Upgrade request, the client gets 200, messages edited', async () => {
    const ended = log.nextEnd();
    const { session, ws, headers } = await openThrough(h1.port, '/h1-chat');
    expect(headers[':status']).toBe(200);
    expect(headers['sec-websocket-accept']).toBeUndefined();
    expect(await chat(ws, ['edit me', 'plain'])).toEqual(['h1 echo: edited by the proxy', 'h1 echo: plain']);
    ws.close(4000, 'custom');
    const flow = await ended;
    session.close();
    expect([
      flow.request.method,
      flow.request.httpVersion,
      flow.response!.statusCode,
      flow.response!.httpVersion,
    ]).toEqual(['CONNECT', 'HTTP/2.0', 101, 'HTTP/1.1']);
    expect([flow.websocket!.closeCode, flow.websocket!.closeReason]).toEqual([4000, 'custom']);
  });

  it('permessage-deflate offered in the extended CONNECT to an HTTP/1.1 `ws` server behind the translation: 100 messages each way byte-identical, one edited (re-deflated), all decoding at both ends', async () => {
    const dz = await wsServer({ tls: true, deflate: true });
    const atServer: Array<[Buffer, boolean]> = [];
    let serverAgreed = '';
    dz.wss.on('connection', (ws) => {
      serverAgreed = ws.extensions;
      ws.on('message', (data: Buffer, isBinary) => {
        atServer.push([data, isBinary]);
        ws.send(data, { binary: isBinary });
      });
    });
    try {
      const ended = log.nextEnd();
      const { session, ws, headers } = await openThrough(dz.port, '/deflate', {
        'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
      });
      expect(headers[':status']).toBe(200);
      expect(String(headers['sec-websocket-extensions'])).toMatch(/^permessage-deflate/);
      const { expected, atClient } = await hundredEchoes(ws);
      expect(shown(atServer)).toEqual(expected);
      expect(atClient).toEqual(expected);
      expect(serverAgreed).toBe('permessage-deflate');
      ws.close(1000);
      const flow = await ended;
      session.close();
      // the proxy inflated every message for the flow: 100 each way, as the peers sent them
      const msgs = flow.websocket!.messages;
      expect(msgs.length).toBe(200);
      expect(msgs.filter((m) => m.fromClient).map((m) => `${!m.isText} ${m.content.toString('hex')}`)).toEqual(
        expected,
      );
      expect(flow.response!.headers.get('sec-websocket-extensions')).toMatch(/^permessage-deflate/);
    } finally {
      await dz.close();
    }
  });

  it('permessage-deflate on an HTTP/2 origin that speaks extended CONNECT itself (no translation): 100 messages each way byte-identical, one edited (re-deflated), all decoding at both ends', async () => {
    const ended = log.nextEnd();
    const { session, ws, headers } = await openThrough(h2.port, '/h2-deflate', {
      'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
    });
    expect(headers[':status']).toBe(200);
    expect(String(headers['sec-websocket-extensions'])).toMatch(/^permessage-deflate/);
    // the extended CONNECT reached the origin as HTTP/2, with the offer
    expect([seen.at(-1)![':protocol'], seen.at(-1)![':path']]).toEqual(['websocket', '/h2-deflate']);
    expect(String(seen.at(-1)!['sec-websocket-extensions'])).toMatch(/^permessage-deflate/);
    h2Deflated.length = 0;
    const { expected, atClient } = await hundredEchoes(ws);
    expect(shown(h2Deflated)).toEqual(expected);
    expect(atClient).toEqual(expected);
    ws.close(1000);
    const flow = await ended;
    session.close();
    expect([flow.request.method, flow.response!.statusCode, flow.response!.httpVersion]).toEqual([
      'CONNECT',
      200,
      'HTTP/2.0',
    ]);
    expect(flow.response!.headers.get('sec-websocket-extensions')).toMatch(/^permessage-deflate/);
    // the proxy inflated every message for the flow: 100 each way, as the peers sent them
    const msgs = flow.websocket!.messages;
    expect(msgs.length).toBe(200);
    for (const fromClient of [true, false])
      expect(
        msgs.filter((m) => m.fromClient === fromClient).map((m) => `${!m.isText} ${m.content.toString('hex')}`),
      ).toEqual(expected);
  });

  it("an HTTP/1.1 server's 101 whose Sec-WebSocket-Accept does not answer the key the proxy sent: the client gets 502 naming it", async () => {
    const ca = await testCa();
    const heads: string[] = [];
    const raw = tls.createServer(ca.issue('localhost', '127.0.0.1'), (s) => {
      let head = '';
      s.on('error', () => undefined);
      s.on('data', (d: Buffer) => {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n') || heads.includes(head)) return;
        heads.push(head);
        s.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSBhbnN3ZXI=\r\n\r\n',
        );
      });
    });
    raw.listen(0, '127.0.0.1');
    await once(raw, 'listening');
    const port = (raw.address() as AddressInfo).port;
    try {
      const session = await h2Through(proxy.port, 'localhost', port, await caPem());
      if (!session.remoteSettings.enableConnectProtocol) await once(session, 'remoteSettings');
      const stream = session.request(
        {
          ':method': 'CONNECT',
          ':protocol': 'websocket',
          ':scheme': 'https',
          ':authority': `localhost:${port}`,
          ':path': '/wrong-accept',
          'sec-websocket-version': '13',
        },
        { endStream: false },
      );
      const [h] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      await once(stream, 'end');
      session.close();
      expect(h[':status']).toBe(502);
      const key = /^sec-websocket-key: *(\S+)\r$/im.exec(heads[0] ?? '')?.[1];
      expect(key).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      const body = Buffer.concat(chunks).toString().replaceAll('&#34;', '"').replaceAll('&#39;', "'");
      expect(body).toContain('Sec-WebSocket-Accept is "bm90IHRoZSBhbnN3ZXI="');
      expect(body).toContain(
        `expected "${createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')}"`,
      );
      expect(body).toContain('The WebSocket was refused.');
    } finally {
      raw.close();
    }
  });

  it('with websocket off the proxy does not announce extended CONNECT', async () => {
    proxy.kernel.options.update({ websocket: false });
    try {
      const session = await h2Through(proxy.port, 'localhost', h2.port, await caPem());
      // a PING's answer comes after the proxy's SETTINGS (its first frame): they are applied by then
      await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
      expect(session.remoteSettings.enableConnectProtocol).toBe(false);
      session.close();
    } finally {
      proxy.kernel.options.update({ websocket: true });
    }
  });

  it('a client that resets the stream ends the flow once with 1006; the connection carries other streams on', async () => {
    const ended = log.nextEnd();
    const { session, ws } = await openThrough(h2.port, '/h2-reset');
    expect(await chat(ws, ['one'])).toEqual(['h2 echo: one']);
    (ws as unknown as { _socket: http2.ClientHttp2Stream })._socket.close(http2.constants.NGHTTP2_CANCEL);
    const flow = await ended;
    expect(flow.websocket!.closeCode).toBe(1006);
    expect(log.events.filter((e) => e.endsWith('/h2-reset'))).toEqual(['start /h2-reset', 'end /h2-reset']);
    const again = session.request(
      {
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': 'https',
        ':authority': `localhost:${h2.port}`,
        ':path': '/after',
        'sec-websocket-version': '13',
      },
      { endStream: false },
    );
    const [h] = (await once(again, 'response')) as [http2.IncomingHttpHeaders];
    expect(h[':status']).toBe(200);
    again.close();
    session.close();
  });
});

const tools = ensureChromium();
const missing = 'missing' in tools ? tools.missing : null;
if (missing) console.warn(`Chromium WebSocket-over-HTTP/2 test skipped: ${missing}`);

describe.skipIf(missing !== null)('Chromium: wss:// over its HTTP/2 connection through the proxy', () => {
  it('opens the WebSocket with an extended CONNECT; 50 messages echoed, one edited; the flow is the HTTP/2 handshake', async () => {
    const browser = await launchChromium(tools as { chromium: string; certutil: string }, proxy.url, proxy.caCertPath);
    try {
      const ended = log.nextEnd();
      const page = await browser.newPage();
      // the page itself comes over HTTP/2, so the WebSocket can share that connection (RFC 8441)
      const res = await page.goto(`https://localhost:${h2.port}/`);
      expect(res!.status()).toBe(200);
      const result = await page.evaluate(async (url: string) => {
        const ws = new WebSocket(url);
        await new Promise((resolve, reject) => {
          ws.onopen = resolve;
          ws.onerror = () => reject(new Error('WebSocket failed to open'));
        });
        const answers: string[] = [];
        for (let i = 0; i < 50; i++) {
          const got = new Promise<string>((resolve) => (ws.onmessage = (e) => resolve(String(e.data))));
          ws.send(i === 10 ? 'edit me' : `message ${i}`);
          answers.push(await got);
        }
        const closed = new Promise<number>((resolve) => (ws.onclose = (e) => resolve(e.code)));
        ws.close(1000, 'page done');
        return {
          answers,
          closeCode: await closed,
        };
      }, `wss://localhost:${h2.port}/chromium`);
      expect(await page.evaluate<string>('performance.getEntriesByType("navigation")[0].nextHopProtocol')).toBe('h2');
      expect(result.answers[10]).toBe('h2 echo: edited by the proxy');
      expect(result.answers.filter((a, i) => a === `h2 echo: message ${i}`)).toHaveLength(49);
      expect(result.closeCode).toBe(1000);
      const flow = await ended;
      expect([
        flow.request.method,
        flow.request.httpVersion,
        flow.request.headers.get(':protocol'),
        flow.request.path,
      ]).toEqual(['CONNECT', 'HTTP/2.0', 'websocket', '/chromium']);
      expect(flow.request.headers.get('user-agent')).toMatch(/HeadlessChrome/);
      expect(flow.websocket!.messages).toHaveLength(100);
      expect(flow.websocket).toMatchObject({ closedByClient: true, closeCode: 1000, closeReason: 'page done' });
    } finally {
      await browser.close();
    }
  }, 90_000);
});
