/**
 * {@link FlowBackend} over the kernel's flow index when a store plugs one in (the store addon's
 * SQLite index): counts, windows and positions are answered by the store, over every flow it
 * recorded, while the kernel keeps only its newest flows in memory (the store's retention
 * policy stays in force). Windows by position use the index's `offset` from the nearer end;
 * keyset windows and ranks use cursors. A row's flow is the live one while the kernel keeps
 * it, else a copy read back from the store (a few recent copies are kept).
 */
import { type Flow, type FlowStore } from '@mitmts/sdk';
import {
  encodeCursor,
  type FlowFilterInput,
  type FlowIndex,
  type FlowSortKey,
  type FlowWindowRow,
  sortValue,
} from '@mitmts/sdk/store';
import type { Cursor, FlowBackend, FlowEntry, FlowQuery, QueryFilter, SortColumn } from './backend.js';

/** The index's sort key for each view column (the same orders as sortkeys.ts). */
const SORT: Readonly<Record<SortColumn, FlowSortKey>> = {
  seq: 'seq',
  created: 'timestamp',
  method: 'method',
  url: 'url',
  host: 'host',
  status: 'status',
  size: 'size',
  duration: 'duration',
  type: 'type',
};

/** Copies of flows read back from the store, kept for the next reads at most. */
const KEEP_COPIES = 2000;

export class IndexBackend implements FlowBackend {
  readonly deleteRefused: string;
  /** Counts asked since the last change (the view asks for the same ones on every batch). */
  private readonly counts = new Map<string, Promise<number>>();
  private readonly copies = new Map<string, Flow>();
  private changed = false;

  constructor(
    private readonly kept: FlowStore,
    private readonly index: FlowIndex,
  ) {
    this.deleteRefused = `Flows recorded in a store (${index.name}) cannot be deleted from the web UI: the store keeps every flow. Stop recording (unset the store option) or use another store file to start afresh.`;
  }

  async get(id: string): Promise<Flow | undefined> {
    return this.kept.get(id) ?? this.copy(id);
  }

  live(id: string): Flow | undefined {
    return this.kept.get(id);
  }

  all(): Iterable<Flow> {
    return this.kept.all();
  }

  async *flows(filter: QueryFilter | null): AsyncIterable<Flow> {
    for await (const f of this.index.flows(filter?.match ?? null)) yield this.kept.get(f.id) ?? f;
  }

  total(): Promise<number> {
    return this.count({ filter: null, sort: { column: 'seq', desc: false } });
  }

  count(q: FlowQuery): Promise<number> {
    const key = q.filter?.text ?? '';
    let n = this.counts.get(key);
    if (n === undefined) {
      n = this.index.count(filterOf(q));
      this.counts.set(key, n);
      // A failed count is asked again next time.
      n.catch(() => this.counts.delete(key));
    }
    return n;
  }

  async slice(q: FlowQuery, offset: number, limit: number): Promise<FlowEntry[]> {
    if (limit <= 0) return [];
    const sort = SORT[q.sort.column];
    const total = await this.count(q);
    if (offset >= total) return [];
    // Skipping is linear in the rows skipped: start from the nearer end.
    if (offset > total / 2) {
      const n = Math.min(limit, total - offset);
      const w = await this.index.window({
        filter: filterOf(q),
        sort,
        desc: !q.sort.desc,
        offset: total - offset - n,
        limit: n,
      });
      return this.entries([...w.rows].reverse(), sort);
    }
    const w = await this.index.window({ filter: filterOf(q), sort, desc: q.sort.desc, offset, limit });
    return this.entries(w.rows, sort);
  }

  async from(q: FlowQuery, cursor: Cursor, limit: number): Promise<FlowEntry[]> {
    if (limit <= 0) return [];
    const sort = SORT[q.sort.column];
    const desc = q.sort.desc;
    // `after` is exclusive; seqs are integers, so the row at the cursor is after (key, seq -/+ 1).
    const after = encodeCursor({ sort, desc, value: cursor.key, seq: desc ? cursor.seq + 1 : cursor.seq - 1 });
    const w = await this.index.window({ filter: filterOf(q), sort, desc, after, limit });
    return this.entries(w.rows, sort);
  }

  rank(q: FlowQuery, cursor: Cursor): Promise<number> {
    const sort = SORT[q.sort.column];
    return this.index.count(filterOf(q), {
      before: encodeCursor({ sort, desc: q.sort.desc, value: cursor.key, seq: cursor.seq }),
    });
  }

  put(flow: Flow): void {
    this.changed = true;
    this.copies.delete(flow.id);
  }

  remove(): boolean {
    return false;
  }

  clear(): void {}

  sync(): void {
    if (!this.changed) return;
    this.changed = false;
    this.counts.clear();
  }

  acquire(): void {}

  release(): void {}

  private async entries(rows: readonly FlowWindowRow[], sort: FlowSortKey): Promise<FlowEntry[]> {
    const out: FlowEntry[] = [];
    for (const row of rows) {
      const flow = this.kept.get(row.id) ?? (await this.copy(row.id));
      if (flow) out.push({ flow, seq: row.seq, key: sortValue(row, sort) });
    }
    return out;
  }

  /** A flow the kernel no longer keeps, read back from the store. */
  private async copy(id: string): Promise<Flow | undefined> {
    const kept = this.copies.get(id);
    if (kept) return kept;
    const flow = await this.index.get(id);
    if (!flow) return undefined;
    this.copies.set(id, flow);
    if (this.copies.size > KEEP_COPIES) this.copies.delete(this.copies.keys().next().value!);
    return flow;
  }
}

function filterOf(q: FlowQuery): FlowFilterInput {
  return q.filter?.match ?? null;
}
