/**
 * What the server and the page say to each other: JSON shapes of the REST API and the messages
 * on the `/updates` WebSocket. Types only (the page's bundle imports them too).
 *
 * Names follow mitmweb where it has them (`flows/add`, `events/add`, the flow JSON's snake_case
 * fields); `view/*` messages are ours: the server-side view (filter, sort, window, deltas).
 */
import type { SortColumn } from './backend.js';

export type { SortColumn };

/** One row of the flow table: what the list shows and sorts by. */
export interface FlowRow {
  id: string;
  /** Changes whenever the flow does (the page refetches details when it changes). */
  v: number;
  type: 'http' | 'tcp' | 'udp' | 'dns';
  /** HTTP method; `TCP`, `UDP`, `DNS` for other flows. */
  method: string;
  url: string;
  host: string;
  path: string;
  scheme: string;
  http_version: string;
  status: number | null;
  reason: string | null;
  /** Response media type, e.g. `application/json`. */
  content_type: string | null;
  /** Request and response body bytes (as stored), WebSocket/TCP message bytes. */
  size: number;
  timestamp_created: number;
  /** Seconds from the request to the last part seen; null while nothing came back. */
  duration: number | null;
  /** When the response was complete (seconds), for the latency measurement. */
  response_end: number | null;
  error: string | null;
  marked: string;
  comment: string;
  intercepted: boolean;
  is_replay: 'request' | 'response' | null;
  live: boolean;
  websocket: boolean;
  tls: boolean;
  modified: boolean;
}

/**
 * A change to the page's window: apply `r` (remove id) ops, then `i` (insert at index, indexes
 * of the new window, ascending), then `u` (replace a row in place).
 */
export type RowOp = ['r', string] | ['i', number, FlowRow] | ['u', FlowRow];

export interface ViewDelta {
  /** Rows matching the filter. */
  count: number;
  /** Flows in the store (matching or not). */
  total: number;
  /** Position of the window's first row among the matching rows. */
  offset: number;
  ops: RowOp[];
}

export interface SortSpecJson {
  column: SortColumn;
  desc: boolean;
}

export interface ViewSet {
  /** Filter expression; '' for every flow. */
  filter: string;
  sort: SortSpecJson;
}

export interface ViewWindow {
  offset: number;
  limit: number;
  /**
   * The last `limit` rows, following new ones (`offset` is ignored). A page at the bottom of
   * its table asks once; its own count may be behind the server's, so an offset it computed
   * would anchor the window a few rows short of the end.
   */
  end?: boolean;
}

/** The filter was accepted (`describe`: its description) or refused (`error`, as the CLI says it). */
export interface ViewFilterResult {
  filter: string;
  describe?: string;
  error?: string;
  /** 0-based position of the error in the expression. */
  position?: number;
}

/** Connection and TLS details of a flow's client or server side (mitmweb's fields). */
export interface WebConnection {
  id: string;
  peername: [string, number] | null;
  sockname: [string, number] | null;
  address?: [string, number] | null;
  tls_established: boolean;
  tls_version: string | null;
  sni: string | null;
  cipher: string | null;
  alpn: string | null;
  cert: { subject: string | null; issuer: string | null; notbefore: string | null; notafter: string | null } | null;
  timestamp_start: number | null;
  timestamp_tcp_setup?: number | null;
  timestamp_tls_setup: number | null;
  timestamp_end: number | null;
}

export interface WebMessage {
  http_version: string;
  headers: Array<[string, string]>;
  trailers: Array<[string, string]> | null;
  /** Bytes as stored (null: no body recorded). */
  contentLength: number | null;
  contentHash: string | null;
  /** Media type of the body (from Content-Type). */
  content_type: string | null;
  timestamp_start: number;
  timestamp_end: number | null;
}

export interface WebRequest extends WebMessage {
  method: string;
  scheme: string;
  host: string;
  port: number;
  path: string;
  pretty_host: string;
  url: string;
}

