/**
 * The flow query interface: what a UI or a command needs to read flows by window instead of
 * all at once. The kernel's in-memory {@link FlowStore} implements it over the flows it keeps;
 * the store addon implements it over a SQLite database and plugs itself in with
 * `kernel.flows.useIndex()`. Readers always go through `kernel.flows.index`, which is whichever
 * is plugged in. See docs/flow-store.md.
 */
import type { Filter } from '../filter/filter.js';
import type { Flow, FlowType, ReplayKind } from '../flow/flow.js';

/**
 * One flow as a list shows it: plain, serializable data (no bodies). The same fields are the
 * indexed columns of the SQLite store, so a filter or sort on them never decodes a flow.
 */
export interface FlowRow {
  /** Position in the store, in the order flows were first added (the default sort). */
  readonly seq: number;
  readonly id: string;
  readonly type: FlowType;
  /** When the flow was created (seconds since the epoch). */
  readonly timestampCreated: number;
  /** Start of the request (HTTP), of the query (DNS), of the connection (TCP/UDP); null if unknown. */
  readonly timestampStart: number | null;
  /** End of the response, error time, or the last message; null while in progress. */
  readonly timestampEnd: number | null;
  /** HTTP method (upper case); `''` for other flow types. */
  readonly method: string;
  /** `http`/`https` for HTTP flows; `''` otherwise. */
  readonly scheme: string;
  /** Request host (HTTP), or the server address host (other types). */
  readonly host: string;
  /** The Host header's / authority's host where it differs from {@link host}; else equal to it. */
  readonly prettyHost: string;
  readonly port: number;
  /** Path with query (HTTP); `''` otherwise. */
  readonly path: string;
  /** The URL as `~u` sees it: the request's pretty URL (HTTP), the first question's name (DNS), `''` otherwise. */
  readonly url: string;
  /** `HTTP/1.1`, `HTTP/2.0`, ...; `''` for other flow types. */
  readonly httpVersion: string;
  /** HTTP response status; null without a response (and for other flow types). */
  readonly status: number | null;
  /** True if the flow has a response (HTTP, DNS). */
  readonly hasResponse: boolean;
  /** Every Content-Type value of the request, joined by `\n` (`''` if none). */
  readonly requestContentType: string;
  /** Every Content-Type value of the response, joined by `\n` (`''` if none). */
  readonly responseContentType: string;
  /** Request body size as on the wire (still content-encoded); TCP/UDP: bytes from the client. */
  readonly requestSize: number;
  /** Response body size as on the wire; TCP/UDP: bytes from the server. */
  readonly responseSize: number;
  /** True for an HTTP flow with a WebSocket. */
  readonly websocket: boolean;
  /** The marker (`''` when unmarked). */
  readonly marked: string;
  readonly comment: string;
  /** The error message, or null. */
  readonly error: string | null;
  readonly isReplay: ReplayKind | null;
  readonly intercepted: boolean;
  /** True if the client connection used TLS. */
  readonly tls: boolean;
  /** Client address as `~src` sees it (`ip:port`; `''` if unknown). */
  readonly clientAddress: string;
  /** Server address as `~dst` sees it (`host:port`; `''` if none). */
  readonly serverAddress: string;
}

/** What a window can be sorted by. `size` is request + response size; `duration` end - start. */
export const FLOW_SORT_KEYS = [
  'seq',
  'timestamp',
  'method',
  'url',
  'host',
  'port',
  'status',
  'size',
  'duration',
  'type',
  'comment',
  'version',
] as const;
export type FlowSortKey = (typeof FLOW_SORT_KEYS)[number];

/** A filter: an expression in mitmproxy's filter language, a compiled filter, or none (all flows). */
export type FlowFilterInput = string | Filter | null | undefined;

/** A window request. */
export interface FlowQuery {
  /** Only flows matching this filter (default: all). */
  readonly filter?: FlowFilterInput;
  /** Sort key (default `seq`: the order flows arrived in); ties are broken by `seq`. */
  readonly sort?: FlowSortKey;
  /** Descending order (default ascending). */
  readonly desc?: boolean;
  /**
   * Keyset cursor: start after the row this cursor came from (a {@link FlowWindow.next} or a
   * {@link FlowWindowRow.cursor}). A cursor belongs to one sort key and direction.
   */
  readonly after?: string | null;
  /** Rows per window (default 100, at most {@link MAX_WINDOW}). */
  readonly limit?: number;
  /**
   * Skip this many matching rows first (after `after`, if given): a window by position, e.g. for
   * a scrollbar jump. The SQLite index skips in SQL when its prefilter is exact; otherwise the
   * skipped rows are filtered like the returned ones (and count against `scanLimit`).
   */
  readonly offset?: number;
  /**
   * Stop after running the filter on this many flows, even if the window is not full; `next`
   * then continues the scan (default: no limit). The SQLite index counts only the flows its
   * SQL prefilter could not decide. A UI sets it to stay responsive on filters no index can
   * answer (`~h`, `~b`) over millions of flows.
   */
  readonly scanLimit?: number;
}

