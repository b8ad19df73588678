/**
 * The protocol-neutral HTTP exchange driven by fake sides (no sockets): hook order, kills,
 * addon answers, the 502 paths, streaming decisions, stream functions, body limits, trailers.
 */
import { describe, expect, it } from 'vitest';
import { FlowError, Response, type HTTPFlow } from '../../src/flow/index.js';
import type { HookName } from '../../src/hooks/hookmap.js';
import type { LogEntry } from '../../src/kernel/log.js';
import type { RuntimeConfig } from '../../src/proxy/config.js';
import { HttpExchange } from '../../src/proxy/http/exchange.js';
import {
  context,
  FakeClient,
  FakeConnector,
  FakeServer,
  flowFor,
  hookTable,
  pairs,
  request,
  type ClientOptions,
  type Log,
  type ServerOptions,
} from './fakes.js';

interface Setup {
  hooks?: Partial<Record<HookName, (f: HTTPFlow) => void | Promise<void>>>;
  client?: ClientOptions;
  server?: ServerOptions;
  connector?: { async?: boolean; refuse?: string };
  cfg?: Partial<RuntimeConfig>;
  method?: string;
}

function setup(o: Setup = {}) {
  const log: Log = [];
  const logs: LogEntry[] = [];
  const ctx = context(hookTable(log, o.hooks), o.cfg, logs);
  const flow = flowFor(ctx, request({ method: o.method ?? 'GET' }));
  const client = new FakeClient(log, o.client);
  const server = new FakeServer(log, { body: [Buffer.from('hello')], ...o.server });
  const exchange = new HttpExchange(flow, client, new FakeConnector(log, server, o.connector), ctx);
  return { log, logs, flow, client, server, run: () => run(exchange) };
}

/** Start the exchange: undefined if it finished at once (the fast path), else a promise of its end. */
function run(exchange: HttpExchange): Promise<void> | undefined {
  let doneAtOnce = false;
  const p = new Promise<void>((resolve, reject) => exchange.start(() => ((doneAtOnce = true), resolve()), reject));
  return doneAtOnce ? undefined : p;
}

const OK_TAIL = [
  'hook responseheaders',
  'server.readBody limit=null',
  'hook response',
  'client.sendResponse 200 from server "hello"',
  'server.release',
];

describe('hook order', () => {
  it('runs requestheaders, request, responseheaders, response, and makes no promise while nothing waits', () => {
    const t = setup();
    expect(t.run()).toBeUndefined();
    expect(t.log).toEqual([
      'hook requestheaders',
      'client.readBody',
      'hook request',
      'connector.serverFor',
      'server.send GET ""',
      ...OK_TAIL,
    ]);
    expect(t.flow.response!.text).toBe('hello');
    expect(t.flow.error).toBeNull();
  });

  it('keeps the order when hooks, the connect and the server are async', async () => {
    const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
    const hooks = { requestheaders: tick, request: tick, responseheaders: tick, response: tick };
    const t = setup({
      hooks,
      connector: { async: true },
      server: { async: true },
      client: { async: true, body: [Buffer.from('up')] },
      method: 'POST',
    });
    const r = t.run();
    expect(r).toBeInstanceOf(Promise);
    await r;
    expect(t.log).toEqual([
      'hook requestheaders',
      'client.readBody',
      'hook request',
      'connector.serverFor',
      'server.send POST "up"',
      ...OK_TAIL,
    ]);
  });

  it('answers Expect: 100-continue itself for a buffered body and drops the header', () => {
    const t = setup({ client: { expectContinue: true, body: [Buffer.from('b')] }, method: 'POST' });
    t.flow.request.headers.set('Expect', '100-continue');
    t.run();
    expect(t.log.slice(0, 3)).toEqual(['hook requestheaders', 'client.interim 100', 'client.readBody']);
    expect(t.flow.request.headers.has('expect')).toBe(false);
  });
});

