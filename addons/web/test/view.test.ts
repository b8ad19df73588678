// The server-side view without a browser: windows, deltas, filter changes, sort orders and
// removals, over the in-memory backend.
import { describe, expect, it } from 'vitest';
import { type Filter, type Flow, FlowStore, type HTTPFlow, parseFilter } from '@mitmts/sdk';
import { tflow, treq, tresp } from '@mitmts/sdk/testing';
import { MemoryBackend } from '../src/memory-backend.js';
import type { FlowEntry, QueryFilter } from '../src/backend.js';
import type { FlowRow, RowOp, ViewDelta } from '../src/protocol.js';
import { FlowView, windowOps } from '../src/view.js';

/** A page's copy of its window, kept only by applying deltas (as the browser does). */
class Page {
  rows: FlowRow[] = [];
  count = 0;
  offset = 0;
  apply(d: ViewDelta | null): void {
    if (!d) return;
    this.count = d.count;
    this.offset = d.offset;
    applyOps(this.rows, d.ops);
  }
  ids(): string[] {
    return this.rows.map((r) => r.id);
  }
}

function applyOps(rows: FlowRow[], ops: RowOp[]): void {
  for (const op of ops) {
    if (op[0] === 'r')
      rows.splice(
        rows.findIndex((r) => r.id === op[1]),
        1,
      );
  }
  for (const op of ops) if (op[0] === 'i') rows.splice(op[1], 0, op[2]);
  for (const op of ops) {
    if (op[0] === 'u') rows[rows.findIndex((r) => r.id === op[1].id)] = op[1];
  }
}

function setup(n = 0, make: (i: number) => HTTPFlow = (i) => flow(`/p${i}`)) {
  const store = new FlowStore(Infinity);
  const flows: HTTPFlow[] = [];
  for (let i = 0; i < n; i++) {
    const f = make(i);
    flows.push(f);
    store.add(f);
  }
  const backend = new MemoryBackend(store);
  const versions = new Map<object, number>();
  let clock = 0;
  const touch = (f: HTTPFlow): void => {
    versions.set(f, ++clock);
    backend.put(f);
  };
  const view = new FlowView(backend, {
    row: (e: FlowEntry) =>
      ({ id: e.flow.id, v: versions.get(e.flow) ?? 0, url: (e.flow as HTTPFlow).request.path }) as unknown as FlowRow,
    version: (e: FlowEntry) => versions.get(e.flow) ?? 0,
  });
  const page = new Page();
  const step = async (): Promise<ViewDelta | null> => {
    backend.sync();
    const d = await view.diff();
    page.apply(d);
    return d;
  };
  const add = (f: HTTPFlow): HTTPFlow => {
    flows.push(f);
    store.add(f);
    touch(f);
    return f;
  };
  return { store, backend, view, page, flows, touch, step, add };
}

function flow(path: string, status?: number): HTTPFlow {
  const f = tflow({ req: treq({ path: Buffer.from(path) }) });
  if (status !== undefined) f.response = tresp({ statusCode: status });
  return f;
}

const paths = (page: Page): string[] => page.rows.map((r) => (r as unknown as { url: string }).url);

