/** Bad input: truncated, corrupt, too new, empty; every complete flow first, then a coded error. */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  encodeFlowState,
  FlowReadError,
  FlowReadErrorCode,
  FlowReader,
  readStates,
  tnetstring,
} from '../../src/io/index.js';
import { FLOWS_MITM } from './fixtures.js';

const bytes = readFileSync(FLOWS_MITM);

/** Byte offsets where each record starts, plus the end. */
function boundaries(buf: Buffer): number[] {
  const out = [0];
  while (out[out.length - 1]! < buf.length)
    out.push(out[out.length - 1]! + tnetstring.measure(buf, out[out.length - 1]!, buf.length));
  return out;
}
const bounds = boundaries(bytes);

/** Read everything; return the ids read and the error thrown (if any), sync and async alike. */
async function readAll(input: Buffer | string): Promise<{
  ids: string[];
  error: FlowReadError | undefined;
  asyncIds: string[];
  asyncError: FlowReadError | undefined;
}> {
  const ids: string[] = [];
  let error: FlowReadError | undefined;
  try {
    for (const f of new FlowReader(input)) ids.push(f.id);
  } catch (e) {
    error = e as FlowReadError;
  }
  const asyncIds: string[] = [];
  let asyncError: FlowReadError | undefined;
  try {
    const src = typeof input === 'string' ? input : Readable.from([input.subarray(0, 1000), input.subarray(1000)]);
    for await (const f of new FlowReader(src)) asyncIds.push(f.id);
  } catch (e) {
    asyncError = e as FlowReadError;
  }
  return { ids, error, asyncIds, asyncError };
}

const allIds = [...new FlowReader(bytes)].map((f) => f.id);