describe('kill', () => {
  // As mitmproxy's check_killed: a kill before the response hook fires `error`; after it, not.
  const cases: Array<[HookName, string[]]> = [
    ['requestheaders', ['hook requestheaders', 'hook error', 'client.abort']],
    ['request', ['hook requestheaders', 'client.readBody', 'hook request', 'hook error', 'client.abort']],
    [
      'responseheaders',
      [
        'hook requestheaders',
        'client.readBody',
        'hook request',
        'connector.serverFor',
        'server.send GET ""',
        'hook responseheaders',
        'hook error',
        'server.abort',
        'client.abort',
      ],
    ],
    [
      'response',
      [
        'hook requestheaders',
        'client.readBody',
        'hook request',
        'connector.serverFor',
        'server.send GET ""',
        'hook responseheaders',
        'server.readBody limit=null',
        'hook response',
        'server.abort',
        'client.abort',
      ],
    ],
  ];
  for (const [hook, expected] of cases) {
    it(`in ${hook}: nothing more is sent, both halves are dropped${hook === 'response' ? '' : ', error fires'}`, () => {
      const t = setup({ hooks: { [hook]: (f: HTTPFlow) => f.kill() } });
      expect(t.run()).toBeUndefined();
      expect(t.log).toEqual(expected);
      expect(t.flow.error!.msg).toBe(FlowError.KILLED_MESSAGE);
      expect(t.flow.live).toBe(false);
    });
  }

  it("in responseheaders of an addon's answer: error fires, nothing is sent", () => {
    const t = setup({
      hooks: { request: (f) => void (f.response = Response.make(299)), responseheaders: (f) => f.kill() },
    });
    t.run();
    expect(t.log.slice(-3)).toEqual(['hook responseheaders', 'hook error', 'client.abort']);
  });

  it('in an async hook too', async () => {
    const t = setup({ hooks: { request: async (f) => f.kill() } });
    await t.run();
    expect(t.log.slice(-2)).toEqual(['hook error', 'client.abort']);
    expect(t.log).not.toContain('connector.serverFor');
  });

  it('not again when the error hook kills a failed flow', () => {
    const t = setup({ connector: { refuse: 'no route' }, hooks: { error: (f) => f.kill() } });
    t.run();
    expect(t.log.filter((e) => e === 'hook error')).toHaveLength(1);
    expect(t.log.at(-1)).toBe('client.abort');
  });
});

describe('the client leaves while a hook waits (a held flow)', () => {
  for (const [hook, emits] of [
    ['request', true],
    ['response', false],
  ] as const) {
    it(`in ${hook}: the flow ends with "Client disconnected."${emits ? ' and the error hook' : ''}, even when it was killed for it`, async () => {
      let release = (): void => undefined;
      const t = setup({
        hooks: { [hook]: (f: HTTPFlow) => new Promise<void>((r) => (release = () => (f.kill(), r()))) },
      });
      const r = t.run();
      await new Promise((res) => setImmediate(res));
      // What the intercept addon does for a client that left, in the same turn: kill its held flows.
      release();
      t.client.disconnect();
      await r;
      expect(t.flow.error!.msg).toBe('Client disconnected.');
      expect(t.flow.live).toBe(false);
      expect(t.log.includes('hook error')).toBe(emits);
      expect(t.log.at(-1)).toBe('client.abort');
      expect(t.log).not.toContain(
        hook === 'request' ? 'connector.serverFor' : 'client.sendResponse 200 from server "hello"',
      );
    });
  }

  it('a flow killed by the user before the client left keeps "Connection killed."', async () => {
    const t = setup({ hooks: { request: async (f) => f.kill() } });
    await t.run();
    t.client.disconnect();
    expect(t.flow.error!.msg).toBe(FlowError.KILLED_MESSAGE);
  });
});

describe('live', () => {
  it('a flow is live during its hooks and not after its exchange (fast path and async path)', async () => {
    const seen: boolean[] = [];
    const t = setup({ hooks: { request: (f) => void seen.push(f.live), response: (f) => void seen.push(f.live) } });
    t.run();
    const a = setup({ hooks: { response: async (f) => void seen.push(f.live) }, server: { async: true } });
    await a.run();
    expect(seen).toEqual([true, true, true]);
    expect([t.flow.live, a.flow.live]).toEqual([false, false]);
  });

  it('a failed flow is not live after its error hook', () => {
    const t = setup({
      connector: { refuse: 'no route' },
      hooks: { error: (f) => void t.log.push(`live in error: ${f.live}`) },
    });
    t.run();
    expect(t.log).toContain('live in error: true');
    expect(t.flow.live).toBe(false);
  });
});

describe('an addon answers', () => {
  for (const hook of ['requestheaders', 'request'] as const) {
    it(`in ${hook}: responseheaders and response fire, the server is never contacted`, () => {
      const t = setup({ hooks: { [hook]: (f: HTTPFlow) => void (f.response = Response.make(299, 'from addon')) } });
      t.run();
      expect(t.log).not.toContain('connector.serverFor');
      expect(t.log.slice(-3)).toEqual([
        'hook responseheaders',
        'hook response',
        'client.sendResponse 299 from addon "from addon"',
      ]);
    });
  }

  it('a response withdrawn in responseheaders sends the request on', () => {
    const t = setup({
      hooks: {
        request: (f) => void (f.response = Response.make(299)),
        responseheaders: (f) => void (f.response?.statusCode === 299 && (f.response = null)),
      },
    });
    t.run();
    expect(t.log).toContain('connector.serverFor');
  });
});

