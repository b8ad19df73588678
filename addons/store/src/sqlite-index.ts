/**
 * The {@link FlowIndex} over a store database. Filters run as SQL prefilters (sql-filter.ts):
 * candidates that SQL cannot decide (not "sure") get a quick look at their raw record for body
 * filters (raw-filter.ts), then are decoded and the real filter decides. Long scans go in chunks
 * of rows (keyset on the sort), yielding to the event loop between chunks, so a query never
 * stalls the proxy serving in the same process.
 */
import {
  type BodySearchMatch,
  type BodySearchQuery,
  type BodySearchResult,
  bodyHits,
  bodyRegex,
  countBefore,
  type CountOptions,
  type Cursor,
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
  scanBudget,
  sortValue,
  toFilter,
  windowLimit,
  windowOffset,
} from '@mitmts/sdk/store';
import type { StoreDatabase } from './db.js';
import { filterRawTest, type RawTest, searchRawTest } from './raw-filter.js';
import { ROW_SELECT, SORT_SQL, toFlowRow, type DbRow, type StoredForm } from './schema.js';
import { prefilter, type Prefilter, type Sql } from './sql-filter.js';

/** Rows fetched per query while scanning. */
const CHUNK = 500;

/** A stored flow as selected; `sure`: the prefilter alone says it matches. */
type StoredRow = StoredForm & { seq: number; type: string; sure: number };
type Scanned = DbRow & StoredRow & { sort_value: string | number };

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface SqliteIndexOptions {
  /** Awaited before every read: the writer commits what it holds, so reads see every flow. */
  readonly beforeRead?: () => void | Promise<void>;
  /** Flows still in memory, returned live by `get` (the kernel's flow store). */
  readonly live?: (id: string) => Flow | undefined;
}

/** How many undecided rows a scan may still decode, and the last position it looked at. */
interface Budget {
  left: number;
  last: [string | number, number] | null;
}

/** A filter ready to run over the table: its prefilter and raw test. */
interface Plan {
  readonly filter: Filter | null;
  readonly pre: Prefilter;
  readonly raw: RawTest | null;
}

function plan(input: FlowFilterInput): Plan {
  const filter = toFilter(input);
  return { filter, pre: prefilter(filter), raw: filter ? filterRawTest(filter.ast) : null };
}

/** The rows before a cursor in its order, as SQL. */
function beforeSql(c: Cursor): Sql {
  return { sql: `(${SORT_SQL[c.sort]}, seq) ${c.desc ? '>' : '<'} (?, ?)`, params: [c.value, c.seq] };
}

