/**
 * {@link FlowBackend} over the kernel's in-memory flow store. Each query in use keeps a sorted
 * array of its matching rows, updated incrementally: a changed flow is re-filtered and moved to
 * its new place (binary search; new flows in arrival order are a push), so a view reads counts
 * and windows without scanning. Building an index for a new filter scans every flow once.
 */
import type { Flow, FlowStore } from '@mitmts/sdk';
import type { Cursor, FlowBackend, FlowEntry, FlowQuery, QueryFilter, SortColumn } from './backend.js';
import { compareCursors, sortKey } from './sortkeys.js';

interface Row extends FlowEntry {
  readonly key: number | string;
}

/** First position whose row is >= cursor (`strict`: > cursor). */
function bound(rows: readonly Row[], c: Cursor, strict: boolean): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = compareCursors(rows[mid]!, c);
    if (cmp < 0 || (strict && cmp === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The matching rows of one (filter, sort column), ascending by (key, seq). */
class QueryIndex {
  readonly rows: Row[] = [];
  private readonly byFlow = new Map<Flow, Row>();
  users = 0;

  constructor(
    private readonly q: FlowQuery,
    private readonly column: SortColumn,
  ) {}

  build(records: Iterable<[Flow, number]>): void {
    for (const [flow, seq] of records) {
      if (!this.matches(flow)) continue;
      const row: Row = { flow, seq, key: sortKey(this.column, flow, seq) };
      this.rows.push(row);
      this.byFlow.set(flow, row);
    }
    this.rows.sort(compareCursors);
  }

  /** Re-place a flow after a change. */
  update(flow: Flow, seq: number): void {
    const old = this.byFlow.get(flow);
    const match = this.matches(flow);
    const key = match ? sortKey(this.column, flow, seq) : 0;
    if (old && match && old.key === key) return;
    if (old) this.drop(flow);
    if (!match) return;
    const row: Row = { flow, seq, key };
    const rows = this.rows;
    const last = rows[rows.length - 1];
    if (last === undefined || compareCursors(last, row) < 0) rows.push(row);
    else rows.splice(bound(rows, row, false), 0, row);
    this.byFlow.set(flow, row);
  }

  reset(): void {
    this.rows.length = 0;
    this.byFlow.clear();
  }

  drop(flow: Flow): void {
    const old = this.byFlow.get(flow);
    if (!old) return;
    this.byFlow.delete(flow);
    const i = bound(this.rows, old, false);
    if (this.rows[i] === old) this.rows.splice(i, 1);
  }

  private matches(flow: Flow): boolean {
    const f = this.q.filter;
    if (f === null) return true;
    try {
      return f.match(flow);
    } catch {
      return false;
    }
  }
}

const indexKey = (q: FlowQuery): string => `${q.sort.column}\n${q.filter?.text ?? ''}`;

export class MemoryBackend implements FlowBackend {
  /** Arrival numbers, in arrival order: the flows this backend knows. */
  private readonly seqs = new Map<Flow, number>();
  private readonly byId = new Map<string, Flow>();
  private readonly indexes = new Map<string, QueryIndex>();
  private readonly pending = new Set<Flow>();
  private nextSeq = 1;
  private readonly unsubscribe: () => void;

  /** Mirrors `store` (flows already in it, and every flow added later). */
  constructor(private readonly store: FlowStore) {
    for (const f of store.all()) this.put(f);
    this.unsubscribe = store.onAdd((f) => this.put(f));
  }

  /** Stop following the kernel's store. */
  close(): void {
    this.unsubscribe();
  }

  readonly deleteRefused = null;

  async total(): Promise<number> {
    return this.seqs.size;
  }

  async get(id: string): Promise<Flow | undefined> {
    return this.byId.get(id);
  }

  live(id: string): Flow | undefined {
    return this.byId.get(id);
  }

  all(): Iterable<Flow> {
    return this.seqs.keys();
  }

  async *flows(filter: QueryFilter | null): AsyncIterable<Flow> {
    this.sync();
    // A snapshot of the matching rows (the query's index, dropped at the next sync if unused).
    for (const row of [...this.index({ filter, sort: { column: 'seq', desc: false } }).rows]) yield row.flow;
  }

  put(flow: Flow): void {
    if (!this.seqs.has(flow)) {
      const prev = this.byId.get(flow.id);
      if (prev) this.forget(prev);
      this.seqs.set(flow, this.nextSeq++);
      this.byId.set(flow.id, flow);
    }
    this.pending.add(flow);
  }

  remove(id: string): boolean {
    const flow = this.byId.get(id);
    if (!flow) return false;
    this.forget(flow);
    this.store.remove(id);
    return true;
  }

  clear(): void {
    this.seqs.clear();
    this.byId.clear();
    this.pending.clear();
    for (const ix of this.indexes.values()) ix.reset();
    this.store.clear();
  }

  sync(): void {
    // Indexes nobody acquired served one read (a REST query): not worth maintaining.
    for (const [k, ix] of this.indexes) if (ix.users <= 0) this.indexes.delete(k);
    if (this.pending.size === 0) return;
    for (const flow of this.pending) {
      const seq = this.seqs.get(flow);
      if (seq === undefined) continue;
      for (const ix of this.indexes.values()) ix.update(flow, seq);
    }
    this.pending.clear();
  }

  acquire(q: FlowQuery): void {
    this.index(q).users++;
  }

  release(q: FlowQuery): void {
    const k = indexKey(q);
    const ix = this.indexes.get(k);
    if (ix && --ix.users <= 0) this.indexes.delete(k);
  }

  async count(q: FlowQuery): Promise<number> {
    return this.index(q).rows.length;
  }

  async slice(q: FlowQuery, offset: number, limit: number): Promise<FlowEntry[]> {
    const rows = this.index(q).rows;
    const n = rows.length;
    offset = Math.max(0, offset);
    if (!q.sort.desc) return rows.slice(offset, offset + limit);
    return rows.slice(Math.max(0, n - offset - limit), Math.max(0, n - offset)).reverse();
  }

  async from(q: FlowQuery, cursor: Cursor, limit: number): Promise<FlowEntry[]> {
    const rows = this.index(q).rows;
    if (!q.sort.desc) {
      const i = bound(rows, cursor, false);
      return rows.slice(i, i + limit);
    }
    const j = bound(rows, cursor, true);
    return rows.slice(Math.max(0, j - limit), j).reverse();
  }

  async rank(q: FlowQuery, cursor: Cursor): Promise<number> {
    const rows = this.index(q).rows;
    return q.sort.desc ? rows.length - bound(rows, cursor, true) : bound(rows, cursor, false);
  }

  private forget(flow: Flow): void {
    this.seqs.delete(flow);
    if (this.byId.get(flow.id) === flow) this.byId.delete(flow.id);
    this.pending.delete(flow);
    for (const ix of this.indexes.values()) ix.drop(flow);
  }

  /** The index for a query: built on first use from every flow (pending changes applied first). */
  private index(q: FlowQuery): QueryIndex {
    const k = indexKey(q);
    let ix = this.indexes.get(k);
    if (!ix) {
      this.sync();
      ix = new QueryIndex(q, q.sort.column);
      ix.build(this.seqs);
      this.indexes.set(k, ix);
    }
    return ix;
  }
}
