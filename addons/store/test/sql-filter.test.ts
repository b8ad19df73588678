import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Flow, parseFilter } from '@mitmts/sdk';
import { prefilter, SqliteFlowIndex, StoreDatabase } from '@mitmts/addon-store/engine';
import { corpus, EXPRESSIONS } from './corpus.js';

let flows: Flow[];
let store: StoreDatabase;
let index: SqliteFlowIndex;

beforeAll(() => {
  flows = corpus();
  store = StoreDatabase.open(join(mkdtempSync(join(tmpdir(), 'mitmts-store-')), 'f.db'));
  store.writeBatch(flows);
  index = new SqliteFlowIndex(store);
});
afterAll(() => store.close());

/** Ids the SQL condition alone selects. */
function sqlIds(where: { sql: string; params: readonly unknown[] }): string[] {
  return store.db
    .prepare(`SELECT id FROM flows WHERE ${where.sql} ORDER BY seq`)
    .pluck()
    .all(...where.params) as string[];
}

describe.each([false, true])('SQL prefilters (case-sensitive %s)', (caseSensitive) => {
  it.each(EXPRESSIONS)('%s: same flows as the in-memory filter', (expr) => {
    const filter = parseFilter(expr, { caseSensitive });
    const expected = flows.filter((f) => filter.match(f)).map((f) => f.id);
    const pre = prefilter(filter);
    const candidates = sqlIds(pre.where);
    // Necessary: every matching flow is a candidate.
    for (const id of expected) expect(candidates).toContain(id);
    // Sufficient: every sure row matches.
    for (const id of sqlIds(pre.sure)) expect(expected).toContain(id);
    // Exact prefilters need no decoding: SQL alone must be right.
    if (pre.exact) expect(candidates).toEqual(expected);
    expect([...index.scan(filter)].map((f) => f.id)).toEqual(expected);
  });
});

describe('which prefilters are exact', () => {
  it.each([
    ['~c 404', true],
    ['~marked | ~e', true],
    ['!~c 404 & ~s', true],
    ['~d example & ~c 404', false],
    ['~u /path', false],
    ['~h foo', false],
    ['~d example & ~b x', false],
    ['~m GET', false],
    ['~d ex.mple', false],
  ] as const)('%s', (expr, exact) => {
    expect(prefilter(parseFilter(expr)).exact).toBe(exact);
  });

  it('narrows the candidates to what an index can find', () => {
    const pre = prefilter(parseFilter('~d example & ~c 404'));
    const plan = store.db
      .prepare(`EXPLAIN QUERY PLAN SELECT seq FROM flows WHERE ${pre.where.sql}`)
      .all(...pre.where.params) as Array<{ detail: string }>;
    // A covering index: the host columns are read from the index, no table lookup per status match.
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/USING COVERING INDEX flows_status_host/);
  });

  it('treats an operator SQL cannot see as "every flow" for candidates', () => {
    expect(prefilter(parseFilter('~h foo')).where.sql).toBe('1');
    expect(prefilter(parseFilter('!~h foo')).where.sql).toBe('1');
    expect(prefilter(null)).toEqual({ where: { sql: '1', params: [] }, sure: { sql: '1', params: [] }, exact: true });
  });
});