/** A plan restricted to the rows satisfying `cond` too (an exact condition on the columns). */
function restrict(p: Plan, cond: Sql): Plan {
  const both = (a: Sql): Sql => ({ sql: `(${a.sql}) AND (${cond.sql})`, params: [...a.params, ...cond.params] });
  return { ...p, pre: { where: both(p.pre.where), sure: both(p.pre.sure), exact: p.pre.exact } };
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
    await this.opts.beforeRead?.();
    const sort = query.sort ?? 'seq';
    const desc = query.desc ?? false;
    const limit = windowLimit(query.limit);
    const after = query.after ? decodeCursor(query.after, sort, desc) : null;
    const budget: Budget = { left: scanBudget(query.scanLimit), last: null };
    const rows: FlowRow[] = [];
    for await (const r of this.rows(
      plan(query.filter),
      sort,
      desc,
      after ? [after.value, after.seq] : null,
      budget,
      windowOffset(query.offset),
    )) {
      rows.push(toFlowRow(r));
      if (rows.length > limit) break;
    }
    const out: FlowWindowRow[] = rows
      .slice(0, limit)
      .map((r) => ({ ...r, cursor: encodeCursor({ sort, desc, value: sortValue(r, sort), seq: r.seq }) }));
    if (rows.length > limit) return { rows: out, next: out[out.length - 1]!.cursor };
    // Out of budget: continue after the last row looked at.
    const next =
      budget.left === 0 && budget.last
        ? encodeCursor({ sort, desc, value: budget.last[0], seq: budget.last[1] })
        : null;
    return { rows: out, next };
  }

  async count(filter?: FlowFilterInput, options?: CountOptions): Promise<number> {
    await this.opts.beforeRead?.();
    const before = countBefore(options);
    const p = before ? restrict(plan(filter), beforeSql(before)) : plan(filter);
    const { where, sure } = p.pre;
    const count = (c: Sql): number =>
      this.store.db
        .prepare(`SELECT count(*) FROM flows WHERE ${c.sql}`)
        .pluck()
        .get(...c.params) as number;
    if (p.pre.exact) return count(where);
    let n = count({ sql: `(${where.sql}) AND (${sure.sql})`, params: [...where.params, ...sure.params] });
    // The candidates SQL could not decide are decoded.
    const undecided: Plan = {
      ...p,
      pre: {
        where: { sql: `(${where.sql}) AND NOT (${sure.sql})`, params: [...where.params, ...sure.params] },
        sure: { sql: '0', params: [] },
        exact: false,
      },
    };
    for await (const _ of this.rows(undecided, 'seq', false, null)) n++;
    return n;
  }

  async get(id: string): Promise<Flow | undefined> {
    const live = this.opts.live?.(id);
    if (live) return live;
    await this.opts.beforeRead?.();
    const { from, columns } = this.store.source;
    const r = this.store.db.prepare(`SELECT seq, ${columns} FROM ${from} WHERE id = ?`).get(id) as
      (StoredForm & { seq: number }) | undefined;
    return r ? this.store.flow(r, r.seq) : undefined;
  }

  async searchBodies(query: BodySearchQuery): Promise<BodySearchResult> {
    await this.opts.beforeRead?.();
    const re = bodyRegex(query.pattern, query.caseSensitive);
    const hasPattern = searchRawTest(query.pattern, query.caseSensitive ?? false);
    const p = plan(query.filter);
    const limit = windowLimit(query.limit, 50);
    const scanLimit = query.scanLimit ?? 10_000;
    let before = query.after ? decodeCursor(query.after, 'seq', true).seq : Number.MAX_SAFE_INTEGER;
    const matches: BodySearchMatch[] = [];
    let scanned = 0;
    const { where, sure } = p.pre;
    const { from, columns } = this.store.source;
    const stmt = this.store.db.prepare(
      `SELECT ${ROW_SELECT}, ${columns}, (${sure.sql}) AS sure FROM ${from} WHERE (${where.sql}) AND seq < ? ORDER BY seq DESC LIMIT ?`,
    );
    const next = (): string => encodeCursor({ sort: 'seq', desc: true, value: before, seq: before });
    for (;;) {
      if (scanned >= scanLimit) return { matches, scanned, next: next() };
      const chunk = stmt.all(
        ...sure.params,
        ...where.params,
        before,
        Math.min(CHUNK, scanLimit - scanned),
      ) as Scanned[];
      if (chunk.length === 0) return { matches, scanned, next: null };
      for (const r of chunk) {
        scanned++;
        before = r.seq;
        const record = this.store.record(r, r.seq);
        if (hasPattern && !this.rawMayMatch(r, record, hasPattern)) continue;
        const flow = r.sure ? this.store.decode(record, r.seq) : this.check(r, record, p);
        if (!flow) continue;
        const hits = bodyHits(flow, re, query.side ?? 'all');
        if (hits.length) matches.push({ row: toFlowRow(r), hits });
        if (matches.length >= limit) return { matches, scanned, next: next() };
      }
      await tick();
    }
  }

  async *flows(filter?: FlowFilterInput): AsyncIterable<Flow> {
    await this.opts.beforeRead?.();
    let n = 0;
    for (const flow of this.scan(toFilter(filter))) {
      yield flow;
      if (++n % CHUNK === 0) await tick();
    }
  }

  /** Every flow matching `filter`, in seq order, synchronously (readers of a database file). */
  *scan(filter: Filter | null): Generator<Flow> {
    for (const { r, record, flow } of this.stored(filter)) yield flow ?? this.store.decode(record, r.seq);
  }

  /** Raw records (the `.mitm` bytes) of the flows matching `filter`, in seq order. */
  *records(filter: Filter | null): Generator<Buffer> {
    for (const { record } of this.stored(filter)) yield record;
  }

  /**
   * Stored flows matching `filter` in seq order: the record, and the flow if deciding needed it.
   * First the matching seqs, from the columns alone (so SQLite can answer from an index that
   * holds the filtered columns, instead of a table lookup per candidate in seq order), then
   * their records in chunks.
   */
  private *stored(filter: Filter | null): Generator<{ r: StoredRow; record: Buffer; flow: Flow | null }> {
    const p = plan(filter);
    const { where, sure } = p.pre;
    // seq * 2 + sure: one number per candidate.
    const seqs = this.store.db
      .prepare(`SELECT seq * 2 + coalesce((${sure.sql}), 0) FROM flows WHERE ${where.sql}`)
      .pluck()
      .all(...sure.params, ...where.params) as number[];
    seqs.sort((a, b) => a - b);
    const { from, columns } = this.store.source;
    const fetch = this.store.db.prepare(
      `SELECT seq, type, ${columns} FROM ${from} WHERE seq IN (${Array(CHUNK).fill('?').join(', ')}) ORDER BY seq`,
    );
    for (let i = 0; i < seqs.length; i += CHUNK) {
      const part = seqs.slice(i, i + CHUNK);
      const ids = part.map((x) => Math.floor(x / 2));
      while (ids.length < CHUNK) ids.push(-1);
      const rows = fetch.all(...ids) as Array<Omit<StoredRow, 'sure'>>;
      let k = 0;
      for (const row of rows) {
        while (Math.floor(part[k]! / 2) !== row.seq) k++;
        const r: StoredRow = { ...row, sure: part[k]! % 2 };
        const record = this.store.record(r, r.seq);
        if (r.sure || p.filter === null) {
          yield { r, record, flow: null };
          continue;
        }
        const flow = this.check(r, record, p);
        if (flow) yield { r, record, flow };
      }
    }
  }

  /**
   * Rows matching in the given order, after a keyset position, in chunks; undecided ones are
   * decoded, at most `budget.left` of them (then it stops, `budget.last` where it stopped).
   */
  private async *rows(
    p: Plan,
    sort: FlowSortKey,
    desc: boolean,
    after: [string | number, number] | null,
    budget: Budget = { left: Infinity, last: null },
    offset = 0,
  ): AsyncGenerator<Scanned> {
    const { where, sure } = p.pre;
    const order = SORT_SQL[sort];
    const dir = desc ? 'DESC' : 'ASC';
    const keyset = `(${order}, seq) ${desc ? '<' : '>'} (?, ?)`;
    const { from: joined, columns } = this.store.source;
    const [cols, from] = p.pre.exact ? [ROW_SELECT, 'flows'] : [`${ROW_SELECT}, ${columns}`, joined];
    // An exact prefilter skips `offset` rows in SQL; otherwise they are skipped here, once filtered.
    let sqlOffset = p.pre.exact ? offset : 0;
    let skip = offset - sqlOffset;
    const sql = (withKeyset: boolean, withOffset: boolean): string =>
      `SELECT ${cols}, ${order} AS sort_value, (${sure.sql}) AS sure FROM ${from} WHERE (${where.sql})${withKeyset ? ` AND ${keyset}` : ''} ORDER BY ${order} ${dir}, seq ${dir} LIMIT ${CHUNK}${withOffset ? ' OFFSET ?' : ''}`;
    const next = this.store.db.prepare(sql(true, false));
    let pos = after;
    for (;;) {
      const params: unknown[] = [...sure.params, ...where.params];
      if (pos) params.push(pos[0], pos[1]);
      if (sqlOffset > 0) params.push(sqlOffset);
      const stmt = sqlOffset > 0 || !pos ? this.store.db.prepare(sql(pos !== null, sqlOffset > 0)) : next;
      sqlOffset = 0;
      const chunk = stmt.all(...params) as Scanned[];
      for (const r of chunk) {
        if (!r.sure && p.filter !== null) {
          if (budget.left === 0) return;
          budget.left--;
        }
        pos = budget.last = [r.sort_value, r.seq];
        if (!(r.sure || p.filter === null || this.check(r, this.store.record(r, r.seq), p))) continue;
        if (skip > 0) skip--;
        else yield r;
      }
      if (chunk.length < CHUNK) return;
      await tick();
    }
  }

  /** A candidate SQL could not decide: the raw test, then decoded and filtered. The flow if it matches. */
  private check(r: StoredRow, record: Buffer, p: Plan): Flow | null {
    if (p.raw && !this.rawMayMatch(r, record, p.raw)) return null;
    const flow = this.store.decode(record, r.seq);
    return p.filter === null || p.filter.match(flow) ? flow : null;
  }

  /** The raw test applies to records holding their bodies, of flows whose bodies are searched as bytes. */
  private rawMayMatch(r: StoredRow, record: Buffer, test: RawTest): boolean {
    return r.ext !== null || r.type === 'dns' || test(record);
  }
}
