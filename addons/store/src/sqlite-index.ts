/**
 * The {@link FlowIndex} over a store database. Filters run as SQL prefilters (sql-filter.ts):
 * candidates that SQL cannot decide (not "sure") are decoded and the real filter decides. Long
 * scans go in chunks of rows (keyset on the sort), yielding to the event loop between chunks,
 * so a query never stalls the proxy serving in the same process.
 */
import {
  type BodySearchMatch,
  type BodySearchQuery,
  type BodySearchResult,
  bodyHits,
  bodyRegex,
  decodeCursor,
  encodeCursor,
  type Filter,
  type Flow,
  type FlowFilterInput,
  type FlowIndex,
  type FlowQuery,
  type FlowRow,
  type FlowSortKey,
  type FlowWindow,
  type FlowWindowRow,
  sortValue,
  toFilter,
  windowLimit,
} from '@mitmts/sdk';
import type { StoreDatabase } from './db.js';
import { ROW_SELECT, SORT_SQL, toFlowRow, type DbRow } from './schema.js';
import { prefilter } from './sql-filter.js';

/** Rows fetched per query while scanning. */
const CHUNK = 500;

/** A stored flow as selected; `sure`: the prefilter alone says it matches. */
type StoredRow = { seq: number; record: Buffer; ext: string | null; sure: number };
type Scanned = DbRow & StoredRow;

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface SqliteIndexOptions {
  /** Called before every read: the writer flushes what it holds, so reads see every flow. */
  readonly beforeRead?: () => void;
  /** Flows still in memory, returned live by `get` (the kernel's flow store). */
  readonly live?: (id: string) => Flow | undefined;
}

export class SqliteFlowIndex implements FlowIndex {
  readonly name: string;

  constructor(
    private readonly store: StoreDatabase,
    private readonly opts: SqliteIndexOptions = {},
  ) {
    this.name = `sqlite:${store.path}`;
  }

  async window(query: FlowQuery = {}): Promise<FlowWindow> {
    this.opts.beforeRead?.();
    const filter = toFilter(query.filter);
    const sort = query.sort ?? 'seq';
    const desc = query.desc ?? false;
    const limit = windowLimit(query.limit);
    const after = query.after ? decodeCursor(query.after, sort, desc) : null;
    const rows: FlowRow[] = [];
    for await (const { sure: _, ...row } of this.matching(filter, sort, desc, after ? [after.value, after.seq] : null)) {
      rows.push(row);
      if (rows.length > limit) break;
    }
    const more = rows.length > limit;
    const out: FlowWindowRow[] = rows.slice(0, limit).map((r) => ({ ...r, cursor: encodeCursor({ sort, desc, value: sortValue(r, sort), seq: r.seq }) }));
    return { rows: out, next: more ? out[out.length - 1]!.cursor : null };
  }

  async count(filter?: FlowFilterInput): Promise<number> {
    this.opts.beforeRead?.();
    const f = toFilter(filter);
    const pre = prefilter(f);
    const count = (where: string, params: readonly unknown[]): number => this.store.db.prepare(`SELECT count(*) FROM flows WHERE ${where}`).pluck().get(...params) as number;
    if (pre.exact) return count(pre.where.sql, pre.where.params);
    let n = count(`(${pre.where.sql}) AND (${pre.sure.sql})`, [...pre.where.params, ...pre.sure.params]);
    // The rest of the candidates are decoded.
    for await (const r of this.matching(f, 'seq', false, null)) if (!r.sure) n++;
    return n;
  }

  async get(id: string): Promise<Flow | undefined> {
    const live = this.opts.live?.(id);
    if (live) return live;
    this.opts.beforeRead?.();
    const r = this.store.db.prepare('SELECT seq, record, ext FROM flows WHERE id = ?').get(id) as { seq: number; record: Buffer; ext: string | null } | undefined;
    return r ? this.store.flow(r, r.seq) : undefined;
  }

