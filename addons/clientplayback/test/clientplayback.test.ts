// The addon through the SDK harness (no sockets): the proxy runtime's client replay is a fake
// registered in the kernel, so queueing, concurrency, stop, the checks and the options are
// tested on their own. The wire is in clientplayback.e2e.test.ts and test/replay/.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_REPLAY,
  CommandError,
  FlowWriter,
  Kernel,
  OptionsError,
  HTTPRequest,
  type ClientReplay,
  type Flow,
  type HTTPFlow,
} from '@mitmts/sdk';
import { tflow, ttcpflow, twebsocketflow, withAddons, TestContext } from '@mitmts/sdk/testing';
import { ClientPlayback, replayProblem } from '../src/index.js';

/** Stands in for the runtime: records what it was asked to replay; each replay ends on `finish`. */
class FakeReplay implements ClientReplay {
  readonly started: HTTPFlow[] = [];
  private readonly ends = new Map<HTTPFlow, (err?: Error) => void>();

  replay(flow: HTTPFlow): Promise<void> {
    flow.live = true;
    this.started.push(flow);
    return new Promise((resolve, reject) =>
      this.ends.set(flow, (err) => {
        flow.live = false;
        if (err) return reject(err);
        flow.response = tflow({ resp: true }).response;
        resolve();
      }),
    );
  }

  /** End the replay of `flow` (with a rejection, as a runtime bug would). */
  async finish(flow: HTTPFlow, err?: Error): Promise<void> {
    this.ends.get(flow)!(err);
    await new Promise((r) => setImmediate(r));
  }
}

/** A kernel with the addon and a fake runtime (registered before start, as ProxyServer does). */
async function playback(
  options: Record<string, unknown> = {},
  opts: { running?: boolean; runtime?: boolean } = {},
): Promise<{ tctx: TestContext; fake: FakeReplay }> {
  const kernel = new Kernel();
  const fake = new FakeReplay();
  if (opts.runtime !== false) kernel.container.registerInstance(CLIENT_REPLAY, fake);
  const tctx = new TestContext(kernel);
  await kernel.add(ClientPlayback);
  kernel.options.update(options, { defer: true });
  await kernel.start({ running: opts.running ?? true });
  return { tctx, fake };
}

/** A recorded flow as read from a file: a response, not live. */
function recorded(path = '/a'): HTTPFlow {
  const f = tflow({ req: HTTPRequest.make('POST', `http://example.com${path}`, 'body'), resp: true });
  f.live = false;
  return f;
}