describe('FlowView windows', () => {
  it('shows the first rows of a window and the count', async () => {
    const t = setup(10);
    await t.view.setWindow(0, 4);
    const d = (await t.step())!;
    expect(d.count).toBe(10);
    expect(d.total).toBe(10);
    expect(d.offset).toBe(0);
    expect(paths(t.page)).toEqual(['/p0', '/p1', '/p2', '/p3']);
    expect(await t.step()).toBeNull();
  });

  it('a window pinned at the start keeps its rows when flows arrive after it; only the count changes', async () => {
    const t = setup(10);
    await t.view.setWindow(0, 4);
    await t.step();
    t.add(flow('/new'));
    const d = (await t.step())!;
    expect(d.ops).toEqual([]);
    expect(d.count).toBe(11);
    expect(paths(t.page)).toEqual(['/p0', '/p1', '/p2', '/p3']);
  });

  it('a window at the end follows new flows (tail)', async () => {
    const t = setup(10);
    await t.view.setWindow(6, 4);
    await t.step();
    expect(paths(t.page)).toEqual(['/p6', '/p7', '/p8', '/p9']);
    t.add(flow('/p10'));
    t.add(flow('/p11'));
    const d = (await t.step())!;
    expect(d.offset).toBe(8);
    expect(paths(t.page)).toEqual(['/p8', '/p9', '/p10', '/p11']);
    expect(d.ops.filter((o) => o[0] === 'r')).toHaveLength(2);
    expect(d.ops.filter((o) => o[0] === 'i')).toHaveLength(2);
  });

  it('a window asked for at the end follows it, whatever offset a page with an old count computed', async () => {
    const t = setup(10);
    // The page saw 6 flows (offset 2, limit 4 was its end); the server has 10 by now.
    await t.view.setWindow(2, 4, true);
    await t.step();
    expect(t.page.offset).toBe(6);
    expect(paths(t.page)).toEqual(['/p6', '/p7', '/p8', '/p9']);
    t.add(flow('/p10'));
    await t.step();
    expect(paths(t.page)).toEqual(['/p7', '/p8', '/p9', '/p10']);
    // Without `end`, the same request anchors at /p2, short of the end.
    await t.view.setWindow(2, 4);
    t.add(flow('/p11'));
    await t.step();
    expect(paths(t.page)).toEqual(['/p2', '/p3', '/p4', '/p5']);
  });

  it('a window in the middle stays on its rows when rows are inserted above it (the offset moves)', async () => {
    const t = setup(20, (i) => flow(`/p${i}`, 200 + i));
    t.view.set('', { column: 'status', desc: false });
    await t.view.setWindow(5, 3);
    await t.step();
    expect(paths(t.page)).toEqual(['/p5', '/p6', '/p7']);
    t.add(flow('/low', 100));
    const d = (await t.step())!;
    expect(d.offset).toBe(6);
    expect(d.ops).toEqual([]);
    expect(paths(t.page)).toEqual(['/p5', '/p6', '/p7']);
  });

  it('sends updates for changed rows in the window, nothing for changes outside it', async () => {
    const t = setup(10);
    await t.view.setWindow(0, 3);
    await t.step();
    t.flows[1]!.comment = 'hi';
    t.touch(t.flows[1]!);
    let d = (await t.step())!;
    expect(d.ops).toHaveLength(1);
    expect(d.ops[0]![0]).toBe('u');
    t.touch(t.flows[8]!);
    d = (await t.step())!;
    expect(d).toBeNull();
  });

  it('caps a window at MAX_WINDOW rows', async () => {
    const t = setup(600);
    await t.view.setWindow(0, 10_000);
    await t.step();
    expect(t.page.rows).toHaveLength(500);
  });
});

describe('FlowView filters', () => {
  it('narrows to matching flows, counts them, and follows changes that make a flow match', async () => {
    const t = setup(10, (i) => flow(`/p${i}`, i % 2 ? 404 : 200));
    await t.view.setWindow(0, 10);
    await t.step();
    const r = t.view.set('~c 404', { column: 'seq', desc: false });
    expect(r.error).toBeUndefined();
    expect(r.describe).toBe('response code is 404');
    await t.step();
    expect(t.page.count).toBe(5);
    expect(paths(t.page)).toEqual(['/p1', '/p3', '/p5', '/p7', '/p9']);
    t.flows[0]!.response!.statusCode = 404;
    t.touch(t.flows[0]!);
    await t.step();
    expect(paths(t.page)).toEqual(['/p0', '/p1', '/p3', '/p5', '/p7', '/p9']);
    t.flows[3]!.response!.statusCode = 200;
    t.touch(t.flows[3]!);
    await t.step();
    expect(paths(t.page)).toEqual(['/p0', '/p1', '/p5', '/p7', '/p9']);
    expect(t.page.count).toBe(5);
  });

  it("refuses a filter that does not parse with the parser's message, and keeps the old one", async () => {
    const t = setup(4, (i) => flow(`/p${i}`, i ? 404 : 200));
    t.view.set('~c 404', { column: 'seq', desc: false });
    await t.view.setWindow(0, 10);
    await t.step();
    const r = t.view.set('~c', { column: 'seq', desc: false });
    expect(r.error).toMatch(/^Invalid filter expression at position \d+: /);
    expect(r.position).toBeTypeOf('number');
    expect(t.view.filterText).toBe('~c 404');
    await t.step();
    expect(t.page.count).toBe(3);
  });

  it('searches bodies (~bs) on the server', async () => {
    const t = setup(6, (i) => {
      const f = flow(`/p${i}`, 200);
      f.response!.text = i === 4 ? 'the needle is here' : 'hay';
      return f;
    });
    t.view.set('~bs needle', { column: 'seq', desc: false });
    await t.view.setWindow(0, 10);
    await t.step();
    expect(paths(t.page)).toEqual(['/p4']);
  });
});

