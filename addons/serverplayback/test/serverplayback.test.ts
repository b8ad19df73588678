import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  CommandError,
  createProxy,
  FlowWriter,
  HTTPHeaders,
  HTTPFlow,
  OptionsError,
  HTTPRequest,
  HTTPResponse,
  type EmbeddedProxy,
} from '@mitmts/sdk';
import { requestVia, tflow, withAddons, type TestContext } from '@mitmts/sdk/testing';
import { ServerPlayback } from '../src/index.js';

function recorded(
  method: string,
  url: string,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): HTTPFlow {
  return tflow({
    req: HTTPRequest.make(method, url),
    resp: HTTPResponse.make(status, body, new HTTPHeaders(Object.entries(headers))),
  });
}

function flowFile(...flows: HTTPFlow[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mitmts-sp-')), 'rec.mitm');
  const w = new FlowWriter(path);
  for (const f of flows) w.add(f);
  w.close();
  return path;
}

const live = (method: string, url: string): HTTPFlow => {
  const f = tflow({ req: HTTPRequest.make(method, url) });
  f.live = true;
  return f;
};

async function replaying(options: Record<string, unknown>): Promise<TestContext> {
  return withAddons([ServerPlayback], options);
}

describe('serverplayback (unit)', () => {
  const file = flowFile(
    recorded('GET', 'http://example.com/a', 200, 'first a'),
    recorded('GET', 'http://example.com/a', 200, 'second a'),
    recorded('GET', 'http://example.com/b', 201, 'b'),
  );

  it('does nothing without recorded flows', async () => {
    const tctx = await replaying({});
    const f = live('GET', 'http://example.com/a');
    await tctx.trigger('request', f);
    expect(f.response).toBeNull();
    expect(await tctx.call('replay.server.count')).toBe(0);
  });

  it('answers matching requests in recorded order, each response once, and forwards the rest', async () => {
    const tctx = await replaying({ server_replay: [file] });
    expect(await tctx.call('replay.server.count')).toBe(3);
    const bodies: Array<string | null> = [];
    for (const url of [
      'http://example.com/a',
      'http://example.com/a',
      'http://example.com/a',
      'http://example.com/c',
    ]) {
      const f = live('GET', url);
      await tctx.trigger('request', f);
      bodies.push(f.response?.text ?? null);
      if (f.response) expect(f.isReplay).toBe('response');
    }
    expect(bodies).toEqual(['first a', 'second a', null, null]);
    expect(await tctx.call('replay.server.count')).toBe(1);
  });

  it('serves the same response again with server_replay_reuse (and the deprecated nopop)', async () => {
    for (const opt of ['server_replay_reuse', 'server_replay_nopop']) {
      const tctx = await replaying({ server_replay: [file], [opt]: true });
      for (let i = 0; i < 3; i++) {
        const f = live('GET', 'http://example.com/a');
        await tctx.trigger('request', f);
        expect(f.response?.text).toBe('first a');
      }
      expect(await tctx.call('replay.server.count')).toBe(3);
    }
  });

  it.each([
    ['kill', (f: HTTPFlow) => expect(f.error?.msg).toBe('Connection killed.')],
    [
      '404',
      (f: HTTPFlow) =>
        expect([f.response?.statusCode, f.response?.rawContent?.length, f.isReplay]).toEqual([404, 0, 'response']),
    ],
    ['forward', (f: HTTPFlow) => expect([f.response, f.error]).toEqual([null, null])],
  ] as const)('handles requests without a recording with server_replay_extra=%s', async (extra, check) => {
    const tctx = await replaying({ server_replay: [file], server_replay_extra: extra });
    const f = live('GET', 'http://example.com/unknown');
    await tctx.trigger('request', f);
    check(f);
    if (extra !== 'forward')
      expect(
        tctx.hasLog(/server_playback: (killed|returned 404) non-replay request http:\/\/example.com\/unknown/, 'warn'),
      ).toBe(true);
  });

  it('kills with the deprecated server_replay_kill_extra, and says it is deprecated', async () => {
    const tctx = await replaying({ server_replay: [file], server_replay_kill_extra: true });
    expect(
      tctx.hasLog(
        "server_replay_kill_extra has been deprecated, please update your config to use server_replay_extra='kill'",
        'warn',
      ),
    ).toBe(true);
    const f = live('GET', 'http://example.com/unknown');
    await tctx.trigger('request', f);
    expect(f.error?.msg).toBe('Connection killed.');
  });

  it('refreshes Date and cookie expiry unless server_replay_refresh is off', async () => {
    const old = 'Wed, 21 Oct 2015 07:28:00 GMT';
    const f0 = recorded('GET', 'http://example.com/d', 200, 'd', { date: old, 'set-cookie': `a=b; Expires=${old}` });
    f0.response!.timestampStart = Date.parse(old) / 1000;
    const rec = flowFile(f0);
    for (const refresh of [true, false]) {
      const tctx = await replaying({ server_replay: [rec], server_replay_refresh: refresh });
      const f = live('GET', 'http://example.com/d');
      await tctx.trigger('request', f);
      const date = Date.parse(f.response!.headers.get('date')!);
      if (refresh) expect(Math.abs(date - Date.now())).toBeLessThan(60_000);
      else expect(f.response!.headers.get('date')).toBe(old);
      expect(f.response!.headers.get('set-cookie')!.includes(old)).toBe(!refresh);
    }
  });

  it('keys the flows again when a matching option changes', async () => {
    const tctx = await replaying({ server_replay: [file] });
    tctx.configure({ server_replay_ignore_host: true });
    const f = live('GET', 'http://other.example/b');
    await tctx.trigger('request', f);
    expect(f.response?.statusCode).toBe(201);
  });

  it('matches listed headers with server_replay_use_headers', async () => {
    const a = recorded('GET', 'http://example.com/h', 200, 'json');
    a.request.headers.set('accept', 'application/json');
    const tctx = await replaying({ server_replay: [flowFile(a)], server_replay_use_headers: ['accept'] });
    const html = live('GET', 'http://example.com/h');
    html.request.headers.set('accept', 'text/html');
    await tctx.trigger('request', html);
    expect(html.response).toBeNull();
    const json = live('GET', 'http://example.com/h');
    json.request.headers.set('accept', 'application/json');
    await tctx.trigger('request', json);
    expect(json.response?.text).toBe('json');
  });

  it('commands: replay.server replaces, replay.server.add adds, replay.server.stop clears, replay.server.file loads', async () => {
    const tctx = await replaying({});
    await tctx.call('replay.server', [recorded('GET', 'http://x/1', 200, '1'), tflow()]);
    expect(await tctx.call('replay.server.count')).toBe(1);
    await tctx.call('replay.server.add', [recorded('GET', 'http://x/2', 200, '2')]);
    expect(await tctx.call('replay.server.count')).toBe(2);
    await tctx.call('replay.server', [recorded('GET', 'http://x/3', 200, '3')]);
    expect(await tctx.call('replay.server.count')).toBe(1);
    await tctx.command(`replay.server.file ${file}`);
    expect(await tctx.call('replay.server.count')).toBe(3);
    await tctx.command('replay.server.stop');
    expect(await tctx.call('replay.server.count')).toBe(0);
  });

  it('refuses a file it cannot read: the option is an error, the command a command error', async () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'mitmts-sp-')), 'bad.mitm');
    writeFileSync(bad, 'this is no flow file');
    const missing = join(tmpdir(), 'mitmts-no-such-dir', 'rec.mitm');
    await expect(replaying({ server_replay: [missing] })).rejects.toThrow(OptionsError);
    await expect(replaying({ server_replay: [missing] })).rejects.toThrow(
      `server_replay: cannot read flows from ${missing}`,
    );
    const tctx = await replaying({ server_replay: [file] });
    expect(() => tctx.configure({ server_replay: [bad] })).toThrow(/server_replay: cannot read flows from .*bad\.mitm/);
    expect(await tctx.call('replay.server.count')).toBe(3);
    await expect(tctx.command(`replay.server.file ${bad}`)).rejects.toThrow(CommandError);
  });

  it('declares mitmproxy options with their defaults', async () => {
    const tctx = await replaying({});
    const o = tctx.kernel.options;
    expect(o.info('server_replay_extra').choices).toEqual(['forward', 'kill', '204', '400', '404', '500']);
    expect([o.get('server_replay'), o.get('server_replay_refresh'), o.get('server_replay_reuse')]).toEqual([
      [],
      true,
      false,
    ]);
  });
});

