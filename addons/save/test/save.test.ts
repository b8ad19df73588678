import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createProxy, FlowReader, type Flow } from '@mitmts/sdk';
import {
  requestVia,
  startOrigin,
  tdnsflow,
  tflow,
  ttcpflow,
  tudpflow,
  twebsocketflow,
  withAddons,
  type Origin,
} from '@mitmts/sdk/testing';
import { Save } from '@mitmts/addon-save';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'mitmts-save-'));

function read(path: string): Flow[] {
  return [...new FlowReader(path)];
}

describe('save: save_stream_file', () => {
  afterEach(() => vi.useRealTimers());

  it('writes each HTTP flow when it completes, creating missing directories', async () => {
    const dir = tmp();
    const path = join(dir, 'a/b/flows.mitm');
    const tctx = await withAddons([Save], { save_stream_file: path });
    expect(existsSync(path)).toBe(true);
    const f = tflow({ resp: true });
    await tctx.trigger('request', f);
    expect(read(path)).toEqual([]);
    await tctx.trigger('response', f);
    const e = tflow({ err: true });
    await tctx.trigger('error', e);
    expect(read(path).map((x) => x.id)).toEqual([f.id, e.id]);
    await tctx.done();
  });

  it('saves TCP, UDP and DNS flows when they end, WebSocket flows when the WebSocket ends', async () => {
    const path = join(tmp(), 'f.mitm');
    const tctx = await withAddons([Save], { save_stream_file: path });
    const ws = twebsocketflow();
    await tctx.trigger('response', ws);
    expect(read(path)).toEqual([]);
    await tctx.trigger('websocket_end', ws);
    const flows = [
      ttcpflow(),
      ttcpflow({ err: true }),
      tudpflow(),
      tudpflow({ err: true }),
      tdnsflow({ resp: true }),
      tdnsflow({ err: true }),
    ];
    await tctx.trigger('tcp_end', flows[0] as never);
    await tctx.trigger('tcp_error', flows[1] as never);
    await tctx.trigger('udp_end', flows[2] as never);
    await tctx.trigger('udp_error', flows[3] as never);
    await tctx.trigger('dns_response', flows[4] as never);
    await tctx.trigger('dns_error', flows[5] as never);
    const saved = read(path);
    expect(saved.map((x) => x.id)).toEqual([ws.id, ...flows.map((x) => x.id)]);
    expect(saved.map((x) => x.type)).toEqual(['http', 'tcp', 'tcp', 'udp', 'udp', 'dns', 'dns']);
    await tctx.done();
  });

  it('writes only flows matching save_stream_filter', async () => {
    const path = join(tmp(), 'f.mitm');
    const tctx = await withAddons([Save], { save_stream_file: path, save_stream_filter: '~c 404' });
    const ok = tflow({ resp: true });
    const missing = tflow({ resp: true });
    missing.response!.statusCode = 404;
    await tctx.trigger('response', ok);
    await tctx.trigger('response', missing);
    expect(read(path).map((x) => x.id)).toEqual([missing.id]);
    tctx.configure({ save_stream_filter: null });
    await tctx.trigger('response', ok);
    expect(read(path).map((x) => x.id)).toEqual([missing.id, ok.id]);
    await tctx.done();
  });

  it('replaces the file, or appends with +path', async () => {
    const path = join(tmp(), 'f.mitm');
    for (const spec of [path, `+${path}`]) {
      const tctx = await withAddons([Save], { save_stream_file: spec });
      await tctx.trigger('response', tflow({ resp: true }));
      await tctx.done();
    }
    expect(read(path).length).toBe(2);
    const tctx = await withAddons([Save], { save_stream_file: path });
    await tctx.done();
    expect(read(path).length).toBe(0);
  });

  it('opens a new file when the strftime-formatted name changes', async () => {
    const dir = tmp();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(2024, 0, 7, 15, 4));
    const tctx = await withAddons([Save], { save_stream_file: join(dir, '%Y-%m-%d/%H%M.mitm') });
    await tctx.trigger('response', tflow({ resp: true }));
    await tctx.trigger('response', tflow({ resp: true }));
    vi.setSystemTime(new Date(2024, 0, 7, 15, 5));
    await tctx.trigger('response', tflow({ resp: true }));
    vi.setSystemTime(new Date(2024, 0, 8, 0, 0));
    await tctx.trigger('response', tflow({ resp: true }));
    await tctx.done();
    expect(read(join(dir, '2024-01-07/1504.mitm')).length).toBe(2);
    expect(read(join(dir, '2024-01-07/1505.mitm')).length).toBe(1);
    expect(read(join(dir, '2024-01-08/0000.mitm')).length).toBe(1);
  });

  it('writes the flows still in progress on shutdown', async () => {
    const path = join(tmp(), 'f.mitm');
    const tctx = await withAddons([Save], { save_stream_file: path });
    const f = tflow();
    const t = ttcpflow();
    await tctx.trigger('request', f);
    await tctx.trigger('tcp_start', t);
    await tctx.done();
    expect(read(path).map((x) => x.id)).toEqual([f.id, t.id]);
  });

  it('moves to the new file when the option changes, and stops when it is unset', async () => {
    const dir = tmp();
    const tctx = await withAddons([Save], { save_stream_file: join(dir, 'one.mitm') });
    await tctx.trigger('response', tflow({ resp: true }));
    tctx.configure({ save_stream_file: join(dir, 'two.mitm') });
    await tctx.trigger('response', tflow({ resp: true }));
    tctx.configure({ save_stream_file: null });
    await tctx.trigger('response', tflow({ resp: true }));
    expect(read(join(dir, 'one.mitm')).length).toBe(1);
    expect(read(join(dir, 'two.mitm')).length).toBe(1);
    await tctx.done();
  });

  it('does nothing without save_stream_file: keeps no flow, writes nothing, logs no error', async () => {
    const tctx = await withAddons([Save]);
    // Unsaved: a flow completed and one still in progress (those are written on shutdown).
    const completed = tflow({ resp: true });
    await tctx.trigger('response', completed);
    const unfinished = tflow();
    await tctx.trigger('requestheaders', unfinished);
    const path = join(tmp(), 'from-now.mitm');
    tctx.configure({ save_stream_file: path });
    const saved = tflow({ resp: true });
    await tctx.trigger('response', saved);
    await tctx.done();
    expect(read(path).map((f) => f.id)).toEqual([saved.id]);
    expect(tctx.messages('error')).toEqual([]);
  });

  it('rejects a bad filter and an unusable path, keeping the previous state', async () => {
    const dir = tmp();
    const path = join(dir, 'f.mitm');
    const tctx = await withAddons([Save], { save_stream_file: path });
    expect(() => tctx.configure({ save_stream_filter: '~bogus' })).toThrow(/^Invalid save_stream_filter "~bogus": /);
    const blocker = join(dir, 'file');
    writeFileSync(blocker, '');
    expect(() => tctx.configure({ save_stream_file: join(blocker, 'x.mitm') })).toThrow(
      `Cannot open save_stream_file ${join(blocker, 'x.mitm')}: `,
    );
    await tctx.trigger('response', tflow({ resp: true }));
    expect(read(path).length).toBe(1);
    await tctx.done();
  });

  it('asks to exit when a flow cannot be written (a full disk: /dev/full)', async () => {
    const path = '/dev/full';
    const tctx = await withAddons([Save], { save_stream_file: path });
    await tctx.trigger('response', tflow({ resp: true }));
    expect(await tctx.kernel.whenExitRequested()).toBe(1);
    expect(tctx.messages('error').join('\n')).toMatch(/^Error while writing to \/dev\/full: .*ENOSPC/m);
    await tctx.done();
  });
});