describe('FlowView sort orders', () => {
  it('sorts ascending and descending, ties in arrival order, and re-sorts a row whose key changes', async () => {
    const statuses = [500, 200, 404, 200, 301];
    const t = setup(5, (i) => flow(`/p${i}`, statuses[i]));
    t.view.set('', { column: 'status', desc: false });
    await t.view.setWindow(0, 10);
    await t.step();
    expect(paths(t.page)).toEqual(['/p1', '/p3', '/p4', '/p2', '/p0']);
    t.view.set('', { column: 'status', desc: true });
    await t.step();
    expect(paths(t.page)).toEqual(['/p0', '/p2', '/p4', '/p3', '/p1']);
    t.flows[1]!.response!.statusCode = 450;
    t.touch(t.flows[1]!);
    const d = (await t.step())!;
    expect(paths(t.page)).toEqual(['/p0', '/p1', '/p2', '/p4', '/p3']);
    expect(d.ops.filter((o) => o[0] === 'r').map((o) => o[1])).toEqual([t.flows[1]!.id]);
  });

  it('a descending window pinned at the start shows new flows at the top', async () => {
    const t = setup(5);
    t.view.set('', { column: 'seq', desc: true });
    await t.view.setWindow(0, 3);
    await t.step();
    expect(paths(t.page)).toEqual(['/p4', '/p3', '/p2']);
    t.add(flow('/p5'));
    await t.step();
    expect(paths(t.page)).toEqual(['/p5', '/p4', '/p3']);
  });

  it('sorts by url, method, size and duration', async () => {
    const t = setup(3, (i) => flow(['/b', '/c', '/a'][i]!));
    for (const column of ['url', 'method', 'size', 'duration', 'host', 'created', 'type'] as const) {
      expect(t.view.set('', { column, desc: false }).error).toBeUndefined();
    }
    t.view.set('', { column: 'url', desc: false });
    await t.view.setWindow(0, 10);
    await t.step();
    expect(paths(t.page)).toEqual(['/a', '/b', '/c']);
    expect(t.view.set('', { column: 'nope' as 'url', desc: false }).error).toMatch(/Unknown sort column "nope"/);
  });
});

describe('FlowView removals', () => {
  it('removes a deleted row from the window and pulls the next one in', async () => {
    const t = setup(6);
    await t.view.setWindow(0, 3);
    await t.step();
    t.backend.remove(t.flows[1]!.id);
    const d = (await t.step())!;
    expect(d.count).toBe(5);
    expect(d.total).toBe(5);
    expect(paths(t.page)).toEqual(['/p0', '/p2', '/p3']);
    expect(t.store.get(t.flows[1]!.id)).toBeUndefined();
  });

  it('an anchored window whose anchor row is deleted keeps its place', async () => {
    const t = setup(10);
    await t.view.setWindow(4, 3);
    await t.step();
    expect(paths(t.page)).toEqual(['/p4', '/p5', '/p6']);
    t.backend.remove(t.flows[4]!.id);
    await t.step();
    expect(t.page.offset).toBe(4);
    expect(paths(t.page)).toEqual(['/p5', '/p6', '/p7']);
  });

  it('clear empties the window and the kernel store', async () => {
    const t = setup(6);
    await t.view.setWindow(0, 3);
    await t.step();
    t.backend.clear();
    const d = (await t.step())!;
    expect(d.count).toBe(0);
    expect(t.page.rows).toEqual([]);
    expect(t.store.size).toBe(0);
    t.add(flow('/after'));
    await t.step();
    expect(paths(t.page)).toEqual(['/after']);
  });
});

