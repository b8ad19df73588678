/**
 * One page's view of the flows: a filter, a sort order and the window of rows it shows, kept in
 * the server. The page asks for windows by position; the view remembers where the window is
 * (pinned to the start, following the end, or anchored at a row's cursor, so rows inserted
 * above it move the offset instead of the rows) and answers each batch of changes with a delta
 * of the rows it shows (insert/update/remove) plus the count.
 */
import { parseFilter } from '@mitmts/sdk';
import type { Cursor, FlowBackend, FlowEntry, FlowQuery, SortSpec } from './backend.js';
import { SORT_COLUMNS } from './backend.js';
import type { FlowRow, RowOp, ViewDelta, ViewFilterResult } from './protocol.js';

/** Where the window is: first rows, last rows, or from a row's cursor on. */
type Placement = { kind: 'start' } | { kind: 'end' } | { kind: 'anchor'; cursor: Cursor };

/** Most rows one window may hold (a page shows ~50; the rest is scroll margin). */
export const MAX_WINDOW = 500;

export interface ViewOptions {
  /** The row for a flow with its current version. */
  row(entry: FlowEntry): FlowRow;
  /** A number that changes whenever the flow changes. */
  version(entry: FlowEntry): number;
}

export class FlowView {
  private query: FlowQuery = { filter: null, sort: { column: 'seq', desc: false } };
  private placement: Placement = { kind: 'start' };
  private limit = 0;
  /** What the page has: ids and versions of its window, in order, and the counts. */
  private shown: Array<{ id: string; v: number }> = [];
  private sentCount = -1;
  private sentTotal = -1;
  private sentOffset = -1;

  constructor(
    private backend: FlowBackend,
    private readonly opts: ViewOptions,
  ) {
    backend.acquire(this.query);
  }

  /**
   * Read another backend from now on (a store was plugged in or out): same filter, sort and
   * window size; a window anchored at a row goes back to the start (the row's cursor belongs
   * to the old backend), the end stays the end. The next diff sends the whole window.
   */
  moveTo(backend: FlowBackend): void {
    this.backend.release(this.query);
    this.backend = backend;
    backend.acquire(this.query);
    if (this.placement.kind === 'anchor') this.placement = { kind: 'start' };
    this.resetShown();
  }

  get filterText(): string {
    return this.query.filter?.text ?? '';
  }

  get sort(): SortSpec {
    return this.query.sort;
  }

  /**
   * Change the filter and sort. A filter that does not parse leaves the view as it was and
   * returns the error (the message the command line prints for it).
   */
  set(filter: string, sort: SortSpec): ViewFilterResult {
    if (!SORT_COLUMNS.includes(sort.column)) {
      return {
        filter,
        error: `Unknown sort column ${JSON.stringify(sort.column)}: use one of ${SORT_COLUMNS.join(', ')}.`,
      };
    }
    let next: FlowQuery;
    const text = filter.trim();
    try {
      next = {
        filter: text ? { text, match: parseFilter(text) } : null,
        sort: { column: sort.column, desc: !!sort.desc },
      };
    } catch (err) {
      const e = err as Error & { position?: number };
      return { filter, error: e.message, ...(typeof e.position === 'number' ? { position: e.position } : {}) };
    }
    this.backend.acquire(next);
    this.backend.release(this.query);
    const sortChanged = next.sort.column !== this.query.sort.column || next.sort.desc !== this.query.sort.desc;
    this.query = next;
    // A new order makes the anchor meaningless: back to the top (the end stays the end).
    if (this.placement.kind === 'anchor' || sortChanged) this.placement = { kind: 'start' };
    return next.filter ? { filter, describe: next.filter.match.describe() } : { filter };
  }