describe('502 paths', () => {
  it('the connect fails (synchronously): error hook, then a 502 naming the cause', () => {
    const t = setup({
      connector: { refuse: 'Failed to connect to example.com:80: connection refused (ECONNREFUSED)' },
    });
    t.run();
    expect(t.log.slice(-2)).toEqual([
      'hook error',
      'client.fail 502: Failed to connect to example.com:80: connection refused (ECONNREFUSED)',
    ]);
    expect(t.flow.error!.msg).toContain('connection refused');
    expect(t.flow.response).toBeNull();
  });

  it('the connect fails (asynchronously)', async () => {
    const t = setup({ connector: { async: true, refuse: 'blocked by policy' } });
    await t.run();
    expect(t.log.slice(-2)).toEqual(['hook error', 'client.fail 502: blocked by policy']);
  });

  it('the server resets before the response head', async () => {
    const t = setup({ server: { async: true, failAt: 'head' } });
    await t.run();
    expect(t.log.slice(-3)).toEqual([
      'server.abort',
      'hook error',
      'client.fail 502: Server closed the connection without a response.',
    ]);
    expect(t.log).not.toContain('hook responseheaders');
  });

  it('the server resets after the head, while the body is buffered', async () => {
    const t = setup({ server: { failAt: 'body' } });
    await t.run();
    expect(t.log.slice(-3)).toEqual([
      'server.abort',
      'hook error',
      'client.fail 502: Server closed the connection before the response was complete.',
    ]);
    expect(t.log).not.toContain('hook response');
  });

  it('the server resets while the body streams: the flow errs, the client exchange is cut', async () => {
    const t = setup({ server: { failAt: 'body', contentLength: 100 }, cfg: { streamLargeBodies: 10 } });
    await t.run();
    expect(t.log.slice(-3)).toEqual([
      'server.abort',
      'hook error',
      'client.fail 502 (cut): Server connection lost: read ECONNRESET',
    ]);
    expect(t.flow.error!.msg).toBe('Server connection lost: read ECONNRESET');
  });

  it('the client leaves while the body streams', async () => {
    const t = setup({ server: { hang: true, contentLength: 100 }, cfg: { streamLargeBodies: 10 } });
    const r = t.run();
    await new Promise((res) => setImmediate(res));
    t.client.disconnect();
    await r;
    expect(t.flow.error!.msg).toBe('Client disconnected.');
    expect(t.log.slice(-2)).toEqual(['hook error', 'client.fail 502 (cut): Client disconnected.']);
  });

  it('an error of the client side (a malformed body) is thrown on, and the server dropped', async () => {
    const bad = new Error('malformed chunked body');
    const t = setup({
      client: { bodyError: bad, body: [Buffer.from('x')] },
      hooks: { requestheaders: (f) => void (f.request.stream = true) },
    });
    await expect(t.run()).rejects.toBe(bad);
    expect(t.log).toContain('server.abort');
    expect(t.log).not.toContain('hook error');
  });
});

