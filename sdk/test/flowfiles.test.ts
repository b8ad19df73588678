import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandError, type Flow, FlowWriter, type HTTPFlow, OptionsError, withFlowFiles } from '@mitmts/sdk';
import { registerFlowFileFormat } from '@mitmts/sdk/formats';
import { tflow } from '@mitmts/sdk/testing';

const dir = mkdtempSync(join(tmpdir(), 'mitmts-flowfiles-'));

async function mitmFile(name: string, paths: string[]): Promise<string> {
  const file = join(dir, name);
  const w = new FlowWriter(file);
  for (const p of paths) {
    const f = tflow({ resp: true });
    f.request.path = p;
    w.add(f);
  }
  await w.close();
  return file;
}

const paths = (flows: readonly Flow[]): string[] => flows.map((f) => (f as HTTPFlow).request.path);

describe('withFlowFiles', () => {
  const home = process.env['HOME'];
  afterEach(() => {
    process.env['HOME'] = home;
  });

  it('reads every file (~ is the home directory) and hands all flows over before it returns', async () => {
    const a = await mitmFile('a.mitm', ['/a1', '/a2']);
    await mitmFile('b.mitm', ['/b']);
    process.env['HOME'] = dir;
    let got: string[] = [];
    const r = withFlowFiles([a, '~/b.mitm'], { option: 'client_replay' }, (flows) => void (got = paths(flows)));
    expect(r).toBeUndefined();
    expect(got).toEqual(['/a1', '/a2', '/b']);
  });

  it('fails the whole read with an error naming the option, or a command error, and uses nothing', async () => {
    const good = await mitmFile('good.mitm', ['/x']);
    const bad = join(dir, 'bad.mitm');
    writeFileSync(bad, 'garbage');
    let used = false;
    const use = (): void => void (used = true);
    expect(() => withFlowFiles([good, bad], { option: 'server_replay' }, use)).toThrow(OptionsError);
    expect(() => withFlowFiles([good, bad], { option: 'server_replay' }, use)).toThrow(
      /^server_replay: cannot read flows from .*bad\.mitm/,
    );
    const missing = join(dir, 'missing.mitm');
    expect(() => withFlowFiles([missing], { command: 'replay.server.file' }, use)).toThrow(CommandError);
    expect(() => withFlowFiles([missing], { command: 'replay.server.file' }, use)).toThrow(
      `cannot read flows from ${missing}`,
    );
    expect(used).toBe(false);
  });

  it('returns a promise for a format whose reader loads asynchronously, and reads once it loaded', async () => {
    let loaded = false;
    registerFlowFileFormat({
      name: 'flowfiles test format',
      magic: Buffer.from('MITMTS-FLOWFILES-TEST\0'),
      prepare: async () => void (loaded = true),
      open: () => {
        if (!loaded) throw new Error('read before prepare()');
        return { flows: () => [tflow({ resp: true })], close: () => undefined };
      },
    });
    const file = join(dir, 'lazy.test');
    writeFileSync(file, 'MITMTS-FLOWFILES-TEST\0rest');
    const plain = await mitmFile('plain.mitm', ['/plain']);
    let got: string[] = [];
    const r = withFlowFiles([plain, file], { option: 'client_replay' }, (flows) => void (got = paths(flows)));
    expect(r).toBeInstanceOf(Promise);
    expect(got).toEqual([]);
    await r;
    expect(got).toEqual(['/plain', '/path']);
  });
});