  /**
   * The page shows rows from `offset` on, `limit` of them; with `end`, the last `limit` rows,
   * following new ones.
   */
  async setWindow(offset: number, limit: number, end = false): Promise<void> {
    this.limit = Math.max(0, Math.min(MAX_WINDOW, Math.floor(limit)));
    if (end) {
      this.placement = { kind: 'end' };
      return;
    }
    const count = await this.backend.count(this.query);
    offset = Math.max(0, Math.floor(offset));
    if (offset === 0) this.placement = { kind: 'start' };
    else if (offset + this.limit >= count) this.placement = { kind: 'end' };
    else {
      const [first] = await this.backend.slice(this.query, offset, 1);
      this.placement = first ? { kind: 'anchor', cursor: { key: first.key, seq: first.seq } } : { kind: 'end' };
    }
  }

  /** Stop using the backend's index for this view's query. */
  close(): void {
    this.backend.release(this.query);
  }

  /** The rows the page should show now, with their offset. */
  private async window(count: number): Promise<{ offset: number; rows: FlowEntry[] }> {
    const q = this.query;
    const p = this.placement;
    if (this.limit === 0) return { offset: 0, rows: [] };
    if (p.kind === 'start') return { offset: 0, rows: await this.backend.slice(q, 0, this.limit) };
    if (p.kind === 'end') {
      const offset = Math.max(0, count - this.limit);
      return { offset, rows: await this.backend.slice(q, offset, this.limit) };
    }
    const [offset, rows] = await Promise.all([
      this.backend.rank(q, p.cursor),
      this.backend.from(q, p.cursor, this.limit),
    ]);
    return { offset, rows };
  }

  /**
   * What changed for the page since the last call (null: nothing). The backend must be synced.
   * `force` sends counts even if unchanged (after a filter change, so the page hears back).
   */
  async diff(force = false): Promise<ViewDelta | null> {
    const [count, total] = await Promise.all([this.backend.count(this.query), this.backend.total()]);
    const { offset, rows } = await this.window(count);
    const ops = windowOps(this.shown, rows, this.opts);
    if (
      !force &&
      ops.length === 0 &&
      count === this.sentCount &&
      total === this.sentTotal &&
      offset === this.sentOffset
    )
      return null;
    this.shown = rows.map((e) => ({ id: e.flow.id, v: this.opts.version(e) }));
    this.sentCount = count;
    this.sentTotal = total;
    this.sentOffset = offset;
    return { count, total, offset, ops };
  }

  /** Forget what the page has (it reconnected or reset): the next diff sends the whole window. */
  resetShown(): void {
    this.shown = [];
    this.sentCount = this.sentTotal = this.sentOffset = -1;
  }
}

/**
 * Ops that turn the window `old` into `rows`: removals, then inserts at their new indexes
 * (ascending), then in-place updates for rows whose version changed. A row that moved is
 * removed and inserted again.
 */
export function windowOps(
  old: ReadonlyArray<{ id: string; v: number }>,
  rows: readonly FlowEntry[],
  opts: ViewOptions,
): RowOp[] {
  const next = new Map<string, FlowEntry>();
  for (const e of rows) next.set(e.flow.id, e);
  const removes: RowOp[] = [];
  const kept: Array<{ id: string; v: number }> = [];
  for (const o of old) {
    if (next.has(o.id)) kept.push(o);
    else removes.push(['r', o.id]);
  }
  const inserts: RowOp[] = [];
  const updates: RowOp[] = [];
  const keptIndex = new Map<string, number>();
  kept.forEach((o, i) => keptIndex.set(o.id, i));
  const moved = new Set<string>();
  let j = 0;
  for (let i = 0; i < rows.length; i++) {
    const e = rows[i]!;
    const id = e.flow.id;
    while (j < kept.length && moved.has(kept[j]!.id)) j++;
    const k = keptIndex.get(id);
    if (k !== undefined && j < kept.length && kept[j]!.id === id) {
      j++;
      if (kept[k]!.v !== opts.version(e)) updates.push(['u', opts.row(e)]);
      continue;
    }
    if (k !== undefined) {
      // Out of order: it moved. Remove it from where it was and insert it here.
      moved.add(id);
      removes.push(['r', id]);
    }
    inserts.push(['i', i, opts.row(e)]);
  }
  return [...removes, ...inserts, ...updates];
}