describe('streaming', () => {
  it('streams a response whose Content-Length exceeds stream_large_bodies; response fires at the end', async () => {
    const t = setup({ server: { body: [Buffer.from('aaaa'), Buffer.from('bbbb')] }, cfg: { streamLargeBodies: 5 } });
    await t.run();
    expect(t.log.slice(-5)).toEqual([
      'client.startResponse 200',
      'server.streamBody',
      'client.endResponse',
      'hook response',
      'server.release',
    ]);
    expect(Buffer.concat(t.client.streamed).toString()).toBe('aaaabbbb');
    expect(t.flow.response!.rawContent).toBeNull();
  });

  it('streams a body of unknown length once it outgrows stream_large_bodies', async () => {
    const t = setup({
      server: { body: [Buffer.from('0123456789')], contentLength: -1 },
      cfg: { streamLargeBodies: 5 },
    });
    await t.run();
    expect(t.log).toContain('server.readBody limit=5');
    expect(t.log).toContain('client.startResponse 200');
    expect(Buffer.concat(t.client.streamed).toString()).toBe('0123456789');
  });

  it('buffers a body of unknown length that stays under stream_large_bodies', () => {
    const t = setup({ server: { body: [Buffer.from('0123')], contentLength: -1 }, cfg: { streamLargeBodies: 5 } });
    t.run();
    expect(t.log).toContain('client.sendResponse 200 from server "0123"');
  });

  it('streams past the default ceiling (max_buffered_body), marks the body as not kept and warns naming the option', async () => {
    const t = setup({ server: { body: [Buffer.from('aaaa'), Buffer.from('bbbb')] }, cfg: { bufferCeiling: 5 } });
    await t.run();
    expect(t.log).toContain('client.startResponse 200');
    expect(t.flow.response!.stream).toBe(true);
    expect(t.flow.response!.rawContent).toBeNull();
    const warn = t.logs.filter((e) => e.level === 'warn');
    expect(warn).toHaveLength(1);
    expect(warn[0]!.message).toMatch(/response body of 8 bytes .* larger than max_buffered_body \(5 bytes\): streamed/);
  });

  it('streams an unknown-length body once it outgrows the default ceiling, with the warning', async () => {
    const t = setup({ server: { body: [Buffer.from('0123456789')], contentLength: -1 }, cfg: { bufferCeiling: 5 } });
    await t.run();
    expect(t.log).toContain('server.readBody limit=5');
    expect(t.flow.response!.stream).toBe(true);
    expect(t.logs.filter((e) => e.level === 'warn')[0]!.message).toContain('response body over 5 bytes');
  });

  it('streams an unknown-length request body once it outgrows the ceiling, what was read first included', async () => {
    const t = setup({
      client: { body: [Buffer.from('0123'), Buffer.from('456789')], contentLength: -1 },
      cfg: { bufferCeiling: 5 },
      method: 'POST',
    });
    await t.run();
    expect(t.log.slice(0, 4)).toEqual([
      'hook requestheaders',
      'client.readBody limit=5',
      'connector.serverFor',
      'server.startRequest POST',
    ]);
    expect(t.log).toContain('client.streamBody');
    expect(t.flow.request.stream).toBe(true);
    expect(t.flow.request.rawContent).toBeNull();
    expect(t.logs.filter((e) => e.level === 'warn')[0]!.message).toContain('request body over 5 bytes');
  });

  it('stream_large_bodies set: streamed without the ceiling warning', async () => {
    const t = setup({
      server: { body: [Buffer.from('aaaa'), Buffer.from('bbbb')] },
      cfg: { streamLargeBodies: 5, bufferCeiling: null },
    });
    await t.run();
    expect(t.flow.response!.stream).toBe(true);
    expect(t.logs.filter((e) => e.level === 'warn')).toEqual([]);
  });

  it('keeps a copy of streamed bodies with store_streamed_bodies', async () => {
    const t = setup({
      server: { body: [Buffer.from('resp-'), Buffer.from('body')] },
      client: { body: [Buffer.from('req-'), Buffer.from('body')], contentLength: -1 },
      hooks: {
        requestheaders: (f) => void (f.request.stream = true),
        responseheaders: (f) => void (f.response!.stream = true),
      },
      cfg: { storeStreamedBodies: true },
      method: 'POST',
    });
    await t.run();
    expect(t.flow.request.rawContent!.toString()).toBe('req-body');
    expect(t.flow.response!.rawContent!.toString()).toBe('resp-body');
    expect(Buffer.concat(t.server.streamedRequest).toString()).toBe('req-body');
  });

  it('streams a request body: request fires once it is through, before the response', async () => {
    const t = setup({
      client: { body: [Buffer.from('abc')], async: true },
      hooks: { requestheaders: (f) => void (f.request.stream = true) },
      method: 'PUT',
    });
    await t.run();
    expect(t.log.slice(0, 6)).toEqual([
      'hook requestheaders',
      'connector.serverFor',
      'server.startRequest PUT',
      'client.streamBody',
      'server.endRequest',
      'hook request',
    ]);
    expect(t.flow.request.rawContent).toBeNull();
  });

  it('forwards the server 100 Continue to a client that streams its body, and other interim responses', async () => {
    const t = setup({
      client: { expectContinue: true, body: [Buffer.from('abc')] },
      server: { interim: [100, 102] },
      hooks: { requestheaders: (f) => void (f.request.stream = true) },
      method: 'POST',
    });
    await t.run();
    expect(t.log.filter((e) => e.startsWith('client.interim'))).toEqual(['client.interim 100', 'client.interim 102']);
  });

  it('forwards 103 Early Hints for a buffered request, but not the server 100 (the proxy answered its own)', async () => {
    const t = setup({
      client: { expectContinue: true, body: [Buffer.from('abc')] },
      server: { interim: [100, 103] },
      method: 'POST',
    });
    await t.run();
    expect(t.log.filter((e) => e.startsWith('client.interim'))).toEqual(['client.interim 100', 'client.interim 103']);
  });
});