function flowFile(...flows: Flow[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mitmts-cp-')), 'rec.mitm');
  const w = new FlowWriter(path);
  for (const f of flows) w.add(f);
  w.close();
  return path;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("replayProblem (mitmproxy's checks)", () => {
  const live = recorded();
  live.live = true;
  const held = recorded();
  held.intercepted = true;
  const streamed = recorded();
  streamed.request.rawContent = null;
  const ws = twebsocketflow();
  ws.live = false;
  const tcp = ttcpflow();
  tcp.live = false;
  it.each([
    ['a recorded HTTP flow', recorded(), null],
    ['a live flow', live, "Can't replay live flow."],
    ['an intercepted flow', held, "Can't replay intercepted flow."],
    ['a TCP flow', tcp, 'Can only replay HTTP flows.'],
    ['a request body that was not recorded', streamed, "Can't replay flow with missing content."],
    ['a WebSocket flow', ws, "Can't replay WebSocket flows."],
  ] as const)('%s', (_what, flow, expected) => {
    expect(replayProblem(flow)).toBe(expected);
  });
});

describe('clientplayback (unit)', () => {
  it('queues flows: marked as replays, response and error cleared, a backup taken; update fires', async () => {
    const { tctx, fake } = await playback();
    const updated: Flow[][] = [];
    await tctx.kernel.add({ name: 'watch', update: (flows: Flow[]) => void updated.push(flows) });
    const f = recorded();
    const before = f.response!.text;
    await tctx.call('replay.client', [f]);
    expect(fake.started).toEqual([f]);
    expect([f.isReplay, f.error]).toEqual(['request', null]);
    expect(updated).toContainEqual([f]);
    await fake.finish(f);
    expect(await tctx.call('replay.client.count')).toBe(0);
    f.revert();
    expect([f.isReplay, f.response!.text]).toEqual([null, before]);
  });

  it('skips flows it cannot replay, each with a warning naming it', async () => {
    const { tctx, fake } = await playback();
    const live = recorded('/live');
    live.live = true;
    const tcp = ttcpflow();
    tcp.live = false;
    await tctx.call('replay.client', [live, tcp, recorded('/ok')]);
    expect(fake.started.map((f) => f.request.path)).toEqual(['/ok']);
    expect(tctx.hasLog("Can't replay live flow. (POST http://example.com/live)", 'warn')).toBe(true);
    expect(tctx.hasLog(/Can only replay HTTP flows\. \(tcp flow /, 'warn')).toBe(true);
    expect(live.isReplay).toBeNull();
  });

  it('replays one at a time with client_replay_concurrency 1 (the default); count includes the one under way', async () => {
    const { tctx, fake } = await playback();
    const [a, b, c] = [recorded('/1'), recorded('/2'), recorded('/3')];
    await tctx.call('replay.client', [a, b, c]);
    expect(fake.started).toEqual([a]);
    expect(await tctx.call('replay.client.count')).toBe(3);
    await fake.finish(a);
    expect(fake.started).toEqual([a, b]);
    expect(await tctx.call('replay.client.count')).toBe(2);
    await fake.finish(b);
    await fake.finish(c);
    expect(await tctx.call('replay.client.count')).toBe(0);
  });

  it.each([
    [-1, 5],
    [2, 2],
  ])('client_replay_concurrency %i runs %i of 5 at once', async (n, atOnce) => {
    const { tctx, fake } = await playback({ client_replay_concurrency: n });
    const flows = [1, 2, 3, 4, 5].map((i) => recorded(`/${i}`));
    await tctx.call('replay.client', flows);
    expect(fake.started).toHaveLength(atOnce);
    for (let under = fake.started.find((f) => f.live); under; under = fake.started.find((f) => f.live)) {
      expect(fake.started.filter((f) => f.live).length).toBeLessThanOrEqual(atOnce);
      await fake.finish(under);
    }
    expect(fake.started).toEqual(flows);
  });

  it('raising client_replay_concurrency starts waiting flows at once', async () => {
    const { tctx, fake } = await playback();
    await tctx.call('replay.client', [recorded('/1'), recorded('/2'), recorded('/3')]);
    expect(fake.started).toHaveLength(1);
    tctx.configure({ client_replay_concurrency: -1 });
    expect(fake.started).toHaveLength(3);
  });

  it.each([0, -2])('refuses client_replay_concurrency %i with an options error', async (n) => {
    const { tctx } = await playback();
    expect(() => tctx.configure({ client_replay_concurrency: n })).toThrow(OptionsError);
    expect(() => tctx.configure({ client_replay_concurrency: n })).toThrow(
      `client_replay_concurrency must be -1 (no limit) or a number of requests at once (1 or more), got ${n}.`,
    );
  });

  it('replays the files of client_replay once running, adding their flows to the flow store', async () => {
    const file = flowFile(recorded('/x'), recorded('/y'));
    const { tctx, fake } = await playback({ client_replay: [file], client_replay_concurrency: -1 }, { running: false });
    expect(fake.started).toEqual([]);
    expect(await tctx.call('replay.client.count')).toBe(2);
    await tctx.trigger('running');
    expect(fake.started.map((f) => f.request.path)).toEqual(['/x', '/y']);
    expect(tctx.kernel.flows.all()).toEqual(fake.started);
  });

  it('does not add a flow the store holds already (one replayed from the UI) a second time', async () => {
    const { tctx, fake } = await playback();
    const [a, b] = [recorded('/a'), recorded('/b')];
    tctx.kernel.flows.add(a);
    tctx.kernel.flows.add(b);
    await tctx.call('replay.client', [a]);
    await fake.finish(a);
    expect(tctx.kernel.flows.all()).toEqual([a, b]);
  });

  it('refuses a missing or damaged file: an options error naming it at start-up, a command error at run time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mitmts-cp-'));
    const missing = join(dir, 'nope.mitm');
    await expect(playback({ client_replay: [missing] })).rejects.toThrow(
      `client_replay: cannot read flows from ${missing}`,
    );
    const bad = join(dir, 'bad.mitm');
    writeFileSync(bad, 'not a flow file');
    const { tctx, fake } = await playback();
    expect(() => tctx.configure({ client_replay: [bad] })).toThrow(
      /client_replay: cannot read flows from .*bad\.mitm: .*not a tnetstring/,
    );
    await expect(tctx.call('replay.client.file', bad)).rejects.toThrow(CommandError);
    expect(fake.started).toEqual([]);
  });

  it("replay.client.file queues a file's flows", async () => {
    const { tctx, fake } = await playback();
    await tctx.call('replay.client.file', flowFile(recorded('/f')));
    expect(fake.started.map((f) => f.request.path)).toEqual(['/f']);
  });

  it('replay.client.stop clears the queue, reverting the flows that had not started; the one under way finishes', async () => {
    const { tctx, fake } = await playback();
    const [a, b] = [recorded('/a'), recorded('/b')];
    await tctx.call('replay.client', [a, b]);
    await tctx.call('replay.client.stop');
    expect(tctx.hasLog('Client replay queue cleared.', 'alert')).toBe(true);
    expect([b.isReplay, b.response!.statusCode]).toEqual([null, 200]);
    expect(await tctx.call('replay.client.count')).toBe(1);
    await fake.finish(a);
    expect(fake.started).toEqual([a]);
    expect(await tctx.call('replay.client.count')).toBe(0);
  });

  it('a replay that fails (a runtime bug) is logged and put on the flow; the queue goes on', async () => {
    const { tctx, fake } = await playback();
    const [a, b] = [recorded('/a'), recorded('/b')];
    await tctx.call('replay.client', [a, b]);
    await fake.finish(a, new Error('boom'));
    expect(a.error!.msg).toBe('Client replay of POST http://example.com/a failed: boom');
    expect(tctx.hasLog('Client replay of POST http://example.com/a failed: boom', 'error')).toBe(true);
    expect(fake.started).toEqual([a, b]);
  });

  it('without a proxy runtime each flow fails with a message that says so', async () => {
    const { tctx } = await playback({}, { runtime: false });
    const f = recorded();
    await tctx.call('replay.client', [f]);
    await tick();
    expect(f.error!.msg).toMatch(/client replay needs the proxy runtime \(ProxyServer\)/);
    expect(f.live).toBe(false);
    expect(await tctx.call('replay.client.count')).toBe(0);
  });

  it('at shutdown the queue is dropped and nothing new starts', async () => {
    const { tctx, fake } = await playback();
    const [a, b] = [recorded('/a'), recorded('/b')];
    await tctx.call('replay.client', [a, b]);
    await tctx.done();
    await fake.finish(a);
    expect(fake.started).toEqual([a]);
  });

  it('does nothing without flows (the defaults)', async () => {
    const tctx = await withAddons([ClientPlayback]);
    expect(tctx.kernel.options.get('client_replay')).toEqual([]);
    expect(tctx.kernel.options.get('client_replay_concurrency')).toBe(1);
    expect(await tctx.call('replay.client.count')).toBe(0);
    await tctx.call('replay.client.stop');
  });
});
