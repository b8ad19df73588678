/**
 * One ClickHouse row per flow: the flow's row (core's `flowRow`, the columns the store indexes
 * too), its headers, optionally its bodies (decoded, as UTF-8 text, capped), and the instance
 * that saw it. `tableDdl` creates the matching table.
 */
import { hostname } from 'node:os';
import { type Flow, type HTTPHeaders, type HTTPFlow, type Message } from '@mitmts/sdk';
import { flowRow } from '@mitmts/sdk/store';

export interface RowOptions {
  /** Include bodies (decoded, UTF-8 with invalid bytes replaced), at most `bodyMax` bytes each. */
  readonly bodies: boolean;
  readonly bodyMax: number;
  /** Which mitmts instance this is (several write into one table). */
  readonly instance: string;
}

export const DEFAULT_INSTANCE = hostname();

/** A row as sent in JSONEachRow (keys are the table's columns). */
export interface ClickHouseRow {
  id: string;
  ts: string;
  instance: string;
  type: string;
  method: string;
  scheme: string;
  host: string;
  port: number;
  path: string;
  url: string;
  http_version: string;
  status: number;
  request_size: number;
  response_size: number;
  duration_ms: number;
  request_content_type: string;
  response_content_type: string;
  client_address: string;
  server_address: string;
  error: string | null;
  marked: string;
  comment: string;
  request_headers: Array<[string, string]>;
  response_headers: Array<[string, string]>;
  request_body: string;
  response_body: string;
}

/** `2024-05-01 12:34:56.123456` (UTC): what DateTime64(6, 'UTC') reads from JSON. */
export function clickhouseTime(seconds: number): string {
  const micros = Math.round(seconds * 1e6);
  const date = new Date(Math.floor(micros / 1000));
  const frac = String(((micros % 1e6) + 1e6) % 1e6).padStart(6, '0');
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}.${frac}`;
}

const pairs = (h: HTTPHeaders | undefined): Array<[string, string]> =>
  h ? h.fields.map(([k, v]) => [k.toString('latin1'), v.toString('latin1')]) : [];

function body(m: Message | null | undefined, o: RowOptions): string {
  if (!o.bodies || !m?.rawContent) return '';
  const b = m.getContent(false)!;
  return b.subarray(0, o.bodyMax).toString('utf8');
}

export function flowToRow(flow: Flow, o: RowOptions): ClickHouseRow {
  const r = flowRow(flow, 0);
  const http = flow.type === 'http' ? (flow as HTTPFlow) : null;
  return {
    id: r.id,
    ts: clickhouseTime(r.timestampStart ?? r.timestampCreated),
    instance: o.instance,
    type: r.type,
    method: r.method,
    scheme: r.scheme,
    host: r.host,
    port: r.port,
    path: r.path,
    url: r.url,
    http_version: r.httpVersion,
    status: r.status ?? 0,
    request_size: r.requestSize,
    response_size: r.responseSize,
    duration_ms: r.timestampStart !== null && r.timestampEnd !== null ? (r.timestampEnd - r.timestampStart) * 1000 : -1,
    request_content_type: r.requestContentType,
    response_content_type: r.responseContentType,
    client_address: r.clientAddress,
    server_address: r.serverAddress,
    error: r.error,
    marked: r.marked,
    comment: r.comment,
    request_headers: pairs(http?.request.headers),
    response_headers: pairs(http?.response?.headers),
    request_body: body(http?.request, o),
    response_body: body(http?.response, o),
  };
}

/** `CREATE TABLE IF NOT EXISTS` for the rows above (a MergeTree by time, then host). */
export function tableDdl(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
  id String,
  ts DateTime64(6, 'UTC'),
  instance LowCardinality(String),
  type LowCardinality(String),
  method LowCardinality(String),
  scheme LowCardinality(String),
  host String,
  port UInt16,
  path String,
  url String,
  http_version LowCardinality(String),
  status UInt16,
  request_size UInt64,
  response_size UInt64,
  duration_ms Float64,
  request_content_type String,
  response_content_type String,
  client_address String,
  server_address String,
  error Nullable(String),
  marked String,
  comment String,
  request_headers Array(Tuple(String, String)),
  response_headers Array(Tuple(String, String)),
  request_body String,
  response_body String
) ENGINE = MergeTree ORDER BY (ts, host)`;
}
