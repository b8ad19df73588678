/**
 * The query interface the web view reads flows through. Today it is implemented over the
 * kernel's in-memory flow store ({@link MemoryBackend}); a disk store (SQLite) implements the
 * same interface and the view does not change.
 *
 * The model: every flow has a `seq`, its arrival number (unique, increasing; a SQL store's
 * rowid). A query is a filter plus a sort order; its rows are the matching flows ordered by
 * `(key, seq)` ascending, or the reverse for `desc`, where `key` is the flow's value in the sort
 * column. Windows are read by position (`slice`, for scrollbar jumps) or from a cursor
 * (`from`, keyset paging: what a store answers with an index range scan), and `rank` turns a
 * cursor back into a position.
 */
import type { Filter, Flow } from '@mitmts/sdk';

/** Columns a view can be sorted by. */
export const SORT_COLUMNS = ['seq', 'created', 'method', 'url', 'host', 'status', 'size', 'duration', 'type'] as const;
export type SortColumn = (typeof SORT_COLUMNS)[number];

export interface SortSpec {
  readonly column: SortColumn;
  readonly desc: boolean;
}

/** A flow's value in a sort column: numbers for seq, created, status, size, duration; else strings. */
export type SortKey = number | string;

/** A compiled filter and its source text (a SQL store turns the text into a prefilter). */
export interface QueryFilter {
  readonly text: string;
  readonly match: Filter;
}

export interface FlowQuery {
  /** null: every flow. */
  readonly filter: QueryFilter | null;
  readonly sort: SortSpec;
}

/** A position in a query's order: the sort key and arrival number of a row. */
export interface Cursor {
  readonly key: SortKey;
  readonly seq: number;
}

/** One row of a query result. */
export interface FlowEntry extends Cursor {
  readonly flow: Flow;
}

/**
 * What the web view needs from a flow store. Reads may be answered from a snapshot taken at the
 * last {@link sync}: the view calls `sync()` once per update batch, then reads. Reads are
 * asynchronous: a disk store waits for its writer before it answers.
 */
export interface FlowBackend {
  /** The flow with this id (from memory, or read back from a store). */
  get(id: string): Promise<Flow | undefined>;
  /** The flow with this id if it is the one in memory (live), without reading a store. */
  live(id: string): Flow | undefined;
  /** The flows in memory, in arrival order (the live ones: intercepted flows, a clear). */
  all(): Iterable<Flow>;
  /**
   * Every flow matching `filter` in arrival order, those only in the store included, a few at a
   * time (for `GET /flows`, `.mitm` and HAR downloads, which stream them): a flow the kernel
   * still keeps is the live one.
   */
  flows(filter: QueryFilter | null): AsyncIterable<Flow>;
  /** Number of flows (in the store, if one backs the backend). */
  total(): Promise<number>;

  /** Rows matching the query. */
  count(q: FlowQuery): Promise<number>;
  /** Up to `limit` rows starting at position `offset` (0-based) in the query's order. */
  slice(q: FlowQuery, offset: number, limit: number): Promise<FlowEntry[]>;
  /** Up to `limit` rows starting at `cursor` (inclusive) in the query's order: keyset paging. */
  from(q: FlowQuery, cursor: Cursor, limit: number): Promise<FlowEntry[]>;
  /** How many rows of the query come before `cursor` (whether or not a row is at the cursor). */
  rank(q: FlowQuery, cursor: Cursor): Promise<number>;

  /** A flow was added or changed (its sort keys or filter result may differ now). */
  put(flow: Flow): void;
  /**
   * Why flows cannot be deleted through this backend (a store keeps every flow it recorded), or
   * null if they can.
   */
  readonly deleteRefused: string | null;
  /** Forget a flow. */
  remove(id: string): boolean;
  /** Forget every flow. */
  clear(): void;
  /** Apply changes reported since the last sync, before a batch of reads. */
  sync(): void;
  /** A view starts reading this query repeatedly (a store may build an index or cache for it). */
  acquire(q: FlowQuery): void;
  /** A view stopped reading this query (one call per `acquire`). */
  release(q: FlowQuery): void;
}