describe('save: the save.file command', () => {
  it('saves the given flows, appending with +path', async () => {
    const path = join(tmp(), 'cmd.mitm');
    const tctx = await withAddons([Save]);
    const flows = [tflow({ resp: true }), tflow({ err: true })];
    await tctx.call('save.file', flows, path);
    expect(tctx.messages('alert')).toEqual(['Saved 2 flows.']);
    await tctx.call('save.file', flows.slice(0, 1), `+${path}`);
    expect(read(path).map((f) => f.id)).toEqual([flows[0]!.id, flows[1]!.id, flows[0]!.id]);
    await tctx.call('save.file', [], path);
    expect(statSync(path).size).toBe(0);
  });

  it('takes a flow spec on the command line', async () => {
    const path = join(tmp(), 'cmd.mitm');
    const tctx = await withAddons([Save]);
    const a = tflow({ resp: true });
    const b = tflow({ resp: true });
    b.request.path = '/other';
    tctx.kernel.flows.add(a);
    tctx.kernel.flows.add(b);
    await tctx.command(`save.file "~u /other" ${path}`);
    expect(read(path).map((f) => f.id)).toEqual([b.id]);
  });

  it('reports a path it cannot write as a command error', async () => {
    const dir = tmp();
    const tctx = await withAddons([Save]);
    await expect(tctx.call('save.file', [tflow()], join(dir, 'missing/dir/x.mitm'))).rejects.toThrow(
      /^Cannot save flows to .*missing\/dir\/x\.mitm: ENOENT/,
    );
  });
});

describe('save through a running proxy', () => {
  let origin: Origin;
  beforeAll(async () => {
    origin = await startOrigin((_req, res) => res.end('hello'));
  });
  afterAll(() => origin.close());

  it('streams the proxied flows to the file as they complete', async () => {
    const path = join(tmp(), 'live.mitm');
    const proxy = await createProxy({ addons: [Save], options: { save_stream_file: path } });
    try {
      for (const p of ['/one', '/two']) await requestVia(proxy, `${origin.url}${p}`);
      // Written before close: no buffering in between.
      const flows = read(path) as Array<Flow & { request: { path: string }; response: { content: Buffer } }>;
      expect(flows.map((f) => f.request.path)).toEqual(['/one', '/two']);
      expect(flows[0]!.response.content.toString()).toBe('hello');
    } finally {
      await proxy.close();
    }
    expect(readFileSync(path).length).toBeGreaterThan(0);
  });
});
