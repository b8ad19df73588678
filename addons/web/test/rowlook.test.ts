// The flow table's row pool without a browser: which row goes into which element (slot), and
// what an element shows. The pool's DOM writes are checked in Chromium (browser.test.ts: rows
// kept in their elements as flows arrive, and the table after many deltas equal to a fresh page's).
import { describe, expect, it } from 'vitest';
import { tflow, treq, tresp } from '@mitmts/sdk/testing';
import { flowRow } from '../src/flow-json.js';
import type { FlowRow } from '../src/protocol.js';
import { assignSlots, rowLook } from '../ui/rowlook.js';

const rowsFrom = (n: number, from = 0): FlowRow[] =>
  Array.from({ length: n }, (_, i) => {
    const f = tflow({ req: treq({ path: Buffer.from(`/r/${from + i}`) }), resp: tresp() });
    return flowRow(f, 1);
  });
const slotIndexes = (plan: ReturnType<typeof assignSlots>): Array<number | null> =>
  plan.map((p) => (p === null ? null : p.index));

describe('assignSlots', () => {
  it('puts the row at list position i in slot i % slots, free slots null', () => {
    const rows = rowsFrom(10);
    // Window rows 100..109; shown from position 103, 8 slots: 103..109 (110 is past the window).
    const plan = assignSlots(rows, 100, 103, 8);
    expect(slotIndexes(plan)).toEqual([104, 105, 106, 107, 108, 109, null, 103]);
    expect(plan[7]!.row).toBe(rows[3]);
  });

  it('keeps a row in its slot while it stays shown (following the end)', () => {
    const before = rowsFrom(40);
    const after = [...before.slice(5), ...rowsFrom(5, 40)];
    const a = assignSlots(before, 1000, 1020, 24);
    const b = assignSlots(after, 1005, 1025, 24);
    // Rows 1025..1039 are shown in both: the same row object in the same slot.
    for (let i = 1025; i < 1040; i++) expect(b[i % 24]!.row).toBe(a[i % 24]!.row);
  });

  it('shows nothing outside the window (positions before its offset, or before 0)', () => {
    expect(slotIndexes(assignSlots(rowsFrom(3), 0, -2, 6))).toEqual([0, 1, 2, null, null, null]);
    expect(slotIndexes(assignSlots(rowsFrom(3), 50, 10, 6))).toEqual([null, null, null, null, null, null]);
  });
});

describe('rowLook', () => {
  it('shows the cells, the position and the classes of a row', () => {
    const [r] = rowsFrom(1);
    const look = rowLook({ ...r!, marked: ':star:', intercepted: true }, 7, r!.id, 22);
    expect(look.top).toBe('154px');
    expect(look.cls).toBe('flow-row sel held marked odd');
    expect(look.tags).toBe('held ★');
    expect(look.text.n).toBe('8');
    expect(look.text.method).toBe('GET');
    expect(look.text.url).toBe('http://address:22/r/0');
    expect(look.text.status).toBe('200');
    expect(look.statusCls).toBe('c-status s2');
  });

  it('shows an error instead of a status', () => {
    const [r] = rowsFrom(1);
    const look = rowLook({ ...r!, status: null, error: 'killed' }, 0, null, 22);
    expect(look.text.status).toBe('error');
    expect(look.statusCls).toBe('c-status err');
    expect(look.cls).toBe('flow-row');
  });
});
