/**
 * Flows as rows ({@link FlowRow}): what a list shows and what the SQLite store indexes; sort
 * values and keyset cursors shared by every {@link FlowIndex}; body search hits.
 */
import type { DNSFlow } from '../flow/dns.js';
import type { Flow } from '../flow/flow.js';
import type { Headers } from '../flow/headers.js';
import type { HTTPFlow } from '../flow/http-flow.js';
import type { Message } from '../flow/message.js';
import type { TCPFlow, UDPFlow } from '../flow/tcp-flow.js';
import { equalsAsciiCI, latin1 } from '../flow/bytes.js';
import { compilePyRegex } from '../filter/pyregex/index.js';
import { FLOW_SORT_KEYS, type BodyHit, type BodySide, type FlowRow, type FlowSortKey } from './query.js';

function contentTypes(h: Headers): string {
  let out = '';
  for (const [k, v] of h.fields) if (equalsAsciiCI(k, 'content-type')) out = out ? `${out}\n${latin1(v)}` : latin1(v);
  return out;
}

const address = (a: readonly [string, number, ...unknown[]] | null | undefined): string => (a ? `${a[0]}:${a[1]}` : '');

/** The fields every flow type has a say in; the rest default to "not HTTP". */
type TypeFields = Pick<FlowRow, 'timestampStart' | 'timestampEnd' | 'host' | 'prettyHost' | 'port'> & Partial<FlowRow>;

/** One object literal with every field in one order: every row has the same shape (fast to build and read). */
function row(flow: Flow, seq: number, t: TypeFields): FlowRow {
  return {
    seq,
    id: flow.id,
    type: flow.type,
    timestampCreated: flow.timestampCreated,
    timestampStart: t.timestampStart,
    timestampEnd: t.timestampEnd,
    method: t.method ?? '',
    scheme: t.scheme ?? '',
    host: t.host,
    prettyHost: t.prettyHost,
    port: t.port,
    path: t.path ?? '',
    url: t.url ?? '',
    httpVersion: t.httpVersion ?? '',
    status: t.status ?? null,
    hasResponse: t.hasResponse ?? false,
    requestContentType: t.requestContentType ?? '',
    responseContentType: t.responseContentType ?? '',
    requestSize: t.requestSize ?? 0,
    responseSize: t.responseSize ?? 0,
    websocket: t.websocket ?? false,
    marked: flow.marked,
    comment: flow.comment,
    error: flow.error ? flow.error.msg : null,
    isReplay: flow.isReplay,
    intercepted: flow.intercepted,
    tls: flow.clientConn?.tls ?? false,
    clientAddress: address(flow.clientConn?.peername),
    serverAddress: address(flow.serverConn?.address),
  };
}

function httpRow(f: HTTPFlow, seq: number): FlowRow {
  const req = f.request;
  const resp = f.response;
  return row(f, seq, {
    timestampStart: req.timestampStart,
    timestampEnd: f.websocket?.timestampEnd ?? resp?.timestampEnd ?? f.error?.timestamp ?? null,
    method: req.method,
    scheme: req.scheme,
    host: req.host,
    prettyHost: req.prettyHost,
    port: req.port,
    path: req.path,
    url: req.prettyUrl,
    httpVersion: req.httpVersion,
    status: resp ? resp.statusCode : null,
    hasResponse: resp !== null,
    requestContentType: contentTypes(req.headers),
    responseContentType: resp ? contentTypes(resp.headers) : '',
    requestSize: req.rawContent?.length ?? 0,
    responseSize: resp?.rawContent?.length ?? 0,
    websocket: f.websocket !== null,
  });
}

function streamRow(f: TCPFlow | UDPFlow, seq: number): FlowRow {
  let up = 0;
  let down = 0;
  for (const m of f.messages) {
    if (m.fromClient) up += m.content.length;
    else down += m.content.length;
  }
  const a = f.serverConn?.address;
  const last = f.messages.length ? f.messages[f.messages.length - 1]!.timestamp : null;
  return row(f, seq, {
    timestampStart: f.clientConn?.timestampStart ?? null,
    timestampEnd: f.live ? null : (f.error?.timestamp ?? last ?? f.clientConn?.timestampEnd ?? null),
    host: a ? a[0] : '',
    prettyHost: a ? a[0] : '',
    port: a ? a[1] : 0,
    requestSize: up,
    responseSize: down,
  });
}