describe('serverplayback (end to end)', () => {
  let proxy: EmbeddedProxy;
  beforeAll(async () => {
    // The recorded server does not exist: port 9 on loopback (discard) refuses connections.
    const rec = flowFile(
      recorded('GET', 'http://127.0.0.1:9/page', 200, 'recorded page', { 'content-type': 'text/plain' }),
    );
    proxy = await createProxy({
      addons: [ServerPlayback],
      options: { server_replay: [rec], server_replay_extra: '404' },
    });
  });
  afterAll(() => proxy.close());

  const get = async (path: string): Promise<{ status: number; body: string }> => {
    const r = await requestVia(proxy, `http://127.0.0.1:9${path}`);
    return { status: r.status, body: r.body.toString() };
  };

  it('serves the recorded response without a server, then the extra status', async () => {
    expectTypeOf(proxy.command('replay.server.count')).resolves.toEqualTypeOf<number>();
    expect(await proxy.command('replay.server.count')).toBe(1);
    expect(await get('/page')).toEqual({ status: 200, body: 'recorded page' });
    expect(await proxy.command('replay.server.count')).toBe(0);
    // Nothing left to serve: as in mitmproxy, server_replay_extra applies only while flows remain.
    await proxy.command('replay.server.file', proxy.kernel.options.get<string[]>('server_replay')[0]!);
    expect(await get('/other')).toEqual({ status: 404, body: '' });
  });
});
