// Killed flows on the wire (real clients and servers on loopback): an HTTP flow killed before its
// response hook gets the `error` hook (mitmproxy's check_killed), one killed in `response` does
// not; a killed TCP flow stops forwarding, closes both connections and gets `tcp_error`.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, HTTPResponse, type EmbeddedProxy, type HookName, type HTTPFlow, type TCPFlow } from '@mitmts/sdk';
import { httpServer, tcpServer, type Upstream } from '../helpers/servers.js';

/** A GET through the proxy; resolves with the status, or the client error once the proxy cuts it. */
function get(proxy: EmbeddedProxy, url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: proxy.host, port: proxy.port, path: url, headers: { host: new URL(url).host }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
        res.on('error', (e) => resolve(e.message));
      },
    );
    req.on('error', (e) => resolve(e.message));
    req.end();
  });
}

describe('a killed HTTP flow', () => {
  let upstream: Upstream;
  let proxy: EmbeddedProxy;
  const seen: string[] = [];
  const events: string[] = [];

  beforeAll(async () => {
    upstream = await httpServer((req, res) => {
      seen.push(req.url!);
      res.end('served');
    });
    // Kills at the hook named by the path's first segment; /answer-then-kill answers in request.
    const killer = (name: HookName) => (f: HTTPFlow) => {
      events.push(`${f.request.path} ${name}${f.error ? `: ${f.error.msg}` : ''}`);
      if (f.request.path === '/answer-then-kill' && name === 'request')
        f.response = HTTPResponse.make(200, 'from addon');
      const at = f.request.path === '/answer-then-kill' ? 'responseheaders' : f.request.path.slice(1);
      if (at === name && f.killable) f.kill();
    };
    const hooks = Object.fromEntries(
      (['requestheaders', 'request', 'responseheaders', 'response', 'error'] as const).map((n) => [n, killer(n)]),
    );
    proxy = await createProxy({ addons: [{ name: 'killer', ...hooks }] });
  });
  afterAll(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  for (const [hook, reached] of [
    ['requestheaders', false],
    ['request', false],
    ['responseheaders', true],
    ['response', true],
  ] as const) {
    it(`in ${hook}: the client is cut off${hook === 'response' ? ', and no error hook fires (as mitmproxy)' : ' and the error hook fires'}`, async () => {
      events.length = 0;
      const out = await get(proxy, `${upstream.url}/${hook}`);
      expect(out).toMatch(/socket hang up|ECONNRESET|aborted/);
      expect(seen.includes(`/${hook}`)).toBe(reached);
      const flow = proxy.flows.all().find((f) => (f as HTTPFlow).request?.path === `/${hook}`) as HTTPFlow;
      expect(flow.error!.msg).toBe('Connection killed.');
      expect(flow.live).toBe(false);
      const errors = events.filter((e) => e.endsWith('error: Connection killed.'));
      expect(errors).toEqual(hook === 'response' ? [] : [`/${hook} error: Connection killed.`]);
    });
  }

  it("killed in responseheaders of an addon's answer: the error hook fires, the server is never contacted", async () => {
    events.length = 0;
    expect(await get(proxy, `${upstream.url}/answer-then-kill`)).toMatch(/socket hang up|ECONNRESET/);
    expect(seen).not.toContain('/answer-then-kill');
    expect(events.at(-1)).toBe('/answer-then-kill error: Connection killed.');
  });

  it('a flow that completes is not live any more (so it can be replayed, not killed)', async () => {
    expect(await get(proxy, `${upstream.url}/fine`)).toBe('200');
    const flow = proxy.flows.all().find((f) => (f as HTTPFlow).request?.path === '/fine') as HTTPFlow;
    expect([flow.live, flow.killable, flow.error]).toEqual([false, false, null]);
  });
});

describe('a killed TCP flow (tcp_hosts)', () => {
  let echo: Upstream;
  const received: string[] = [];

  beforeAll(async () => {
    echo = await tcpServer((s) =>
      s.on('data', (d: Buffer) => {
        received.push(d.toString());
        s.write(Buffer.concat([Buffer.from('echo:'), d]));
      }),
    );
  });
  afterAll(() => echo?.close());

  /** CONNECT to the echo server through the proxy; the raw tunnel socket. */
  function tunnel(proxy: EmbeddedProxy): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: proxy.host,
        port: proxy.port,
        method: 'CONNECT',
        path: `127.0.0.1:${echo.port}`,
      });
      req.on('connect', (_res, socket) => resolve(socket));
      req.on('error', reject);
      req.end();
    });
  }

  const closed = (s: net.Socket): Promise<string> =>
    new Promise((resolve) => {
      let data = '';
      s.on('data', (d: Buffer) => (data += d));
      s.on('close', () => resolve(data));
    });

  it('killed in tcp_message: the message is not forwarded, both connections close, tcp_error fires', async () => {
    const events: string[] = [];
    let ended: (f: TCPFlow) => void = () => undefined;
    const end = new Promise<TCPFlow>((r) => (ended = r));
    const proxy = await createProxy({
      options: { tcp_hosts: ['.*'] },
      addons: [
        {
          name: 'tcpkill',
          tcp_message: (f: TCPFlow) => {
            const m = f.messages.at(-1)!;
            events.push(`message ${m.content.toString()}`);
            if (m.content.toString() === 'kill me') f.kill();
          },
          tcp_end: (f: TCPFlow) => (events.push('end'), ended(f)),
          tcp_error: (f: TCPFlow) => (events.push(`error: ${f.error!.msg}`), ended(f)),
        },
      ],
    });
    try {
      received.length = 0;
      const s = await tunnel(proxy);
      const gone = closed(s);
      s.write('hello');
      await new Promise<void>((r) => s.once('data', () => r()));
      s.write('kill me');
      expect(await gone).toBe('echo:hello');
      const flow = await end;
      expect(received).toEqual(['hello']);
      expect(events).toEqual(['message hello', 'message echo:hello', 'message kill me', 'error: Connection killed.']);
      expect([flow.live, flow.error!.msg]).toEqual([false, 'Connection killed.']);
    } finally {
      await proxy.close();
    }
  });

  it('killed by a command between two messages (no tcp_message hook): the next message is not forwarded', async () => {
    let started: (f: TCPFlow) => void = () => undefined;
    const start = new Promise<TCPFlow>((r) => (started = r));
    let errored: (f: TCPFlow) => void = () => undefined;
    const error = new Promise<TCPFlow>((r) => (errored = r));
    const proxy = await createProxy({
      options: { tcp_hosts: ['.*'] },
      addons: [{ name: 'tcpwatch', tcp_start: (f: TCPFlow) => started(f), tcp_error: (f: TCPFlow) => errored(f) }],
    });
    try {
      received.length = 0;
      const s = await tunnel(proxy);
      const gone = closed(s);
      s.write('first');
      await new Promise<void>((r) => s.once('data', () => r()));
      const flow = await start;
      flow.kill();
      s.write('second');
      await gone;
      expect((await error).error!.msg).toBe('Connection killed.');
      expect(received).toEqual(['first']);
    } finally {
      await proxy.close();
    }
  });
});