/** The most rows one window returns. */
export const MAX_WINDOW = 10_000;

/** A row with the cursor that continues after it. */
export interface FlowWindowRow extends FlowRow {
  readonly cursor: string;
}

/** Options of {@link FlowIndex.count}. */
export interface CountOptions {
  /** Count only the rows before this cursor (a {@link FlowWindow.next} or {@link FlowWindowRow.cursor}). */
  readonly before?: string | null;
}

/** A page of rows. */
export interface FlowWindow {
  readonly rows: readonly FlowWindowRow[];
  /**
   * Cursor for the next window, or null if there are no more rows. With `scanLimit`, a window
   * can hold fewer rows than asked and still have a `next`.
   */
  readonly next: string | null;
}

/** Which bodies a body search looks at. */
export type BodySide = 'request' | 'response' | 'all';

/** A body search: like `~b`/`~bq`/`~bs` (decoded bodies, WebSocket/TCP/UDP messages), reporting where it matched. */
export interface BodySearchQuery {
  /** A regex in mitmproxy's (Python) syntax, case-insensitive unless `caseSensitive`. */
  readonly pattern: string;
  readonly caseSensitive?: boolean;
  /** `request` (and client messages), `response` (and server messages), or `all` (default). */
  readonly side?: BodySide;
  /** Only search flows matching this filter. */
  readonly filter?: FlowFilterInput;
  /** Continue a search (its {@link BodySearchResult.next}). Searches go newest first. */
  readonly after?: string | null;
  /** Stop after this many matching flows (default 50). */
  readonly limit?: number;
  /**
   * Stop after looking at this many flows (default 10,000), so one call never blocks the proxy
   * for long: `next` then continues the search.
   */
  readonly scanLimit?: number;
}

/** Where a body search matched in one flow (the first match in each body). */
export interface BodyHit {
  /** `request`/`response` body, or a WebSocket/TCP/UDP `message` (then `message` is its index). */
  readonly part: 'request' | 'response' | 'message';
  readonly message?: number;
  /** Byte offset and length of the match in the decoded body. */
  readonly offset: number;
  readonly length: number;
  /** Up to 40 bytes either side of the match, decoded as UTF-8 (lossy). */
  readonly snippet: string;
}

/** A matching flow and its hits. */
export interface BodySearchMatch {
  readonly row: FlowRow;
  readonly hits: readonly BodyHit[];
}

export interface BodySearchResult {
  readonly matches: readonly BodySearchMatch[];
  /** Flows looked at by this call. */
  readonly scanned: number;
  /** Cursor to continue the search, or null when every flow was searched. */
  readonly next: string | null;
}

/**
 * Read access to a collection of flows, by window. Implemented by the kernel's in-memory store
 * and by the SQLite store (`@mitmts/addon-store`); use `kernel.flows.index`, which is the one
 * plugged in. Results are the same for both: filters are mitmproxy's filter language with its
 * exact semantics (the SQLite store prefilters in SQL and runs the real filter on the rest).
 */
export interface FlowIndex {
  /** A short name for logs and errors (`memory`, `sqlite:/path/flows.db`). */
  readonly name: string;
  /** A window of rows: filter, sort, keyset cursor, limit. */
  window(query?: FlowQuery): Promise<FlowWindow>;
  /**
   * How many flows match `filter` (all flows without one). With `before` (a cursor, as in
   * {@link FlowQuery.after}): only those that come before the cursor's row in its order, i.e.
   * the position of that row in the window of the cursor's sort.
   */
  count(filter?: FlowFilterInput, options?: CountOptions): Promise<number>;
  /**
   * One flow by id: the live object while the kernel still keeps it in memory, else a copy read
   * back from the store (changes to a copy are saved when an `update` hook fires for it).
   */
  get(id: string): Promise<Flow | undefined>;
  /** Flows whose bodies match a regex, newest first, with where they matched. */
  searchBodies(query: BodySearchQuery): Promise<BodySearchResult>;
  /** Every matching flow, in `seq` order (for export and replay). */
  flows(filter?: FlowFilterInput): AsyncIterable<Flow>;
}
