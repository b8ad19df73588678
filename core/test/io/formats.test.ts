/** Flow file formats added by packages (the store's SQLite files): found by magic, read like .mitm. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Filter } from '../../src/filter/filter.js';
import { parseFilter } from '../../src/filter/filter.js';
import { tflow, ttcpflow } from '../../src/flow/testing.js';
import type { Flow } from '../../src/flow/flow.js';
import {
  flowFileFormatOf,
  prepareFlowFile,
  registerFlowFileFormat,
  type FlowFileFormat,
} from '../../src/io/formats.js';
import { FlowReader, readStates } from '../../src/io/reader.js';
import { FLOWS_MITM } from './fixtures.js';

const MAGIC = Buffer.from('FAKEFMT\0');
const flows: Flow[] = [tflow({ resp: true }), ttcpflow(), tflow({ err: true })];
const seen: Array<string | null> = [];
let closed = 0;

/** A format that holds `flows` whatever the file says, and records the filter it was given. */
const fake: FlowFileFormat = {
  name: 'fake',
  magic: MAGIC,
  open: () => ({
    *flows(filter: Filter | null) {
      seen.push(filter ? filter.pattern : null);
      for (const f of flows) if (!filter || filter.match(f)) yield f;
    },
    close: () => void closed++,
  }),
};

function fakeFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mitmts-formats-')), 'x.fake');
  writeFileSync(path, Buffer.concat([MAGIC, Buffer.from('anything')]));
  return path;
}

describe('registered flow file formats', () => {
  it('are found by their magic; other files are not theirs', () => {
    const path = fakeFile();
    expect(flowFileFormatOf(path)).toBeUndefined();
    registerFlowFileFormat(fake);
    expect(flowFileFormatOf(path)).toBe(fake);
    expect(flowFileFormatOf(FLOWS_MITM)).toBeUndefined();
    expect(flowFileFormatOf(join(tmpdir(), 'no-such-file.fake'))).toBeUndefined();
  });

  it('are read by FlowReader, sync and async, with the filter handed to them', async () => {
    registerFlowFileFormat(fake);
    const path = fakeFile();
    expect([...new FlowReader(path)]).toEqual(flows);
    const got: Flow[] = [];
    for await (const f of new FlowReader(path, { filter: parseFilter('~tcp') })) got.push(f);
    expect(got).toEqual([flows[1]]);
    expect(seen.at(-1)).toBe('~tcp');
    const states = [];
    for await (const s of readStates(path)) states.push(s);
    expect(states).toEqual(flows.map((f) => f.getState()));
    expect(closed).toBeGreaterThanOrEqual(3);
  });

  it('a format that loads its code lazily: async readers prepare it, sync readers after prepareFlowFile', async () => {
    let loaded = false;
    const magic = Buffer.from('LAZYFMT\0');
    registerFlowFileFormat({
      name: 'lazy',
      magic,
      prepare: async () => void (loaded = true),
      open: () => {
        if (!loaded) throw new Error('not prepared');
        return { flows: () => flows, close: () => undefined };
      },
    });
    const path = join(mkdtempSync(join(tmpdir(), 'mitmts-formats-')), 'x.lazy');
    writeFileSync(path, magic);
    expect(() => [...new FlowReader(path)]).toThrow('not prepared');
    expect(await prepareFlowFile(FLOWS_MITM)).toBe(false);
    expect(await prepareFlowFile(path)).toBe(true);
    expect([...new FlowReader(path)]).toEqual(flows);
  });

  it('FlowReader applies its filter to .mitm files too', () => {
    const all = [...new FlowReader(FLOWS_MITM)];
    const posts = [...new FlowReader(FLOWS_MITM, { filter: parseFilter('~m POST') })];
    expect(posts.length).toBeGreaterThan(0);
    expect(posts.map((f) => f.id)).toEqual(all.filter((f) => parseFilter('~m POST').match(f)).map((f) => f.id));
  });

  it("are imported from the distribution's flowFormats before `mitmts flows` runs", async () => {
    const path = fakeFile();
    const imported: string[] = [];
    const dist = {
      name: 't',
      version: '1',
      addons: [],
      flowFormats: ['fake-format-package'],
      importer: async (spec: string) => {
        imported.push(spec);
        registerFlowFileFormat(fake);
        return {};
      },
    };
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await main(['flows', path, '~tcp', '--fields', 'type'], dist, {
      stdout,
      stderr: new PassThrough(),
      signals: false,
    });
    expect(code).toBe(0);
    expect(imported).toEqual(['fake-format-package']);
    expect(out).toBe('{"type":"tcp"}\n');
  });

  it('a flowFormats module that fails to load is a clear error', async () => {
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    const dist = {
      name: 't',
      version: '1',
      addons: [],
      flowFormats: ['broken'],
      importer: async () => Promise.reject(new Error('boom')),
    };
    expect(await main(['flows', FLOWS_MITM], dist, { stdout: new PassThrough(), stderr, signals: false })).toBe(1);
    expect(err).toBe('mitmts flows: Cannot load flow format package broken: boom\n');
  });
});
