import { describe, expect, it } from 'vitest';
import { FlowStore } from '../../src/kernel/flowstore.js';
import { tflow, ttcpflow } from '../../src/flow/testing.js';
import { flowBytes } from '../../src/store/row.js';
import type { FlowIndex } from '../../src/store/query.js';

describe('FlowStore retention', () => {
  it('keeps the newest `limit` flows; re-adding moves a flow to the newest end', () => {
    const s = new FlowStore(3);
    const f = Array.from({ length: 5 }, () => tflow({ resp: true }));
    for (const x of f.slice(0, 3)) s.add(x);
    s.add(f[0]!);
    s.add(f[3]!);
    expect(s.all()).toEqual([f[2], f[0], f[3]]);
    s.limit = 1;
    expect(s.all()).toEqual([f[3]]);
    expect(() => (s.limit = -1)).toThrow(RangeError);
  });

  it('keeps at most maxBytes, measured at add and again at touch', () => {
    const s = new FlowStore(Infinity);
    s.maxBytes = 50_000;
    const small = tflow({ resp: true });
    const growing = tflow({ resp: true });
    s.add(small);
    s.add(growing);
    expect(s.bytes).toBe(flowBytes(small) + flowBytes(growing));
    growing.response!.rawContent = Buffer.alloc(48_000);
    // Not measured again yet: the store does not know the flow grew.
    expect(s.size).toBe(2);
    s.touch(growing);
    expect(s.all()).toEqual([growing]);
    expect(s.bytes).toBe(flowBytes(growing));
    growing.response!.rawContent = Buffer.alloc(60_000);
    s.touch(growing);
    expect(s.size).toBe(0);
    expect(s.bytes).toBe(0);
  });

  it('measures the kept flows when a byte bound is set later', () => {
    const s = new FlowStore(Infinity);
    const f = [tflow({ resp: true }), tflow({ resp: true })];
    f[0]!.response!.rawContent = Buffer.alloc(10_000);
    for (const x of f) s.add(x);
    expect(s.bytes).toBe(0);
    s.maxBytes = flowBytes(f[1]!) + 10;
    expect(s.all()).toEqual([f[1]]);
  });

  it('with limit 0 keeps nothing but still tells listeners', () => {
    const s = new FlowStore(0);
    const seen: string[] = [];
    s.onAdd((x) => seen.push(x.id));
    const f = tflow();
    s.add(f);
    expect(s.size).toBe(0);
    expect(seen).toEqual([f.id]);
  });

  it('answers with its own index until one is plugged in, and again after unplugging', async () => {
    const s = new FlowStore();
    expect(s.index).toBe(s.memory);
    const other = { name: 'other' } as FlowIndex;
    const seen: string[] = [];
    const off = s.onIndexChange((ix) => seen.push(ix.name));
    const unplug = s.useIndex(other);
    expect(s.index).toBe(other);
    unplug();
    unplug();
    expect(s.index).toBe(s.memory);
    // Each change told once (a second unplug changes nothing); none after unsubscribing.
    expect(seen).toEqual(['other', 'memory']);
    off();
    s.useIndex(other);
    expect(seen).toHaveLength(2);
  });
});

describe('the in-memory index', () => {
  const store = (): { s: FlowStore; flows: ReturnType<typeof tflow>[] } => {
    const s = new FlowStore(Infinity);
    const flows = [200, 404, 500, 404, 200].map((status, i) => {
      const f = tflow({ resp: true });
      f.response!.statusCode = status;
      f.request.path = `/p${4 - i}`;
      s.add(f);
      return f;
    });
    s.add(ttcpflow());
    return { s, flows };
  };

  it('filters, sorts (ties by seq) and pages with keyset cursors', async () => {
    const { s, flows } = store();
    const w1 = await s.memory.window({ filter: '~c 404 | ~c 500', sort: 'status', desc: true, limit: 2 });
    expect(w1.rows.map((r) => r.id)).toEqual([flows[2]!.id, flows[3]!.id]);
    const w2 = await s.memory.window({
      filter: '~c 404 | ~c 500',
      sort: 'status',
      desc: true,
      limit: 2,
      after: w1.next,
    });
    expect(w2.rows.map((r) => r.id)).toEqual([flows[1]!.id]);
    expect(w2.next).toBeNull();
    const byPath = await s.memory.window({ filter: '~http', sort: 'url' });
    expect(byPath.rows.map((r) => r.path)).toEqual(['/p0', '/p1', '/p2', '/p3', '/p4']);
  });

  it('counts, gets, streams', async () => {
    const { s, flows } = store();
    expect(await s.memory.count()).toBe(6);
    expect(await s.memory.count('~c 404')).toBe(2);
    expect(await s.memory.get(flows[0]!.id)).toBe(flows[0]);
    const ids: string[] = [];
    for await (const f of s.memory.flows('~c 200')) ids.push(f.id);
    expect(ids).toEqual([flows[0]!.id, flows[4]!.id]);
  });

  it('searches bodies newest first with hits', async () => {
    const { s, flows } = store();
    flows[1]!.response!.rawContent = Buffer.from('some text with a Needle in it');
    const r = await s.memory.searchBodies({ pattern: 'needle' });
    expect(r.matches.map((m) => m.row.id)).toEqual([flows[1]!.id]);
    expect(r.matches[0]!.hits).toEqual([
      { part: 'response', offset: 17, length: 6, snippet: 'some text with a Needle in it' },
    ]);
    expect((await s.memory.searchBodies({ pattern: 'needle', caseSensitive: true })).matches).toEqual([]);
    expect((await s.memory.searchBodies({ pattern: 'needle', side: 'request' })).matches).toEqual([]);
    const capped = await s.memory.searchBodies({ pattern: 'x', scanLimit: 2 });
    expect(capped.scanned).toBe(2);
    expect(capped.next).not.toBeNull();
  });
});