function dnsRow(f: DNSFlow, seq: number): FlowRow {
  const a = f.serverConn?.address;
  const q = f.request?.questions[0];
  return row(f, seq, {
    timestampStart: f.request?.timestamp ?? null,
    timestampEnd: f.response?.timestamp ?? f.error?.timestamp ?? null,
    host: a ? a[0] : '',
    prettyHost: a ? a[0] : '',
    port: a ? a[1] : 0,
    url: q ? q.name : '',
    hasResponse: f.response !== null,
  });
}

/** A flow as a row; `seq` is its position in the store that lists it. */
export function flowRow(flow: Flow, seq: number): FlowRow {
  switch (flow.type) {
    case 'http':
      return httpRow(flow as HTTPFlow, seq);
    case 'tcp':
    case 'udp':
      return streamRow(flow as TCPFlow | UDPFlow, seq);
    case 'dns':
      return dnsRow(flow as DNSFlow, seq);
  }
}

/** The value a row is sorted by under `key` (the SQLite store computes the same in SQL). */
export function sortValue(row: FlowRow, key: FlowSortKey): string | number {
  switch (key) {
    case 'seq':
      return row.seq;
    case 'timestamp':
      return row.timestampCreated;
    case 'status':
      return row.status ?? 0;
    case 'size':
      return row.requestSize + row.responseSize;
    case 'duration':
      return row.timestampStart === null || row.timestampEnd === null ? -1 : row.timestampEnd - row.timestampStart;
    case 'version':
      return row.httpVersion;
    default:
      return row[key];
  }
}

/** A keyset position: the sort it belongs to and the last row's sort value and seq. */
export interface Cursor {
  readonly sort: FlowSortKey;
  readonly desc: boolean;
  readonly value: string | number;
  readonly seq: number;
}

/** Thrown for a cursor that is malformed or belongs to another sort. */
export class CursorError extends Error {
  readonly code = 'MITMTS_ERR_CURSOR';
  constructor(message: string) {
    super(message);
    this.name = 'CursorError';
  }
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.sort, c.desc ? 1 : 0, c.value, c.seq])).toString('base64url');
}

/** Parse a cursor made by {@link encodeCursor}; it must belong to `sort`/`desc` when given. */
export function decodeCursor(text: string, sort?: FlowSortKey, desc?: boolean): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new CursorError(
      `Invalid cursor ${JSON.stringify(text)}: pass the "next" (or a row's "cursor") of an earlier window unchanged.`,
    );
  }
  const [s, d, value, seq] = Array.isArray(parsed) ? (parsed as unknown[]) : [];
  if (
    !(FLOW_SORT_KEYS as readonly unknown[]).includes(s) ||
    (typeof value !== 'string' && typeof value !== 'number') ||
    typeof seq !== 'number'
  ) {
    throw new CursorError(
      `Invalid cursor ${JSON.stringify(text)}: pass the "next" (or a row's "cursor") of an earlier window unchanged.`,
    );
  }
  if (sort === undefined || desc === undefined) return { sort: s as FlowSortKey, desc: d === 1, value, seq };
  if (s !== sort || (d === 1) !== desc) {
    throw new CursorError(
      `This cursor belongs to a window sorted by ${String(s)}${d === 1 ? ' (descending)' : ''}, not by ${sort}${desc ? ' (descending)' : ''}: start again without "after".`,
    );
  }
  return { sort, desc, value, seq };
}

/** -1, 0, 1: how two rows compare under a sort (ties broken by seq). */
export function compareRows(a: FlowRow, b: FlowRow, key: FlowSortKey): number {
  const va = sortValue(a, key);
  const vb = sortValue(b, key);
  if (va < vb) return -1;
  if (va > vb) return 1;
  return a.seq - b.seq;
}

