import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordsAppender, RecordsReader } from '../src/records-file.js';

describe('the records file', () => {
  it('reads back every record, scanning forward, backward or skipping around (read-ahead windows)', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'mitmts-records-')), 'f.db.records');
    const out = new RecordsAppender(path);
    // 2,000 records of 1-600 bytes each (~600 KiB: several read-ahead windows), in two batches.
    const records = Array.from({ length: 2000 }, (_, i) => Buffer.alloc(1 + ((i * 7919) % 600), i % 251));
    const at: number[] = [];
    for (const batch of [records.slice(0, 700), records.slice(700)]) {
      let offset = out.append(batch);
      for (const r of batch) {
        at.push(offset);
        offset += r.length;
      }
    }
    out.close();
    const read = (order: number[]): void => {
      const reader = new RecordsReader(path);
      const got = order.map((i) => reader.read(at[i]!, records[i]!.length, i));
      order.forEach((i, k) => expect(got[k]!.equals(records[i]!), `record ${i}`).toBe(true));
      reader.close();
    };
    const forward = records.map((_, i) => i);
    read(forward);
    read([...forward].reverse());
    read(forward.map((i) => (i * 1237) % records.length));
  });
});
