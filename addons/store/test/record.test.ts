import { mkdtempSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
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

/** A stored row: where its record is (the records file) and the stored bytes themselves. */
type Stored = {
  seq: number;
  rec_at: number;
  rec_len: number;
  record: Buffer | null;
  ext: string | null;
  bytes: Buffer;
};
function stored(store: StoreDatabase): Stored[] {
  const file = readFileSync(`${store.path}.records`);
  const rows = store.db
    .prepare('SELECT seq, rec_at, rec_len, NULL AS record, ext FROM flows ORDER BY seq')
    .all() as Stored[];
  return rows.map((r) => ({ ...r, bytes: file.subarray(r.rec_at, r.rec_at + r.rec_len) }));
}

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
    const rows = stored(store);
    // One after the other in the records file, nothing else in it.
    expect(rows.map((r) => r.rec_at)).toEqual(rows.map((_, i) => rows.slice(0, i).reduce((n, x) => n + x.rec_len, 0)));
    expect(readFileSync(`${store.path}.records`).length).toBe(rows.reduce((n, r) => n + r.rec_len, 0));
    rows.forEach((r, i) => {
      const bytes = encodeFlow(flows[i]!);
      if (bytes.length < COMPRESS_MIN)
        expect(r.bytes).toEqual(bytes); // small: as they are
      else {
        expect(r.bytes.subarray(0, 4)).toEqual(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])); // zstd
        expect(r.bytes.length).toBeLessThan(bytes.length / 4);
      }
      // Byte for byte what the state path writes (the store encodes flows directly).
      expect(store.record(r, r.seq)).toEqual(encodeFlowState(flows[i]!.getState()));
      expect(r.ext).toBeNull();
    });
    expect(rows.filter((r) => r.bytes[0] === 0x28)).toHaveLength(1);
    // A flow written again gets a new copy at the end; its row points there.
    flows[0]!.comment = 'again';
    store.writeBatch([flows[0]!]);
    const again = stored(store)[0]!;
    expect(again.rec_at).toBe(rows.reduce((n, r) => n + r.rec_len, 0));
    expect(store.flow(again, again.seq).comment).toBe('again');
    store.close();
  });

  it('reads small records that an earlier mitmts stored compressed', () => {
    const store = StoreDatabase.open(join(tmp(), 'f.db'));
    const f = tflow({ resp: true });
    store.writeBatch([f]);
    const raw = stored(store)[0]!.bytes;
    expect(raw.length).toBeLessThan(COMPRESS_MIN);
    const r = { rec_at: null, rec_len: null, record: zstdCompress(raw), ext: null };
    expect(store.record(r, 1)).toEqual(encodeFlow(f));
    expect(store.flow(r, 1).id).toBe(f.id);
    store.close();
  });

  it('reads a store of the first layout (records in a table), and upgrades it when opened for writing', async () => {
    const path = join(tmp(), 'v1.db');
    const flows = [tflow({ resp: true }), tflow({ err: true }), ttcpflow()];
    const store = StoreDatabase.open(path);
    store.writeBatch(flows);
    const rows = stored(store);
    // The first layout, as its writer left it: the records in the records table, no columns for them.
    store.db.exec(
      'CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY, record BLOB NOT NULL, ext TEXT); DELETE FROM records',
    );
    const put = store.db.prepare('INSERT INTO records (seq, record, ext) VALUES (?, ?, ?)');
    for (const r of rows) put.run(r.seq, r.bytes, r.ext);
    store.db.exec(
      'ALTER TABLE flows DROP COLUMN rec_at; ALTER TABLE flows DROP COLUMN rec_len; ALTER TABLE flows DROP COLUMN ext; PRAGMA user_version = 1',
    );
    store.close();
    truncateSync(`${path}.records`, 0);
    await storeFlowFormat.prepare!();
    const ids = (): string[] => [...new FlowReader(path)].map((x) => x.id);
    const reader = StoreDatabase.open(path, { readonly: true });
    expect(reader.layout).toBe(1);
    reader.close();
    expect(ids()).toEqual(flows.map((x) => x.id));
    // Opened for writing: the new columns; old records stay in their table, new ones go to the file.
    const writer = StoreDatabase.open(path);
    expect(writer.layout).toBe(2);
    expect(writer.db.pragma('user_version', { simple: true })).toBe(2);
    const more = tflow({ resp: true });
    writer.writeBatch([more]);
    writer.close();
    expect(ids()).toEqual([...flows, more].map((x) => x.id));
    expect([...new FlowReader(path)].map((x) => encodeFlow(x))).toEqual([...flows, more].map((x) => encodeFlow(x)));
  });

  it('reports a record missing from a cut-short records file, naming the file and the flow', async () => {
    const path = join(tmp(), 'f.db');
    const store = StoreDatabase.open(path);
    store.writeBatch([tflow({ resp: true }), tflow({ resp: true })]);
    const [, second] = stored(store);
    truncateSync(`${path}.records`, second!.rec_at + 10);
    expect(store.flow(stored(store)[0]!, 1).id).toBeTruthy();
    expect(() => store.flow({ ...second!, record: null }, second!.seq)).toThrow(
      /f\.db\.records: the record of the flow stored as seq 2 \(bytes \d+ to \d+\) is missing: the file ends at \d+/,
    );
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
    const rows = stored(store);
    expect(Object.keys(JSON.parse(rows[0]!.ext!) as object).sort()).toEqual(['request', 'response']);
    // The record holds neither body (2,000 and 300,000 bytes).
    expect(rows[0]!.rec_len).toBeLessThan(2000);
    // Equal bodies are stored once.
    expect(bodyFiles(`${path}.bodies`)).toHaveLength(2);
    // Buffer.equals: vitest compares large Buffers element by element.
    expect(store.record(rows[0]!, 1).equals(encodeFlow(f))).toBe(true);
    expect(store.record(rows[1]!, 2).equals(encodeFlow(twin))).toBe(true);
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
    const r = stored(store)[0]!;
    // The same record read through a store whose body directory does not have the file.
    expect(() => other.flow({ ...r, record: r.bytes }, r.seq)).toThrow(/body file .* is missing/);
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