/** Where `row` is relative to the cursor in its sort order: < 0 before, > 0 after, 0 at it. */
function fromCursor(row: FlowRow, c: Cursor): number {
  const v = sortValue(row, c.sort);
  const cmp = v < c.value ? -1 : v > c.value ? 1 : row.seq - c.seq;
  return c.desc ? -cmp : cmp;
}

/** True if `row` comes after the cursor in its sort order. */
export function isAfter(row: FlowRow, c: Cursor): boolean {
  return fromCursor(row, c) > 0;
}

/** True if `row` comes before the cursor in its sort order. */
export function isBefore(row: FlowRow, c: Cursor): boolean {
  return fromCursor(row, c) < 0;
}

/** Bytes a flow holds in memory, roughly: bodies, headers, messages, plus a fixed overhead. */
export function flowBytes(flow: Flow): number {
  const OVERHEAD = 1024;
  const headers = (h: Headers): number => {
    let n = 0;
    for (const [k, v] of h.fields) n += k.length + v.length + 16;
    return n;
  };
  const message = (m: Message | null): number => (m ? (m.rawContent?.length ?? 0) + headers(m.headers) : 0);
  if (flow.type === 'http') {
    const f = flow as HTTPFlow;
    let n = OVERHEAD + message(f.request) + message(f.response);
    if (f.websocket) for (const m of f.websocket.messages) n += m.content.length + 64;
    return n;
  }
  if (flow.type === 'tcp' || flow.type === 'udp') {
    let n = OVERHEAD;
    for (const m of (flow as TCPFlow).messages) n += m.content.length + 64;
    return n;
  }
  return OVERHEAD;
}

/** A body search's regex: the pattern as `~b` compiles it (bytes, dot-all). */
export function bodyRegex(pattern: string, caseSensitive = false): RegExp {
  return compilePyRegex(Buffer.from(pattern, 'utf8').toString('latin1'), {
    binary: true,
    ignoreCase: !caseSensitive,
    dotAll: true,
  });
}

function hitIn(re: RegExp, body: Buffer, part: BodyHit['part'], message?: number): BodyHit | null {
  if (body.length === 0) return null;
  const m = re.exec(latin1(body));
  if (!m) return null;
  const at = m.index;
  const len = m[0].length;
  const snippet = body.subarray(Math.max(0, at - 40), Math.min(body.length, at + len + 40)).toString('utf8');
  return { part, offset: at, length: len, snippet, ...(message !== undefined ? { message } : {}) };
}

/** Where `re` matches the decoded bodies and messages of `flow` (the first match in each). */
export function bodyHits(flow: Flow, re: RegExp, side: BodySide): BodyHit[] {
  const out: BodyHit[] = [];
  const push = (h: BodyHit | null): void => {
    if (h) out.push(h);
  };
  const client = side !== 'response';
  const server = side !== 'request';
  const messages = (list: ReadonlyArray<{ fromClient: boolean; content: Buffer }>): void => {
    list.forEach((m, i) => {
      if (m.fromClient ? client : server) push(hitIn(re, m.content, 'message', i));
    });
  };
  if (flow.type === 'http') {
    const f = flow as HTTPFlow;
    if (client && f.request.rawContent) push(hitIn(re, f.request.getContent(false)!, 'request'));
    if (server && f.response?.rawContent) push(hitIn(re, f.response.getContent(false)!, 'response'));
    if (f.websocket) messages(f.websocket.messages);
  } else if (flow.type === 'tcp' || flow.type === 'udp') {
    messages((flow as TCPFlow).messages);
  } else if (flow.type === 'dns') {
    const f = flow as DNSFlow;
    if (client) push(hitIn(re, Buffer.from(f.request.toText(), 'utf8'), 'request'));
    if (server && f.response) push(hitIn(re, Buffer.from(f.response.toText(), 'utf8'), 'response'));
  }
  return out;
}
