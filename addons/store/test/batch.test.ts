import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HTTPFlow } from '@mitmts/sdk';
import { flowRow } from '@mitmts/sdk/store';
import { tflow, ttcpflow } from '@mitmts/sdk/testing';
import { StoreDatabase, StoreWriter, WriterThread } from '@mitmts/addon-store/engine';
import { COLUMNS, rowValues } from '../src/schema.js';

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

async function writer(): Promise<{ db: StoreDatabase; thread: WriterThread; writer: StoreWriter }> {
  const path = join(mkdtempSync(join(tmpdir(), 'mitmts-batch-')), 'flows.db');
  const db = StoreDatabase.open(path);
  const thread = await WriterThread.start(path);
  const w = new StoreWriter(db, thread, 0, () => undefined);
  open.push(async () => {
    await w.close(true);
    await thread.stop();
    db.close();
  });
  return { db, thread, writer: w };
}

/** Flows whose rows hold every kind of value a packed batch carries. */
function variedFlows(): HTTPFlow[] {
  const plain = tflow({ resp: true });
  const long = tflow({ resp: true });
  long.request.path = `/${'segment/'.repeat(20)}?q=${'x'.repeat(100)}`;
  const unicode = tflow({ resp: true });
  unicode.comment = 'naïve';
  unicode.marked = ':star:';
  const unicodeLong = tflow({ resp: true });
  unicodeLong.comment = `${'a'.repeat(70)}é`;
  const failed = tflow({ err: true });
  failed.isReplay = 'request';
  const noResponse = tflow();
  noResponse.request.headers.set('content-type', 'application/json; charset=utf-8');
  return [plain, long, unicode, unicodeLong, failed, noResponse];
}

describe('store: packed batches', () => {
  it('writes every column as the row has it: texts short and long, ASCII or not, nulls and numbers', async () => {
    const { db, writer: w } = await writer();
    const flows = variedFlows();
    for (const f of flows) w.mark(f);
    await w.settled();
    const stored = db.db
      .prepare(`SELECT ${COLUMNS.join(', ')} FROM flows ORDER BY seq`)
      .raw()
      .all() as unknown[][];
    // SQLite hands booleans and the status back as numbers, as rowValues writes them.
    expect(stored).toEqual(flows.map((f) => rowValues(flowRow(f, 0))));
    const ascii = stored.map((r) => r[COLUMNS.indexOf('ascii')]);
    expect(ascii).toEqual([1, 1, 0, 0, 1, 1]);
  });

  it('reuses the memory of a committed batch for the next one, and the rows stay right', async () => {
    const { db, thread, writer: w } = await writer();
    const spare = (): number => (thread as unknown as { spare: ArrayBuffer[] }).spare.length;
    const all: HTTPFlow[] = [];
    for (let round = 0; round < 3; round++) {
      const flows = variedFlows();
      all.push(...flows);
      for (const f of flows) w.mark(f);
      await w.settled();
      // The committed batch's buffer came back; the next batch is built in it.
      expect(spare()).toBe(1);
    }
    const stored = db.db
      .prepare(`SELECT ${COLUMNS.join(', ')} FROM flows ORDER BY seq`)
      .raw()
      .all() as unknown[][];
    expect(stored).toEqual(all.map((f) => rowValues(flowRow(f, 0))));
  });

  it('encodes a flow done changing with the next few, at its latest state', async () => {
    const { db, writer: w } = await writer();
    const f = tflow({ resp: true });
    w.mark(f);
    // Not encoded yet: a change made meanwhile is what gets written.
    f.comment = 'changed after it completed';
    expect(w.stats.pending).toBe(1);
    await w.settled();
    expect(db.db.prepare('SELECT comment FROM flows').pluck().all()).toEqual(['changed after it completed']);
  });

  it('does not hold a flow with large bodies for later: it is encoded at once, with those waiting', async () => {
    const { writer: w } = await writer();
    const held = (): number => (w as unknown as { done: unknown[] }).done.length;
    w.mark(tflow({ resp: true }));
    expect(held()).toBe(1);
    const big = tflow({ resp: true });
    big.response!.rawContent = Buffer.alloc(1 << 20);
    w.mark(big);
    expect(held()).toBe(0);
    // Nor a TCP flow (any amount of messages).
    w.mark(tflow({ resp: true }));
    expect(held()).toBe(1);
    const tcp = ttcpflow();
    tcp.live = false;
    w.mark(tcp);
    expect(held()).toBe(0);
    await w.settled();
    expect(w.stats.written).toBe(4);
  });
});
