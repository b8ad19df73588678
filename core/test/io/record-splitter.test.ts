/**
 * Where decoded bytes live: views of owned chunks (files) or copies (everything else), and
 * records that straddle chunks, at every chunk size.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HTTPFlow } from '../../src/flow/index.js';
import { tflow } from '../../src/flow/index.js';
import { encodeFlow, FlowReader, readStatesSync } from '../../src/io/index.js';
import { RecordSplitter, type RawRecord } from '../../src/io/record-splitter.js';
import { FLOWS_MITM } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'mitmts-splitter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function records(chunks: Buffer[], owned: boolean): RawRecord[] {
  const s = new RecordSplitter();
  const out: RawRecord[] = [];
  for (const c of chunks) for (const r of s.push(c, owned)) out.push(r);
  s.end();
  return out;
}

function split(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; o < buf.length; o += size) out.push(Buffer.from(buf.subarray(o, o + size)));
  return out;
}

const file = readFileSync(FLOWS_MITM);
const whole = records([file], true);

describe('RecordSplitter', () => {
  it('gives the same records (bytes, offsets, indexes) at every chunk size, owned or not', () => {
    // Sizes around the prefix length (a chunk ending inside a length prefix) and well beyond.
    for (const size of [1, 2, 3, 5, 7, 13, 64, 333, 4096, 65536]) {
      for (const owned of [true, false]) {
        const got = records(split(file, size), owned);
        expect(
          got.map((r) => [r.offset, r.index, r.bytes.length]),
          `size ${size} owned ${owned}`,
        ).toEqual(whole.map((r) => [r.offset, r.index, r.bytes.length]));
        got.forEach((r, i) => expect(r.bytes.equals(whole[i]!.bytes)).toBe(true));
      }
    }
  });

  it('decodes owned chunks in place: records are views of the chunk they arrived in', () => {
    const chunk = Buffer.from(file);
    const recs = records([chunk], true);
    for (const r of recs) expect(r.bytes.buffer).toBe(chunk.buffer);
  });

  it('copies records out of chunks it does not own, so that the caller may reuse them', () => {
    const chunk = Buffer.from(file);
    const recs = records([chunk], false);
    const copies = recs.map((r) => Buffer.from(r.bytes));
    for (const r of recs) expect(r.bytes.buffer).not.toBe(chunk.buffer);
    chunk.fill(0x7e);
    recs.forEach((r, i) => expect(r.bytes.equals(copies[i]!)).toBe(true));
  });

  it('gives a large record of a caller-owned stream its own copy, small ones share slabs', () => {
    const big = encodeFlow(tflow({ resp: true }));
    const large = (() => {
      const f = tflow({ resp: true });
      f.request.content = Buffer.alloc(100_000, 0x61);
      return encodeFlow(f);
    })();
    const recs = records([Buffer.concat([big, big, large])], false);
    expect(recs[0]!.bytes.buffer).toBe(recs[1]!.bytes.buffer);
    expect(recs[2]!.bytes.byteLength).toBe(large.length);
    expect(recs[2]!.bytes.buffer.byteLength).toBe(large.length);
  });
});

describe('FlowReader memory', () => {
  it('reads a file into fresh chunks: a flow keeps its chunk, never a reused buffer', () => {
    const path = join(dir, 'two.mitm');
    writeFileSync(path, file);
    const flows = [...new FlowReader(path, { chunkSize: 4096 })].filter((f): f is HTTPFlow => f.type === 'http');
    const chunks = new Set(flows.map((f) => f.request.headers.fields[0]![0].buffer));
    // Several chunks, each a 4 KiB read (or a record that was larger).
    expect(chunks.size).toBeGreaterThan(1);
    const before = flows.map((f) => f.getState());
    // Reading the file again does not touch the flows read before.
    [...new FlowReader(path, { chunkSize: 4096 })].forEach(() => undefined);
    expect(flows.map((f) => f.getState())).toEqual(before);
  });

  it('does not let flows read from a Buffer see later changes to that Buffer', () => {
    const input = Buffer.from(file);
    const states = [...readStatesSync(input)];
    const json = JSON.stringify(states);
    input.fill(0);
    expect(JSON.stringify(states)).toBe(json);
  });
});
