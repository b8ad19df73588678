import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFlow, type Flow, FlowStore } from '@mitmts/sdk';
import { CursorError, FLOW_SORT_KEYS, type FlowIndex, type FlowQuery } from '@mitmts/sdk/store';
import { SqliteFlowIndex, StoreDatabase } from '@mitmts/addon-store/engine';
import { corpus } from './corpus.js';

let flows: Flow[];
let store: StoreDatabase;
let sqlite: SqliteFlowIndex;
let memory: FlowIndex;

beforeAll(() => {
  flows = corpus();
  store = StoreDatabase.open(join(mkdtempSync(join(tmpdir(), 'mitmts-store-')), 'f.db'));
  store.writeBatch(flows);
  sqlite = new SqliteFlowIndex(store);
  const kept = new FlowStore(Infinity);
  for (const f of flows) kept.add(f);
  memory = kept.memory;
});
afterAll(() => store.close());

/** Every window of a query, paged with `after`, as ids. */
async function pages(index: FlowIndex, q: FlowQuery): Promise<string[][]> {
  const out: string[][] = [];
  let after: string | null = null;
  for (;;) {
    const w = await index.window({ ...q, after });
    out.push(w.rows.map((r) => r.id));
    if (!w.next) return out;
    after = w.next;
  }
}

describe('the SQLite index answers like the in-memory one', () => {
  const filters = [undefined, '~c 200', '~d example | ~tcp', '!~h content', '~b needle'];
  it.each(
    FLOW_SORT_KEYS.flatMap((sort) =>
      [false, true].flatMap((desc) => filters.map((filter) => ({ sort, desc, filter }))),
    ),
  )('window %o', async (q) => {
    const a = await pages(sqlite, { ...q, limit: 4 });
    const b = await pages(memory, { ...q, limit: 4 });
    expect(a).toEqual(b);
    expect(a.flat().length).toBe(await memory.count(q.filter));
  });

  it.each(['~h content', '~b e & ~c 200', '!~hs json'])(
    'with a scanLimit, pages are partial but together complete: %s',
    async (filter) => {
      for (const index of [sqlite, memory]) {
        for (const desc of [false, true]) {
          const whole = (await pages(index, { filter, sort: 'host', desc, limit: 1000 })).flat();
          const partial = await pages(index, { filter, sort: 'host', desc, limit: 3, scanLimit: 2 });
          expect(partial.flat()).toEqual(whole);
          expect(partial.some((p) => p.length < 3 && p !== partial.at(-1))).toBe(true);
        }
      }
    },
  );

  it.each(['host', 'status', 'size'] as const)(
    'windows by position (offset) and positions of cursors (count before) agree, sorted by %s',
    async (sort) => {
      for (const filter of [undefined, '~c 200', '!~h content']) {
        for (const desc of [false, true]) {
          const whole = (await pages(memory, { filter, sort, desc, limit: 1000 })).flat();
          for (const offset of [0, 1, 5, whole.length - 2, whole.length + 3]) {
            for (const index of [sqlite, memory]) {
              const w = await index.window({ filter, sort, desc, offset, limit: 3 });
              expect(w.rows.map((r) => r.id)).toEqual(whole.slice(offset, offset + 3));
            }
          }
          const rows = (await sqlite.window({ filter, sort, desc, limit: 1000 })).rows;
          for (const i of [0, 3, rows.length - 1]) {
            expect(await sqlite.count(filter, { before: rows[i]!.cursor })).toBe(i);
            expect(await memory.count(filter, { before: rows[i]!.cursor })).toBe(i);
          }
        }
      }
    },
  );

  it('rows carry the same fields', async () => {
    const a = (await sqlite.window({ limit: 1000 })).rows;
    const b = (await memory.window({ limit: 1000 })).rows;
    expect(a.map(({ seq: _s, cursor: _c, ...r }) => r)).toEqual(b.map(({ seq: _s, cursor: _c, ...r }) => r));
  });

  it.each([undefined, '~c 404', '~d example & ~c 404', '~h content', '!~s | ~b needle'])('count %s', async (filter) => {
    expect(await sqlite.count(filter)).toBe(await memory.count(filter));
  });

  it('gets a flow by id, byte for byte', async () => {
    for (const f of flows.slice(0, 5)) expect(encodeFlow((await sqlite.get(f.id))!)).toEqual(encodeFlow(f));
    expect(await sqlite.get('no-such-id')).toBeUndefined();
  });

  it('searches bodies newest first, in steps of scanLimit', async () => {
    const all = async (index: FlowIndex): Promise<Array<[string, string[]]>> => {
      const out: Array<[string, string[]]> = [];
      let after: string | null = null;
      do {
        const r = await index.searchBodies({ pattern: 'e', scanLimit: 7, limit: 3, after });
        expect(r.scanned).toBeLessThanOrEqual(7);
        out.push(
          ...r.matches.map((m): [string, string[]] => [
            m.row.id,
            m.hits.map((h) => `${h.part}${h.message ?? ''}@${h.offset}+${h.length}:${h.snippet}`),
          ]),
        );
        after = r.next;
      } while (after);
      return out;
    };
    const a = await all(sqlite);
    expect(a.length).toBeGreaterThan(3);
    expect(a).toEqual(await all(memory));
    const one = await sqlite.searchBodies({ pattern: 'needle', side: 'request' });
    expect(one.matches.map((m) => m.row.type)).toEqual(['tcp']);
    expect(one.matches[0]!.hits[0]).toMatchObject({ part: 'message', offset: 0, length: 6, snippet: 'needle in tcp' });
  });

  it('streams every matching flow in order', async () => {
    const ids: string[] = [];
    for await (const f of sqlite.flows('~http')) ids.push(f.id);
    expect(ids).toEqual(flows.filter((f) => f.type === 'http').map((f) => f.id));
  });

  it('rejects a cursor from another sort, or a made-up one', async () => {
    const w = await sqlite.window({ sort: 'host', limit: 1 });
    await expect(sqlite.window({ sort: 'status', after: w.next })).rejects.toThrow(CursorError);
    await expect(sqlite.window({ after: 'nonsense' })).rejects.toThrow(/Invalid cursor/);
    await expect(memory.window({ sort: 'status', after: w.next })).rejects.toThrow(/sorted by host/);
    await expect(sqlite.window({ limit: 0 })).rejects.toThrow(/limit must be a positive integer/);
  });
});