describe('windowOps', () => {
  const entry = (id: string) => ({ flow: { id }, key: 0, seq: 0 }) as unknown as FlowEntry;
  const opts = { row: (e: FlowEntry) => ({ id: e.flow.id, v: 1 }) as FlowRow, version: () => 1 };
  const check = (before: string[], after: string[]): RowOp[] => {
    const ops = windowOps(
      before.map((id) => ({ id, v: 1 })),
      after.map(entry),
      opts,
    );
    const rows = before.map((id) => ({ id, v: 1 }) as FlowRow);
    applyOps(rows, ops);
    expect(rows.map((r) => r.id)).toEqual(after);
    return ops;
  };

  it('turns any window into any other (moves, swaps, overlaps, empty)', async () => {
    check(['a', 'b', 'c'], ['a', 'b', 'c']);
    check(['a', 'b'], ['b', 'a']);
    check(['a', 'b', 'c', 'd'], ['d', 'a', 'c', 'b']);
    check(['a', 'b', 'c'], ['c', 'd', 'e']);
    check([], ['x', 'y']);
    check(['x', 'y'], []);
    check(['a', 'b', 'c', 'd', 'e'], ['e', 'd', 'c', 'b', 'a']);
    expect(check(['a', 'b', 'c'], ['a', 'b', 'c'])).toEqual([]);
  });

  it('sends only what changed for a window that scrolled by one row', async () => {
    const ops = check(['a', 'b', 'c'], ['b', 'c', 'd']);
    expect(ops).toEqual([
      ['r', 'a'],
      ['i', 2, { id: 'd', v: 1 }],
    ]);
  });
});

describe('FlowView cost per batch', () => {
  /** A parsed filter that counts its evaluations. */
  function countingFilter(text: string): { filter: QueryFilter; calls: () => number } {
    const inner = parseFilter(text);
    let calls = 0;
    const match = (f: Flow): boolean => (calls++, inner.match(f));
    const filter = Object.assign(match, { match, pattern: text, ast: inner.ast, describe: () => inner.describe() });
    return { filter: { text, match: filter as unknown as Filter }, calls: () => calls };
  }

  /** Work for one batch (100 new flows, 10 old ones changed) with `n` flows loaded. */
  async function batchWork(n: number): Promise<{ row: number; version: number; match: number }> {
    const t = setup(n);
    const counter = countingFilter('~u /p');
    const q = { filter: counter.filter, sort: { column: 'url' as const, desc: false } };
    t.backend.acquire(q);
    let row = 0;
    let version = 0;
    const view = new FlowView(t.backend, {
      row: (e) => (row++, { id: e.flow.id, url: (e.flow as HTTPFlow).request.path } as unknown as FlowRow),
      version: () => (version++, 0),
    });
    await view.setWindow(n, 50);
    t.backend.sync();
    await view.diff();
    const base = { row, version, match: counter.calls() };
    for (let i = 0; i < 100; i++) t.add(flow(`/q${i}`));
    for (let i = 0; i < 10; i++) t.touch(t.flows[i * 7]!);
    t.backend.sync();
    const d = (await view.diff())!;
    expect(d.count).toBe(n + 100);
    expect((await t.backend.slice(q, 0, 3)).map((e) => (e.flow as HTTPFlow).request.path)).toEqual([
      '/p0',
      '/p1',
      '/p10',
    ]);
    return { row: row - base.row, version: version - base.version, match: counter.calls() - base.match };
  }

  it('filters only the changed flows and reads only the window, whatever the flow count', async () => {
    const small = await batchWork(1_000);
    // The window (50 rows at the end): 50 new rows' JSON, the kept rows' versions; the filter
    // runs once per changed flow in each index (the view's and the counting query's).
    expect(small.row).toBe(50);
    expect(small.version).toBeLessThanOrEqual(50);
    expect(small.match).toBe(110);
    expect(await batchWork(30_000)).toEqual(small);
  });
});