  async searchBodies(query: BodySearchQuery): Promise<BodySearchResult> {
    this.opts.beforeRead?.();
    const re = bodyRegex(query.pattern, query.caseSensitive);
    const filter = toFilter(query.filter);
    const pre = prefilter(filter);
    const limit = windowLimit(query.limit, 50);
    const scanLimit = query.scanLimit ?? 10_000;
    let before = query.after ? decodeCursor(query.after, 'seq', true).seq : Number.MAX_SAFE_INTEGER;
    const matches: BodySearchMatch[] = [];
    let scanned = 0;
    const stmt = this.store.db.prepare(`SELECT ${ROW_SELECT}, record, ext, (${pre.sure.sql}) AS sure FROM flows WHERE (${pre.where.sql}) AND seq < ? ORDER BY seq DESC LIMIT ?`);
    const next = (): string => encodeCursor({ sort: 'seq', desc: true, value: before, seq: before });
    for (;;) {
      if (scanned >= scanLimit) return { matches, scanned, next: next() };
      const chunk = stmt.all(...pre.sure.params, ...pre.where.params, before, Math.min(CHUNK, scanLimit - scanned)) as Scanned[];
      if (chunk.length === 0) return { matches, scanned, next: null };
      for (const r of chunk) {
        scanned++;
        before = r.seq;
        const flow = this.store.flow(r, r.seq);
        if (filter && !r.sure && !filter.match(flow)) continue;
        const hits = bodyHits(flow, re, query.side ?? 'all');
        if (hits.length) matches.push({ row: toFlowRow(r), hits });
        if (matches.length >= limit) return { matches, scanned, next: next() };
      }
      await tick();
    }
  }

  async *flows(filter?: FlowFilterInput): AsyncIterable<Flow> {
    this.opts.beforeRead?.();
    let n = 0;
    for (const flow of this.scan(toFilter(filter))) {
      yield flow;
      if (++n % CHUNK === 0) await tick();
    }
  }

  /** Every flow matching `filter`, in seq order, synchronously (readers of a database file). */
  *scan(filter: Filter | null): Generator<Flow> {
    for (const { r, flow } of this.stored(filter)) yield flow ?? this.store.flow(r, r.seq);
  }

  /** Raw records (the `.mitm` bytes) of the flows matching `filter`, in seq order. */
  *records(filter: Filter | null): Generator<Buffer> {
    for (const { r } of this.stored(filter)) yield this.store.record(r);
  }

  /** Stored rows matching `filter` in seq order, with the flow when the filter needed it decoded. */
  private *stored(filter: Filter | null): Generator<{ r: StoredRow; flow: Flow | undefined }> {
    const pre = prefilter(filter);
    const stmt = this.store.db.prepare(`SELECT seq, record, ext, (${pre.sure.sql}) AS sure FROM flows WHERE (${pre.where.sql}) AND seq > ? ORDER BY seq LIMIT ${CHUNK}`);
    let last = 0;
    for (;;) {
      const chunk = stmt.all(...pre.sure.params, ...pre.where.params, last) as StoredRow[];
      if (chunk.length === 0) return;
      for (const r of chunk) {
        last = r.seq;
        let flow: Flow | undefined;
        if (!r.sure && filter !== null) {
          flow = this.store.flow(r, r.seq);
          if (!filter.match(flow)) continue;
        }
        yield { r, flow };
      }
    }
  }

  /**
   * Rows matching `filter` in the given order, after a keyset position (with `sure`: whether
   * SQL alone decided). Rows SQL cannot decide are decoded and filtered.
   */
  private async *matching(filter: Filter | null, sort: FlowSortKey, desc: boolean, after: [string | number, number] | null): AsyncGenerator<FlowRow & { sure: boolean }> {
    const pre = prefilter(filter);
    const order = SORT_SQL[sort];
    const dir = desc ? 'DESC' : 'ASC';
    const keyset = `(${order}, seq) ${desc ? '<' : '>'} (?, ?)`;
    const cols = pre.exact ? ROW_SELECT : `${ROW_SELECT}, record, ext`;
    const sql = (withKeyset: boolean): string =>
      `SELECT ${cols}, ${order} AS sort_value, (${pre.sure.sql}) AS sure FROM flows WHERE (${pre.where.sql})${withKeyset ? ` AND ${keyset}` : ''} ORDER BY ${order} ${dir}, seq ${dir} LIMIT ${CHUNK}`;
    const first = this.store.db.prepare(sql(false));
    const next = this.store.db.prepare(sql(true));
    let pos = after;
    for (;;) {
      const params: unknown[] = [...pre.sure.params, ...pre.where.params];
      if (pos) params.push(pos[0], pos[1]);
      const chunk = (pos ? next : first).all(...params) as Array<Scanned & { sort_value: string | number }>;
      for (const r of chunk) {
        pos = [r.sort_value, r.seq];
        if (!r.sure && filter && !filter.match(this.store.flow(r, r.seq))) continue;
        yield { ...toFlowRow(r), sure: r.sure === 1 };
      }
      if (chunk.length < CHUNK) return;
      await tick();
    }
  }
}
