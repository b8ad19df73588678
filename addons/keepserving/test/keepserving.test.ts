import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
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
  @option({ type: 'str[]', default: [], help: 'Replay client requests from a saved file.' }) client_replay!: readonly string[];
  count = 2;
  @command('replay.client.count', { returns: 'int' }) pending(): number {
    return this.count;
  }
}

/** Resolves with the exit code, or 'running' if none was requested within `ms`. */
function exitWithin(kernel: { whenExitRequested(): Promise<number> }, ms: number): Promise<number | 'running'> {
  return Promise.race([kernel.whenExitRequested(), new Promise<'running'>((r) => setTimeout(() => r('running'), ms))]);
}

describe('keepserving', () => {
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

describe('keepserving with a running proxy', () => {
  it('waits for open client connections before exiting', async () => {
    const proxy = await createProxy({ addons: [FakeReader, KeepServing], options: { rfile: 'dump.mitm' } });
    try {
      const client = connect(proxy.port, proxy.host);
      await new Promise<void>((r) => client.once('connect', () => r()));
      proxy.kernel.get<FakeReader>('fakereader')!.reading = false;
      // A client is still connected: the proxy must not go away under it.
      expect(await exitWithin(proxy.kernel, 400)).toBe('running');
      client.end();
      expect(await exitWithin(proxy.kernel, 3000)).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});
