import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTPHeaders, type Flow, type HookName } from '@mitmts/sdk';
import { tdnsflow, tflow, ttcpflow, tudpflow, twebsocketflow, withAddons, type TestContext } from '@mitmts/sdk/testing';
import { Dumper } from '@mitmts/addon-dumper';

/** mitmdump 8.1.1's output for the same flows (see fixtures/mitmdump-8.1.1.py). */
const EXPECTED = JSON.parse(readFileSync(new URL('./fixtures/mitmdump-8.1.1.json', import.meta.url), 'utf8')) as Record<
  string,
  string
>;

interface Case {
  detail: number;
  hook: HookName;
  flow: () => Flow;
  options?: Record<string, unknown>;
}

const http =
  (mutate: (f: ReturnType<typeof tflow>) => void = () => undefined) =>
  () => {
    const f = tflow({ resp: true });
    mutate(f);
    return f;
  };

const CASES: Record<string, Case> = {
  'h2-1': {
    detail: 1,
    hook: 'response',
    flow: http(
      (f) => ((f.request.httpVersion = 'HTTP/2.0'), (f.response!.httpVersion = 'HTTP/2.0'), (f.response!.reason = '')),
    ),
  },
  'h10-resp-1': { detail: 1, hook: 'response', flow: http((f) => (f.response!.httpVersion = 'HTTP/1.0')) },
  'teapot-1': {
    detail: 1,
    hook: 'response',
    flow: http(
      (f) => ((f.request.method = 'DELETE'), (f.response!.statusCode = 418), (f.response!.reason = "I'm a teapot")),
    ),
  },
  'replay-resp-1': { detail: 1, hook: 'response', flow: http((f) => (f.isReplay = 'response')) },
  'replay-req-1': { detail: 1, hook: 'response', flow: http((f) => (f.isReplay = 'request')) },
  'missing-1': { detail: 1, hook: 'response', flow: http((f) => (f.response!.rawContent = null)) },
  'missing-3': { detail: 3, hook: 'response', flow: http((f) => (f.response!.rawContent = null)) },
  'json-3': {
    detail: 3,
    hook: 'response',
    flow: http((f) => {
      f.response!.headers.set('content-type', 'application/json');
      f.response!.content = Buffer.from('{"b": [1, 2], "a": {"x": null}}');
    }),
  },
  'bin-3': {
    detail: 3,
    hook: 'response',
    flow: http((f) => (f.response!.content = Buffer.from(Array.from({ length: 40 }, (_, i) => i)))),
  },
  'hdr-2': {
    detail: 2,
    hook: 'response',
    flow: http((f) => {
      f.request.headers.set('x-bin', 'a\x00b\\c\'d"e');
      f.request.content = Buffer.alloc(0);
    }),
  },
  'query-3': {
    detail: 3,
    hook: 'response',
    flow: http((f) => ((f.request.path = '/path?a=1&bb=2&a=3'), (f.request.content = Buffer.alloc(0)))),
  },
  'form-3': {
    detail: 3,
    hook: 'response',
    flow: http((f) => {
      f.request.headers.set('content-type', 'application/x-www-form-urlencoded');
      f.request.content = Buffer.from('foo=bar&x=%20y');
    }),
  },
  'size-1': { detail: 1, hook: 'response', flow: http((f) => (f.response!.content = Buffer.alloc(2000, 'x'))) },
  'trailers-2': {
    detail: 2,
    hook: 'response',
    flow: http((f) => (f.response!.trailers = new HTTPHeaders([['trailer', 'value']]))),
  },
  'mapped-1': { detail: 1, hook: 'response', flow: http((f) => (f.clientConn.peername = ['::ffff:10.0.0.1', 1234])) },
  'v6-1': { detail: 1, hook: 'response', flow: http((f) => (f.clientConn.peername = ['2001:db8::1', 1234])) },
  'showhost-1': { detail: 1, hook: 'response', flow: http(), options: { showhost: true } },
  'long-1': {
    detail: 1,
    hook: 'response',
    flow: http((f) => (f.request.url = `http://address:22/${'x'.repeat(100)}`)),
  },
  'long-2': {
    detail: 2,
    hook: 'response',
    flow: http((f) => (f.request.url = `http://address:22/${'x'.repeat(100)}`)),
  },
  'ws-msg-1': { detail: 1, hook: 'websocket_message', flow: () => twebsocketflow() },
  'ws-msg-3': { detail: 3, hook: 'websocket_message', flow: () => twebsocketflow() },
  'ws-end-1': { detail: 1, hook: 'websocket_end', flow: () => twebsocketflow() },
  'ws-err-1': { detail: 1, hook: 'websocket_end', flow: () => twebsocketflow({ closeCode: 1006 }) },
  'ws-unknown-1': {
    detail: 1,
    hook: 'websocket_end',
    flow: () => twebsocketflow({ closeCode: 4000, closeReason: 'bye' }),
  },
  'tcp-msg-1': { detail: 1, hook: 'tcp_message', flow: () => ttcpflow() },
  'tcp-msg-3': { detail: 3, hook: 'tcp_message', flow: () => ttcpflow() },
  'tcp-err-1': { detail: 1, hook: 'tcp_error', flow: () => ttcpflow({ err: true }) },
  'dns-resp-1': { detail: 1, hook: 'dns_response', flow: () => tdnsflow({ resp: true }) },
  'dns-err-1': { detail: 1, hook: 'dns_error', flow: () => tdnsflow({ err: true }) },
  'filter-none': { detail: 1, hook: 'response', flow: http(), options: { dumper_filter: '~u nomatch' } },
  detail0: { detail: 0, hook: 'response', flow: http() },
};
for (const detail of [1, 2, 3, 4]) {
  CASES[`response-${detail}`] = { detail, hook: 'response', flow: http() };
  CASES[`error-${detail}`] = { detail, hook: 'error', flow: () => tflow({ err: true }) };
}