describe('reading bad input', () => {
  it('has 15 records in the fixture', () => {
    expect(bounds.length).toBe(16);
  });

  it('an empty file is zero flows, not an error', async () => {
    const r = await readAll(Buffer.alloc(0));
    expect(r).toEqual({ ids: [], error: undefined, asyncIds: [], asyncError: undefined });
    const dir = mkdtempSync(join(tmpdir(), 'mitmts-io-'));
    writeFileSync(join(dir, 'empty.mitm'), '');
    expect((await readAll(join(dir, 'empty.mitm'))).ids).toEqual([]);
    const states = [];
    for await (const s of readStates(Readable.from([]))) states.push(s);
    expect(states).toEqual([]);
  });

  it('a file cut inside a record yields every complete flow, then says where it was cut', async () => {
    const cut = bounds[5]! + 700; // inside record #6
    const r = await readAll(bytes.subarray(0, cut));
    expect(r.ids).toEqual(allIds.slice(0, 5));
    expect(r.asyncIds).toEqual(allIds.slice(0, 5));
    for (const e of [r.error!, r.asyncError!]) {
      expect(e).toBeInstanceOf(FlowReadError);
      expect(e.code).toBe(FlowReadErrorCode.TRUNCATED);
      expect(e.offset).toBe(bounds[5]);
      expect(e.record).toBe(5);
      expect(e.message).toContain(`flow record #6 at byte ${bounds[5]} is cut short`);
      expect(e.message).toContain(`but the input ends after ${cut - bounds[5]!}`);
      expect(e.message).toMatch(/The 5 complete flows before it were read/);
      expect(e.message).toMatch(new RegExp(`truncate it at byte ${bounds[5]}`));
    }
  });

  it('a file cut inside a length prefix is truncated too, and names the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mitmts-io-'));
    const path = join(dir, 'cut.mitm');
    writeFileSync(path, bytes.subarray(0, bounds[2]! + 2));
    const r = await readAll(path);
    expect(r.ids).toEqual(allIds.slice(0, 2));
    expect(r.error!.code).toBe(FlowReadErrorCode.TRUNCATED);
    expect(r.error!.file).toBe(path);
    expect(r.error!.message).toMatch(
      new RegExp(
        `^${path}: flow record #3 at byte ${bounds[2]} is cut short: the input ends inside its length prefix \\(2 bytes\\)`,
      ),
    );
  });

  it('a corrupt record names its byte offset and what was expected', async () => {
    // Damage the type tag of the first dict inside record #4 (its client_conn or similar).
    const bad = Buffer.from(bytes);
    const start = bounds[3]!;
    const end = bounds[4]!;
    const closing = bad.lastIndexOf(0x7d /* } */, end - 2);
    expect(closing).toBeGreaterThan(start);
    bad[closing] = 0x3f; // '?'
    const r = await readAll(bad);
    expect(r.ids).toEqual(allIds.slice(0, 3));
    expect(r.asyncIds).toEqual(allIds.slice(0, 3));
    expect(r.error!.code).toBe(FlowReadErrorCode.CORRUPT);
    expect(r.error!.offset).toBe(closing);
    expect(r.error!.message).toContain(`flow record #4 at byte ${start} is damaged`);
    expect(r.error!.message).toContain(`unknown tnetstring type tag '?' (0x3f) at byte ${closing}`);
    expect(r.error!.message).toContain('expected one of , ; # ^ ! ~ ] }');
  });

  it('garbage between records: expected a length prefix', async () => {
    const bad = Buffer.concat([bytes.subarray(0, bounds[1]), Buffer.from('\n'), bytes.subarray(bounds[1])]);
    const r = await readAll(bad);
    expect(r.ids).toEqual(allIds.slice(0, 1));
    expect(r.error!.code).toBe(FlowReadErrorCode.CORRUPT);
    expect(r.error!.offset).toBe(bounds[1]);
    expect(r.error!.message).toContain(
      `expected a decimal length prefix and ':' at byte ${bounds[1]}, found byte 0x0a`,
    );
  });

  it('a non-flow file is corrupt at byte 0', async () => {
    const r = await readAll(Buffer.from('GIF89a...'));
    expect(r.error!.code).toBe(FlowReadErrorCode.CORRUPT);
    expect(r.error!.offset).toBe(0);
    expect(r.error!.message).toMatch(/not a mitmproxy flow file|damaged at byte 0/);
  });

  it('a record that is not a dict is rejected', async () => {
    const r = await readAll(Buffer.concat([bytes.subarray(0, bounds[1]), tnetstring.encode([1, 2])]));
    expect(r.ids).toEqual(allIds.slice(0, 1));
    expect(r.error!.code).toBe(FlowReadErrorCode.CORRUPT);
    expect(r.error!.message).toContain(`flow record #2 at byte ${bounds[1]} is a list, expected a dict`);
  });

  it('a version newer than ours says so, after the flows before it', async () => {
    const first = [...new FlowReader(bytes)][0]!.getState();
    const newer = encodeFlowState({ ...first, version: 22 });
    const r = await readAll(Buffer.concat([bytes.subarray(0, bounds[2]), newer]));
    expect(r.ids).toEqual(allIds.slice(0, 2));
    expect(r.error!.code).toBe(FlowReadErrorCode.VERSION);
    expect(r.error!.offset).toBe(bounds[2]);
    expect(r.error!.message).toBe(
      `flow record #3 at byte ${bounds[2]}: flow format version 22 is newer than this mitmts understands (21); update mitmts to read this file.`,
    );
  });

  it('a record that is not a valid flow is INVALID with its position', async () => {
    const first = [...new FlowReader(bytes)][0]!.getState() as unknown as Record<string, unknown>;
    const broken = tnetstring.encode({ ...first, surprise: 1 });
    const r = await readAll(Buffer.concat([bytes.subarray(0, bounds[1]), broken]));
    expect(r.ids).toEqual(allIds.slice(0, 1));
    expect(r.error!.code).toBe(FlowReadErrorCode.INVALID);
    expect(r.error!.offset).toBe(bounds[1]);
    expect(r.error!.message).toMatch(
      new RegExp(`^flow record #2 at byte ${bounds[1]} is not a valid http flow: .*surprise`),
    );
    const unknown = tnetstring.encode({ ...first, type: 'quic' });
    const r2 = await readAll(unknown);
    expect(r2.error!.code).toBe(FlowReadErrorCode.INVALID);
    expect(r2.error!.message).toContain('unknown flow type "quic"');
  });

  it('a missing file fails with the usual ENOENT', async () => {
    await expect(readAll('/nonexistent/file.mitm')).resolves.toMatchObject({ error: { code: 'ENOENT' } });
  });

  it('a stream cannot be read synchronously', () => {
    expect(() => [...new FlowReader(Readable.from([bytes]))]).toThrow(/iterate with `for await` instead/);
  });
});

describe('reading a record nested too deeply', () => {
  it('is a CORRUPT FlowReadError naming the record and the limit (no RangeError)', async () => {
    let inner = '0:~';
    for (let i = 0; i < 50_000; i++) inner = `${inner.length}:${inner}]`;
    const record = `1:x;${inner}`;
    const file = join(mkdtempSync(join(tmpdir(), 'mitmts-nest-')), 'nested.mitm');
    writeFileSync(file, Buffer.concat([bytes, Buffer.from(`${record.length}:${record}}`, 'latin1')]));
    const seen: string[] = [];
    const err = await (async () => {
      for await (const f of new FlowReader(file)) seen.push(f.id);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(allIds);
    expect(err).toBeInstanceOf(FlowReadError);
    expect((err as FlowReadError).code).toBe(FlowReadErrorCode.CORRUPT);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^${file}: flow record #${allIds.length + 1} at byte ${bytes.length} is damaged: .*more than 1000 levels deep`,
      ),
    );
  });
});
