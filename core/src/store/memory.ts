/**
 * The {@link FlowIndex} over the flows a kernel keeps in memory: filters run on the flow
 * objects, sorts on their rows. Cost is linear in the flows kept (the retention policy bounds
 * them), which is what the in-memory store is for; the SQLite store answers from indexes.
 */
import { parseFilter, type Filter } from '../filter/filter.js';
import type { Flow } from '../flow/flow.js';
import {
  MAX_WINDOW,
  type BodySearchMatch,
  type CountOptions,
  type BodySearchQuery,
  type BodySearchResult,
  type FlowFilterInput,
  type FlowIndex,
  type FlowRow,
  type FlowQuery,
  type FlowWindow,
  type FlowWindowRow,
} from './query.js';
import {
  bodyHits,
  bodyRegex,
  compareRows,
  type Cursor,
  decodeCursor,
  encodeCursor,
  flowRow,
  isAfter,
  isBefore,
  sortValue,
} from './row.js';

/** A filter input as a compiled filter (null: every flow). Throws FilterError for a bad expression. */
export function toFilter(input: FlowFilterInput): Filter | null {
  if (input === null || input === undefined || input === '') return null;
  return typeof input === 'string' ? parseFilter(input) : input;
}

/** The window size a query asks for, within 1 ... {@link MAX_WINDOW}. */
export function windowLimit(limit: number | undefined, fallback = 100): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${String(limit)}.`);
  return Math.min(limit, MAX_WINDOW);
}

/** A query's offset (default 0). */
export function windowOffset(n: number | undefined): number {
  if (n === undefined) return 0;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`offset must be 0 or a positive integer, got ${String(n)}.`);
  return n;
}

/** The cursor a count stops before, if any (see {@link FlowIndex.count}). */
export function countBefore(options: CountOptions | undefined): Cursor | null {
  const text = options?.before;
  if (!text) return null;
  return decodeCursor(text);
}

/** A query's scan limit (at least 1; default: none). */
export function scanBudget(n: number | undefined): number {
  if (n === undefined) return Infinity;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`scanLimit must be a positive integer, got ${String(n)}.`);
  return n;
}

/** What the memory index reads from its store: flows with their seq, in seq order. */
export interface KeptFlows {
  entries(): Iterable<{ readonly flow: Flow; readonly seq: number }>;
  entry(id: string): { readonly flow: Flow; readonly seq: number } | undefined;
}

export class MemoryFlowIndex implements FlowIndex {
  readonly name = 'memory';

  constructor(private readonly kept: KeptFlows) {}

  async window(query: FlowQuery = {}): Promise<FlowWindow> {
    const filter = toFilter(query.filter);
    let skip = windowOffset(query.offset);
    const sort = query.sort ?? 'seq';
    const desc = query.desc ?? false;
    const limit = windowLimit(query.limit);
    const scanLimit = scanBudget(query.scanLimit);
    const after = query.after ? decodeCursor(query.after, sort, desc) : null;
    const cursor = (r: FlowRow): string => encodeCursor({ sort, desc, value: sortValue(r, sort), seq: r.seq });
    // Every kept flow in window order (rows are cheap; the filter runs only as far as needed).
    const all = Array.from(this.kept.entries(), (e) => ({ flow: e.flow, row: flowRow(e.flow, e.seq) }));
    if (sort !== 'seq') all.sort((a, b) => compareRows(a.row, b.row, sort));
    if (desc) all.reverse();
    const rows: FlowWindowRow[] = [];
    let scanned = 0;
    /** The last flow looked at: a partial scan continues after it. */
    let last: FlowRow | null = null;
    for (const { flow, row } of all) {
      if (after && !isAfter(row, after)) continue;
      if (filter) {
        if (scanned === scanLimit) return { rows, next: cursor(last!) };
        scanned++;
        if (!filter.match(flow)) {
          last = row;
          continue;
        }
      }
      last = row;
      if (skip > 0) {
        skip--;
        continue;
      }
      if (rows.length === limit) return { rows, next: rows[limit - 1]!.cursor };
      rows.push({ ...row, cursor: cursor(row) });
    }
    return { rows, next: null };
  }

  async count(filter?: FlowFilterInput, options?: CountOptions): Promise<number> {
    const f = toFilter(filter);
    const before = countBefore(options);
    let n = 0;
    for (const e of this.kept.entries()) {
      if (before && !isBefore(flowRow(e.flow, e.seq), before)) continue;
      if (!f || f.match(e.flow)) n++;
    }
    return n;
  }

  async get(id: string): Promise<Flow | undefined> {
    return this.kept.entry(id)?.flow;
  }

  async searchBodies(query: BodySearchQuery): Promise<BodySearchResult> {
    const re = bodyRegex(query.pattern, query.caseSensitive);
    const filter = toFilter(query.filter);
    const limit = windowLimit(query.limit, 50);
    const scanLimit = query.scanLimit ?? 10_000;
    const before = query.after ? decodeCursor(query.after, 'seq', true).seq : Infinity;
    const newestFirst = [...this.kept.entries()].reverse();
    const matches: BodySearchMatch[] = [];
    let scanned = 0;
    let lastSeq = -1;
    for (const e of newestFirst) {
      if (e.seq >= before) continue;
      if (scanned >= scanLimit || matches.length >= limit)
        return { matches, scanned, next: encodeCursor({ sort: 'seq', desc: true, value: lastSeq, seq: lastSeq }) };
      scanned++;
      lastSeq = e.seq;
      if (filter && !filter.match(e.flow)) continue;
      const hits = bodyHits(e.flow, re, query.side ?? 'all');
      if (hits.length) matches.push({ row: flowRow(e.flow, e.seq), hits });
    }
    return { matches, scanned, next: null };
  }

  async *flows(filter?: FlowFilterInput): AsyncIterable<Flow> {
    const f = toFilter(filter);
    for (const e of [...this.kept.entries()]) if (!f || f.match(e.flow)) yield e.flow;
  }
}
