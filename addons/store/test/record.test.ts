import { mkdtempSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeFlow, FlowReader } from '@mitmts/sdk';
import { encodeFlowState } from '@mitmts/sdk/store';
import { tflow, ttcpflow } from '@mitmts/sdk/testing';
import { storeFlowFormat } from '@mitmts/addon-store';
import { COMPRESS_MIN, StoreDatabase } from '@mitmts/addon-store/engine';

const zstdCompress = (b: Buffer): Buffer =>
  (createRequire(import.meta.url)('zstd-napi') as typeof import('zstd-napi')).compress(b);
const tmp = (): string => mkdtempSync(join(tmpdir(), 'mitmts-store-'));

function bodyFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((sub) => readdirSync(join(dir, sub)));
}

describe('stored records', () => {
  it('are the .mitm bytes of the flow, compressed from COMPRESS_MIN bytes on', () => {
    const store = StoreDatabase.open(join(tmp(), 'f.db'));
    const large = tflow({ resp: true });
    large.response!.rawContent = Buffer.from('{"items": [1, 2, 3]} '.repeat(300));
    const flows = [tflow({ resp: true }), tflow({ err: true }), ttcpflow(), large];
    store.writeBatch(flows);
    const rows = store.db.prepare('SELECT seq, record, ext FROM records ORDER BY seq').all() as Array<{
      seq: number;
      record: Buffer;
      ext: string | null;
    }>;
    rows.forEach((r, i) => {
      const bytes = encodeFlow(flows[i]!);
      if (bytes.length < COMPRESS_MIN)
        expect(r.record).toEqual(bytes); // small: as they are
      else {
        expect(r.record.subarray(0, 4)).toEqual(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])); // zstd
        expect(r.record.length).toBeLessThan(bytes.length / 4);
      }
      // Byte for byte what the state path writes (the store encodes flows directly).
      expect(store.record(r)).toEqual(encodeFlowState(flows[i]!.getState()));
      expect(r.ext).toBeNull();
    });
    expect(rows.filter((r) => r.record[0] === 0x28)).toHaveLength(1);
    store.close();
  });

  it('reads small records that an earlier mitmts stored compressed', () => {
    const store = StoreDatabase.open(join(tmp(), 'f.db'));
    const f = tflow({ resp: true });
    store.writeBatch([f]);
    const raw = store.db.prepare('SELECT record FROM records').pluck().get() as Buffer;
    expect(raw.length).toBeLessThan(COMPRESS_MIN);
    store.db.prepare('UPDATE records SET record = ?').run(zstdCompress(raw));
    const r = store.db.prepare('SELECT seq, record, ext FROM records').get() as {
      seq: number;
      record: Buffer;
      ext: null;
    };
    expect(r.record[0]).toBe(0x28);
    expect(store.record(r)).toEqual(encodeFlow(f));
    expect(store.flow(r, r.seq).id).toBe(f.id);
    store.close();
  });

  it('keep bodies over the threshold in content-addressed files, and restore them byte for byte', () => {
    const path = join(tmp(), 'f.db');
    const store = StoreDatabase.open(path, { bodyThreshold: 1024 });
    const big = Buffer.alloc(300_000, 'a');
    const f = tflow({ resp: true });
    f.request.rawContent = Buffer.alloc(2000, 'q');
    f.response!.rawContent = big;
    const twin = tflow({ resp: true });
    twin.response!.rawContent = big;
    store.writeBatch([f, twin]);
    const rows = store.db.prepare('SELECT seq, record, ext FROM records ORDER BY seq').all() as Array<{
      seq: number;
      record: Buffer;
      ext: string | null;
    }>;
    expect(Object.keys(JSON.parse(rows[0]!.ext!) as object).sort()).toEqual(['request', 'response']);
    // The record holds neither body (2,000 and 300,000 bytes).
    expect(rows[0]!.record.length).toBeLessThan(2000);
    // Equal bodies are stored once.
    expect(bodyFiles(`${path}.bodies`)).toHaveLength(2);
    // Buffer.equals: vitest compares large Buffers element by element.
    expect(store.record(rows[0]!).equals(encodeFlow(f))).toBe(true);
    expect(store.record(rows[1]!).equals(encodeFlow(twin))).toBe(true);
    const back = store.flow(rows[0]!, rows[0]!.seq);
    expect(back.id).toBe(f.id);
    expect(encodeFlow(back).equals(encodeFlow(f))).toBe(true);
    store.close();
  });

  it('are read back as flows by FlowReader (mitmts flows, -r)', async () => {
    const path = join(tmp(), 'f.db');
    const store = StoreDatabase.open(path);
    const flows = [tflow({ resp: true }), ttcpflow()];
    store.writeBatch(flows);
    store.close();
    // Importing the package registered the format; synchronous reading needs its code loaded.
    await storeFlowFormat.prepare!();
    expect([...new FlowReader(path)].map((x) => encodeFlow(x))).toEqual(flows.map((x) => encodeFlow(x)));
    const states = [];
    for await (const s of new FlowReader(path).readStates()) states.push(s);
    expect(states).toEqual(flows.map((x) => x.getState()));
  });

  it('reports a missing body file clearly', () => {
    const path = join(tmp(), 'f.db');
    const store = StoreDatabase.open(path, { bodyThreshold: 10 });
    const f = tflow({ resp: true });
    f.response!.rawContent = Buffer.alloc(100, 'z');
    store.writeBatch([f]);
    const other = StoreDatabase.open(join(tmp(), 'g.db'));
    const r = store.db.prepare('SELECT seq, record, ext FROM records').get() as {
      seq: number;
      record: Buffer;
      ext: string | null;
    };
    // The same row read through a store whose body directory does not have the file.
    expect(() => other.flow(r, r.seq)).toThrow(/body file .* is missing/);
    store.close();
    other.close();
  });

  it('gets the current indexes when a store written before them is opened for writing', () => {
    const path = join(tmp(), 'old.db');
    const old = StoreDatabase.open(path);
    const flows = [tflow({ resp: true }), tflow({ err: true })];
    old.writeBatch(flows);
    // The layout as the first mitmts stores had it: a plain status index, no covering one.
    old.db.exec('DROP INDEX flows_status_host; CREATE INDEX flows_status ON flows(status)');
    old.close();
    const indexes = (s: StoreDatabase): string[] =>
      s.db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'flows\\_%' ESCAPE '\\' ORDER BY name",
        )
        .pluck()
        .all() as string[];
    const reader = StoreDatabase.open(path, { readonly: true });
    expect(indexes(reader)).toContain('flows_status');
    reader.close();
    const store = StoreDatabase.open(path);
    expect(indexes(store)).toEqual([
      'flows_comment',
      'flows_error',
      'flows_host',
      'flows_marked',
      'flows_status_host',
      'flows_ts',
    ]);
    const plan = store.db
      .prepare("EXPLAIN QUERY PLAN SELECT seq FROM flows WHERE status = 404 AND host LIKE '%example%'")
      .all() as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/COVERING INDEX flows_status_host/);
    expect([...new FlowReader(path)].map((f) => f.id)).toEqual(flows.map((f) => f.id));
    store.close();
  });
});