export interface WebResponse extends WebMessage {
  status_code: number;
  reason: string;
}

export interface WebFlow {
  id: string;
  type: 'http' | 'tcp' | 'udp' | 'dns';
  intercepted: boolean;
  is_replay: 'request' | 'response' | null;
  modified: boolean;
  marked: string;
  comment: string;
  live: boolean;
  killable: boolean;
  timestamp_created: number;
  client_conn: WebConnection;
  server_conn: WebConnection;
  error: { msg: string; timestamp: number } | null;
  request?: WebRequest;
  response?: WebResponse | null;
  websocket?: {
    messages_meta: { contentLength: number; count: number; timestamp_last: number | null };
    closed_by_client: boolean | null;
    close_code: number | null;
    close_reason: string | null;
    timestamp_end: number | null;
  } | null;
  /** TCP/UDP flows: message count and bytes. */
  messages_meta?: { contentLength: number; count: number; timestamp_last: number | null };
  dns?: {
    questions: Array<{ name: string; type: string }>;
    answers: Array<{ name: string; type: string; ttl: number; data: string }> | null;
  };
}

/** One WebSocket/TCP/UDP message (`GET /flows/:id/messages`). */
export interface WebStreamMessage {
  from_client: boolean;
  /** `text`, `binary` (WebSocket), or `data` (TCP/UDP). */
  type: 'text' | 'binary' | 'data';
  timestamp: number;
  /** The content: text, or base64 when `encoding` says so. */
  content: string;
  encoding: 'utf-8' | 'base64';
  length: number;
  dropped?: boolean;
  injected?: boolean;
}

export interface WebEvent {
  id: number;
  level: 'debug' | 'info' | 'alert' | 'warn' | 'error';
  message: string;
  timestamp: number;
  addon?: string;
}

/** An option as `GET /options` lists it (mitmproxy's `dump_dicts` shape). */
export interface WebOption {
  type: string;
  default: unknown;
  value: unknown;
  help: string;
  choices?: readonly string[];
}

export interface WebCommand {
  help: string;
  parameters: Array<{
    name: string;
    type: string;
    kind: 'POSITIONAL_OR_KEYWORD' | 'VAR_POSITIONAL';
    optional: boolean;
  }>;
  return_type: string | null;
  signature_help: string;
}

export interface WebState {
  version: string;
  platform: string;
  servers: Array<{ mode: string; host: string; port: number }>;
  /** Which optional features this build has (the page hides what is missing). */
  features: { intercept: boolean; replay: boolean; export: boolean };
}

export type ServerMessage =
  | { type: 'flows/add'; payload: { flow: WebFlow; matching_filters: Record<string, boolean> } }
  | { type: 'flows/update'; payload: { flow: WebFlow; matching_filters: Record<string, boolean> } }
  | { type: 'flows/remove'; payload: string }
  | { type: 'flows/reset'; payload: null }
  | { type: 'events/add'; payload: WebEvent }
  | { type: 'events/reset'; payload: null }
  | { type: 'options/update'; payload: Record<string, WebOption> }
  | { type: 'state/update'; payload: WebState }
  | { type: 'view/filter'; payload: ViewFilterResult }
  | { type: 'view/update'; payload: ViewDelta }
  | { type: 'flows/filterUpdate'; payload: FilterUpdate };

/** mitmweb's `flows/updateFilter`: a named filter whose result `flows/add|update` carry in `matching_filters`. */
export interface UpdateFilter {
  name: string;
  /** A filter expression; empty matches every flow. */
  expr: string;
}

/** The answer: every matching flow's id (mitmweb's), or the filter's error (a mitmts addition). */
export interface FilterUpdate {
  name: string;
  matching_flow_ids: string[];
  error?: string;
}

export type ClientMessage =
  | { type: 'view/set'; payload: ViewSet }
  | { type: 'view/window'; payload: ViewWindow }
  | { type: 'flows/updateFilter'; payload: UpdateFilter };
