import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { addon, command, createProxy, option } from '@mitmts/sdk';
import { withAddons } from '@mitmts/sdk/testing';
import { KeepServing } from '@mitmts/addon-keepserving';

/** Stands in for readfile: declares `rfile` and answers `readfile.reading`. */
@addon({ name: 'fakereader' })
class FakeReader {
  @option({ type: 'str?', default: null, help: 'Read flows from file.' }) rfile!: string | null;
  reading = true;
  @command('readfile.reading', { returns: 'bool' }) isReading(): boolean {
    return this.reading;
  }
}

/** Stands in for client replay: declares `client_replay` and answers `replay.client.count`. */
@addon({ name: 'fakereplay' })
class FakeReplay {
  @option({ type: 'str[]', default: [], help: 'Replay client requests from a saved file.' })
  client_replay!: readonly string[];
  count = 2;
  @command('replay.client.count', { returns: 'int' }) pending(): number {
    return this.count;
  }
}

/** Stands in for the web UI: declares `web`. */
@addon({ name: 'fakeweb' })
class FakeWeb {
  @option({ type: 'bool', default: false, help: 'Start the web UI.' }) web!: boolean;
}

/** The exit code asked for so far, or 'running'. */
function exitState(kernel: { whenExitRequested(): Promise<number> }): Promise<number | 'running'> {
  return Promise.race([kernel.whenExitRequested(), Promise.resolve('running' as const)]);
}

/**
 * The exit code asked for within `ms` of (fake) time, or 'running'. keepserving checks on a
 * timer: advancing fake timers runs exactly the checks that time would, with no real waiting.
 */
async function exitWithin(kernel: { whenExitRequested(): Promise<number> }, ms: number): Promise<number | 'running'> {
  await vi.advanceTimersByTimeAsync(ms);
  return exitState(kernel);
}

describe('keepserving', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }));
  afterEach(() => vi.useRealTimers());

  it('declares keepserving, off by default', async () => {
    const tctx = await withAddons([KeepServing]);
    expect(tctx.kernel.options.get('keepserving')).toBe(false);
    await tctx.done();
  });

  it('exits once the file is read', async () => {
    const tctx = await withAddons([FakeReader, KeepServing], { rfile: 'dump.mitm' });
    expect(await exitWithin(tctx.kernel, 300)).toBe('running');
    tctx.addon<FakeReader>('fakereader').reading = false;
    expect(await exitWithin(tctx.kernel, 3000)).toBe(0);
    await tctx.done();
  });

  it('keeps serving while the web UI is on, as mitmweb (the flows read are shown there)', async () => {
    const tctx = await withAddons([FakeReader, FakeWeb, KeepServing], { rfile: 'dump.mitm', web: true });
    tctx.addon<FakeReader>('fakereader').reading = false;
    expect(await exitWithin(tctx.kernel, 3000)).toBe('running');
    await tctx.done();
    // Turned on while reading: keepserving stops watching instead of exiting.
    const later = await withAddons([FakeReader, FakeWeb, KeepServing], { rfile: 'dump.mitm' });
    later.kernel.options.update({ web: true });
    later.addon<FakeReader>('fakereader').reading = false;
    expect(await exitWithin(later.kernel, 3000)).toBe('running');
    await later.done();
  });

  it('waits for client replay too', async () => {
    const tctx = await withAddons([FakeReader, FakeReplay, KeepServing], { client_replay: ['flows.mitm'] });
    tctx.addon<FakeReader>('fakereader').reading = false;
    expect(await exitWithin(tctx.kernel, 300)).toBe('running');
    tctx.addon<FakeReplay>('fakereplay').count = 0;
    expect(await exitWithin(tctx.kernel, 3000)).toBe(0);
    await tctx.done();
  });

  it('keeps running with keepserving set', async () => {
    const tctx = await withAddons([FakeReader, KeepServing], { rfile: 'dump.mitm', keepserving: true });
    tctx.addon<FakeReader>('fakereader').reading = false;
    expect(await exitWithin(tctx.kernel, 400)).toBe('running');
    await tctx.done();
  });

  it('keeps running when there is nothing to wait for (no rfile, no replay)', async () => {
    const tctx = await withAddons([FakeReader, KeepServing]);
    tctx.addon<FakeReader>('fakereader').reading = false;
    expect(await exitWithin(tctx.kernel, 400)).toBe('running');
    await tctx.done();
  });

  it('treats checks no addon provides as done', async () => {
    @addon({ name: 'rfileonly' })
    class RfileOnly {
      @option({ type: 'str?', default: null, help: 'Read flows from file.' }) rfile!: string | null;
    }
    const tctx = await withAddons([RfileOnly, KeepServing], { rfile: 'x' });
    expect(await tctx.addon<KeepServing>('keepserving').keepgoing()).toBe(false);
    expect(await exitWithin(tctx.kernel, 3000)).toBe(0);
    await tctx.done();
  });

  it('stops watching on done', async () => {
    const tctx = await withAddons([FakeReader, KeepServing], { rfile: 'dump.mitm' });
    await tctx.done();
    tctx.addon<FakeReader>('fakereader').reading = false;
    expect(await exitWithin(tctx.kernel, 400)).toBe('running');
  });
});

/** Resolves after keepserving has checked for work `n` more times (checking every 5 ms). */
function checks(ks: KeepServing, n: number): Promise<void> {
  ks.interval = 5;
  const check = ks.keepgoing.bind(ks);
  let seen = 0;
  return new Promise((resolve) => {
    ks.keepgoing = async () => {
      const busy = await check();
      if (++seen === n) resolve();
      return busy;
    };
  });
}

describe('keepserving with a running proxy', () => {
  it('waits for open client connections before exiting', async () => {
    const proxy = await createProxy({ addons: [FakeReader, KeepServing], options: { rfile: 'dump.mitm' } });
    try {
      const client = connect(proxy.port, proxy.host);
      await new Promise<void>((r) => client.once('connect', () => r()));
      const checked = checks(proxy.kernel.get<KeepServing>('keepserving')!, 3);
      proxy.kernel.get<FakeReader>('fakereader')!.reading = false;
      // A client is still connected: the proxy must not go away under it.
      await checked;
      expect(await exitState(proxy.kernel)).toBe('running');
      client.end();
      expect(await proxy.kernel.whenExitRequested()).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});