describe('stream functions', () => {
  it('transform each chunk and flush at the end; a declared length may no longer hold', async () => {
    const up = (c: Buffer): Buffer => Buffer.from(c.toString().toUpperCase());
    const flush: Buffer[] = [];
    const t = setup({
      server: { body: [Buffer.from('ab'), Buffer.from('cd')] },
      hooks: {
        responseheaders: (f) =>
          void (f.response!.stream = (c) => {
            if (c.length === 0) return [Buffer.from('!')];
            flush.push(c);
            return up(c);
          }),
      },
    });
    await t.run();
    expect(t.log).toContain('client.startResponse 200 (length may change)');
    expect(Buffer.concat(t.client.streamed).toString()).toBe('ABCD!');
  });

  it('a throwing response stream function fails that flow and cuts that exchange only', async () => {
    const t = setup({
      hooks: {
        responseheaders: (f) =>
          void (f.response!.stream = () => {
            throw new Error('transform broke');
          }),
      },
    });
    await t.run();
    expect(t.flow.error!.msg).toBe('response stream function failed: transform broke');
    expect(
      t.logs.some((e) => e.level === 'error' && e.message.includes('response stream function failed: transform broke')),
    ).toBe(true);
    expect(t.log).toContain('client.abort');
    expect(t.log.slice(-2)).toEqual([
      'hook error',
      'client.fail 502 (cut): response stream function failed: transform broke',
    ]);
    expect(t.log).not.toContain('hook response');
  });

  it('a throwing request stream function fails the flow before any response', async () => {
    const t = setup({
      client: { body: [Buffer.from('x')] },
      hooks: {
        requestheaders: (f) =>
          void (f.request.stream = () => {
            throw new Error('nope');
          }),
      },
      method: 'POST',
    });
    await t.run();
    expect(t.flow.error!.msg).toBe('request stream function failed: nope');
    expect(t.log).toContain('server.abort');
    expect(t.log.at(-1)).toBe('client.fail 502: request stream function failed: nope');
    expect(t.log).not.toContain('hook request');
  });
});

describe('limits and trailers', () => {
  it('hands body_size_limit to the server side; its failure is a 502 that says so', async () => {
    const t = setup({ cfg: { bodySizeLimit: 2 }, server: { failAt: 'body' } });
    await t.run();
    expect(t.server.bodySizeLimit).toBe(2);
    expect(t.log.at(-1)).toMatch(/^client\.fail 502: /);
  });

  it('keeps the trailers of buffered bodies on the flow', () => {
    const t = setup({
      client: { body: [Buffer.from('x')], trailers: pairs(['X-Req-Trailer', '1']) },
      server: { trailers: pairs(['X-Resp-Trailer', '2']) },
      method: 'POST',
    });
    t.run();
    expect(t.flow.request.trailers!.get('x-req-trailer')).toBe('1');
    expect(t.flow.response!.trailers!.get('x-resp-trailer')).toBe('2');
  });

  it('passes trailers of streamed bodies on, and keeps them on the flow', async () => {
    const t = setup({
      client: { body: [Buffer.from('x')], trailers: pairs(['X-Req-Trailer', '1']) },
      server: { trailers: pairs(['X-Resp-Trailer', '2']) },
      hooks: {
        requestheaders: (f) => void (f.request.stream = true),
        responseheaders: (f) => void (f.response!.stream = true),
      },
      method: 'POST',
    });
    await t.run();
    expect(t.server.requestTrailers!.map(([k]) => k.toString())).toEqual(['X-Req-Trailer']);
    expect(t.client.streamedTrailers!.map(([k]) => k.toString())).toEqual(['X-Resp-Trailer']);
    expect(t.flow.request.trailers!.get('x-req-trailer')).toBe('1');
    expect(t.flow.response!.trailers!.get('x-resp-trailer')).toBe('2');
  });
});

describe('protocol switch', () => {
  it('101: response fires, then both streams go to the next layer', () => {
    const t = setup({ server: { status: 101, body: [], headers: pairs(['Upgrade', 'websocket']) } });
    t.run();
    expect(t.log.slice(-4)).toEqual([
      'hook responseheaders',
      'hook response',
      'server.takeOver',
      'client.upgrade 101 rest=ws-bytes',
    ]);
  });
});