/**
 * Where mitmts follows current mitmproxy rather than 8.1.1: a missing body says "Content is
 * missing." and JSON keeps its key order (8.1.1 sorted keys).
 */
const CURRENT: Record<string, string> = {
  'missing-3': EXPECTED['missing-3']!.replace('    content missing\n', '    Content is missing.\n'),
  'json-3': EXPECTED['json-3']!.replace(
    '    {\n        "a": {\n            "x": null\n        },\n        "b": [\n            1,\n            2\n        ]\n    }\n',
    '    {\n        "b": [\n            1,\n            2\n        ],\n        "a": {\n            "x": null\n        }\n    }\n',
  ),
};

async function dump(c: Case, color = false): Promise<string> {
  const tctx = await withAddons([Dumper], { flow_detail: c.detail, ...c.options });
  const out = capture(tctx, color);
  await tctx.trigger(c.hook as 'response', c.flow() as never);
  return out.text();
}

function capture(tctx: TestContext, color = false): { text(): string } {
  const d = tctx.addon<Dumper>('dumper');
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (b: Buffer) => (text += b.toString('utf8')));
  d.out = stream;
  d.color = color;
  return { text: () => text };
}

describe('dumper output, line by line as mitmdump prints it', () => {
  let columns: string | undefined;
  beforeAll(() => {
    columns = process.env['COLUMNS'];
    process.env['COLUMNS'] = '80';
  });
  afterAll(() => {
    if (columns === undefined) delete process.env['COLUMNS'];
    else process.env['COLUMNS'] = columns;
  });

  it('covers every case of the fixture', () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.keys(EXPECTED))('%s', async (name) => {
    expect(await dump(CASES[name]!)).toBe(CURRENT[name] ?? EXPECTED[name]);
  });

  it('prints UDP messages and errors like TCP ones', async () => {
    expect(await dump({ detail: 1, hook: 'udp_message', flow: () => tudpflow() })).toBe(
      '127.0.0.1:22 <- udp <- address:22\n',
    );
    expect(await dump({ detail: 1, hook: 'udp_error', flow: () => tudpflow({ err: true }) })).toBe(
      'Error in UDP connection to address:22: error\n',
    );
  });

  it('prints the response code when a DNS answer is empty', async () => {
    const f = () => {
      const d = tdnsflow({ resp: true });
      d.response!.answers = [];
      d.response!.responseCode = 3;
      return d;
    };
    expect(await dump({ detail: 1, hook: 'dns_response', flow: f })).toBe(
      '127.0.0.1:22: DNS QUERY (A) dns.google\n << NXDOMAIN\n',
    );
  });

  it('cuts bodies at content_view_lines_cutoff lines at detail 3, not at 4', async () => {
    const body = () => http((f) => (f.response!.content = Buffer.from('l1\nl2\nl3\nl4\n')))();
    const three = await dump({ detail: 3, hook: 'response', flow: body, options: { content_view_lines_cutoff: 2 } });
    expect(three).toContain('\n    l1\n    l2\n    (cut off)\n\n');
    const four = await dump({ detail: 4, hook: 'response', flow: body, options: { content_view_lines_cutoff: 2 } });
    expect(four).toContain('\n    l1\n    l2\n    l3\n    l4\n\n');
    expect(four).not.toContain('cut off');
  });

  it('colours like mitmdump on a terminal', async () => {
    const out = await dump({ detail: 1, hook: 'response', flow: http() }, true);
    expect(out).toBe(
      '127.0.0.1:22: \x1b[32m\x1b[1mGET\x1b[0m \x1b[1mhttp://address:22/path\x1b[0m\n' +
        '          \x1b[1m <<\x1b[0m \x1b[32m\x1b[1m\x1b[25m200\x1b[0m \x1b[32m\x1b[1mOK\x1b[0m \x1b[1m7b\x1b[0m\n',
    );
    const err = await dump({ detail: 1, hook: 'error', flow: () => tflow({ err: true }) }, true);
    expect(err.split('\n')[1]).toBe('\x1b[31m\x1b[1m << error\x1b[0m');
  });

  it('uses the chosen content view', async () => {
    const f = http((f) => (f.response!.content = Buffer.from('AB')));
    expect(
      await dump({ detail: 3, hook: 'response', flow: f, options: { dumper_default_contentview: 'hex' } }),
    ).toContain(`\n    0000000000 ${'41 42'.padEnd(47)}   AB\n`);
    const bad = await dump({ detail: 3, hook: 'response', flow: f, options: { dumper_default_contentview: 'json' } });
    expect(bad).toContain("\n    Couldn't parse as json:\n");
  });

  it('decodes content-encoded bodies before showing them', async () => {
    const f = http((f) => {
      f.response!.headers.set('content-encoding', 'gzip');
      f.response!.content = Buffer.from('zipped text');
    });
    expect(await dump({ detail: 3, hook: 'response', flow: f })).toContain('\n    zipped text\n');
  });

  it('writes each event with one write', async () => {
    const tctx = await withAddons([Dumper], { flow_detail: 2 });
    const d = tctx.addon<Dumper>('dumper');
    const writes: string[] = [];
    d.out = { write: (s: string) => writes.push(s) } as unknown as NodeJS.WritableStream;
    await tctx.trigger('response', tflow({ resp: true }));
    expect(writes.length).toBe(1);
    expect(writes[0]!.split('\n').length).toBe(7);
  });

  it('rejects a bad dumper_filter naming the option', async () => {
    const tctx = await withAddons([Dumper]);
    expect(() => tctx.configure({ dumper_filter: '~nonsense' })).toThrow(/^Invalid dumper_filter "~nonsense": /);
    expect(() => tctx.configure({ dumper_default_contentview: 'nope' })).toThrow(/nope/);
  });
});

describe('dumper at flow_detail 0 (-q)', () => {
  it('leaves its flow hooks out of the chain, and puts them back when the detail rises (activeWhen)', async () => {
    const tctx = await withAddons([Dumper], { flow_detail: 0 });
    const hooks = ['response', 'websocket_message', 'tcp_message', 'dns_response'] as const;
    expect(hooks.filter((h) => tctx.kernel.addons.has(h))).toEqual([]);
    tctx.configure({ flow_detail: 1 });
    expect(hooks.filter((h) => tctx.kernel.addons.has(h))).toEqual(hooks);
  });
});
