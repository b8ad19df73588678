/**
 * HAR export (shared/reference/flow-format.md §4, mitmproxy's savehar): HTTP flows to an
 * HTTP Archive 1.2 document that browsers' HAR import (Chrome/Firefox DevTools) accepts.
 *
 * Differences from mitmproxy, all towards what HAR 1.2 requires: `creator` names mitmts;
 * an entry without a response still carries `content: {size: 0, mimeType: ""}`; a missing body
 * is exported as empty text rather than null.
 */
import { deflateSync } from 'node:zlib';
import type { Flow } from '../flow/flow.js';
import type { Headers } from '../flow/headers.js';
import { HTTPFlow } from '../flow/http-flow.js';
import type { Message } from '../flow/message.js';
import type { Response } from '../flow/response.js';

export interface HarNameValue {
  name: string;
  value: string;
}

export interface HarCookie extends HarNameValue {
  path?: string;
  domain?: string;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: string;
}

export interface HarTimings {
  connect: number;
  ssl: number;
  send: number;
  receive: number;
  wait: number;
}

export interface HarRequest {
  method: string;
  url: string;
  httpVersion: string;
  cookies: HarNameValue[];
  headers: HarNameValue[];
  queryString: HarNameValue[];
  headersSize: number;
  bodySize: number;
  postData?: { mimeType: string; text: string; params: HarNameValue[] };
}

export interface HarContent {
  size: number;
  compression?: number;
  mimeType: string;
  text?: string;
  encoding?: 'base64';
}

export interface HarResponse {
  status: number;
  statusText: string;
  httpVersion: string;
  cookies: HarCookie[];
  headers: HarNameValue[];
  content: HarContent;
  redirectURL: string;
  headersSize: number;
  bodySize: number;
  _transferSize?: number;
  _error?: string | null;
}

export interface HarWebSocketMessage {
  type: 'send' | 'receive';
  time: number;
  opcode: number;
  data: string;
}

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: HarRequest;
  response: HarResponse;
  cache: Record<string, never>;
  timings: HarTimings;
  serverIPAddress?: string;
  _resourceType?: 'websocket';
  _webSocketMessages?: HarWebSocketMessage[];
}

export interface Har {
  log: {
    version: '1.2';
    creator: { name: string; version: string; comment: string };
    pages: never[];
    entries: HarEntry[];
  };
}

export interface HarExportOptions {
  /** `log.creator`; default `{ name: 'mitmts', version: <core version>, comment: '' }`. */
  creator?: { name: string; version: string; comment: string };
}

const CORE_VERSION = '0.1.0';

/** Python's `datetime.fromtimestamp(ts, timezone.utc).isoformat()`. */
export function isoTimestamp(ts: number): string {
  let secs = Math.floor(ts);
  let us = Math.round((ts - secs) * 1e6);
  if (us >= 1e6) {
    secs += 1;
    us -= 1e6;
  }
  const base = new Date(secs * 1000).toISOString().slice(0, 19);
  return `${base}${us ? '.' + String(us).padStart(6, '0') : ''}+00:00`;
}

/** mitmproxy's `strutils.is_mostly_bin`: more than 30% control or high bytes in the first 100. */
export function isMostlyBinary(b: Buffer): boolean {
  const n = Math.min(b.length, 100);
  if (n === 0) return false;
  let bin = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c < 9 || (c > 13 && c < 32) || c > 126) bin++;
  }
  return bin / n > 0.3;
}

const nv = (items: Iterable<[string, string]>): HarNameValue[] =>
  Array.from(items, ([name, value]) => ({ name, value }));

/** Python `len(str(headers))`: code points of the `name: value\r\n` block. */
function headersSize(h: Headers): number {
  let n = 0;
  for (const [k, v] of h.fields) n += [...k.toString('utf8')].length + [...v.toString('utf8')].length + 4;
  return n;
}

function safeContent(m: Message): Buffer | null {
  try {
    return m.getContent(false);
  } catch {
    return m.rawContent;
  }
}

function safeText(m: Message): string {
  try {
    return m.getText(false) ?? '';
  } catch {
    return (m.rawContent ?? Buffer.alloc(0)).toString('latin1');
  }
}

function responseCookies(r: Response): HarCookie[] {
  return r.cookies.items(true).map(([name, [value, attrs]]) => {
    const c: HarCookie = {
      name,
      value,
      path: attrs.get('path') ?? '/',
      domain: attrs.get('domain') ?? '',
      httpOnly: attrs.has('httponly'),
      secure: attrs.has('secure'),
    };
    const sameSite = attrs.get('samesite');
    if (sameSite != null) c.sameSite = sameSite;
    return c;
  });
}

function timings(flow: HTTPFlow, serversSeen: Set<string>): HarTimings {
  const s = flow.serverConn;
  let connect = -1;
  let ssl = -1;
  if (!serversSeen.has(s.id) && s.timestampTcpSetup != null && s.timestampStart != null) {
    connect = 1000 * (s.timestampTcpSetup - s.timestampStart);
    if (s.timestampTlsSetup != null) ssl = 1000 * (s.timestampTlsSetup - s.timestampTcpSetup);
    serversSeen.add(s.id);
  }
  const req = flow.request;
  const resp = flow.response;
  const send = req.timestampEnd != null ? 1000 * (req.timestampEnd - req.timestampStart) : 0;
  const wait = resp !== null && req.timestampEnd != null ? 1000 * (resp.timestampStart - req.timestampEnd) : 0;
  const receive = resp !== null && resp.timestampEnd != null ? 1000 * (resp.timestampEnd - resp.timestampStart) : 0;
  return { connect, ssl, send, receive, wait };
}

function response(flow: HTTPFlow): HarResponse {
  const r = flow.response;
  if (r === null) {
    return {
      status: 0,
      statusText: '',
      httpVersion: '',
      headers: [],
      cookies: [],
      content: { size: 0, mimeType: '' },
      redirectURL: '',
      headersSize: -1,
      bodySize: -1,
      _transferSize: 0,
      _error: flow.error?.msg ?? null,
    };
  }
  const raw = r.rawContent;
  const decoded = safeContent(r);
  const size = raw?.length ?? 0;
  const content: HarContent = {
    size,
    compression: (decoded?.length ?? 0) - size,
    mimeType: r.headers.get('content-type') ?? '',
  };
  if (decoded !== null && decoded.length > 0 && isMostlyBinary(decoded)) {
    content.text = decoded.toString('base64');
    content.encoding = 'base64';
  } else content.text = safeText(r);
  return {
    status: r.statusCode,
    statusText: r.reason,
    httpVersion: r.httpVersion,
    cookies: responseCookies(r),
    headers: nv(r.headers.items(true)),
    content,
    redirectURL: r.headers.get('location') ?? '',
    headersSize: headersSize(r.headers),
    bodySize: size,
  };
}

/** One HAR entry. `serversSeen` (server connection ids) makes later entries on the same connection report connect/ssl as -1. */
export function flowToHarEntry(flow: HTTPFlow, serversSeen: Set<string> = new Set()): HarEntry {
  const req = flow.request;
  const t = timings(flow, serversSeen);
  const entry: HarEntry = {
    startedDateTime: isoTimestamp(req.timestampStart),
    time: [t.connect, t.ssl, t.send, t.receive, t.wait].reduce((a, v) => (v >= 0 ? a + v : a), 0),
    request: {
      method: req.method,
      url: req.firstLineFormat === 'authority' ? `https://${req.host}:${req.port}/` : req.prettyUrl,
      httpVersion: req.httpVersion,
      cookies: nv(req.cookies.items(true)),
      headers: nv(req.headers.items(true)),
      queryString: nv(req.query.items(true)),
      headersSize: headersSize(req.headers),
      bodySize: req.rawContent?.length ?? 0,
    },
    response: response(flow),
    cache: {},
    timings: t,
  };
  if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
    let params: HarNameValue[] = [];
    try {
      params = nv(req.urlencodedForm.items(true));
    } catch {
      params = [];
    }
    entry.request.postData = { mimeType: req.headers.get('content-type') ?? '', text: safeText(req), params };
  }
  const peer = flow.serverConn.peername;
  if (peer) entry.serverIPAddress = String(peer[0]);
  const ws = flow.websocket;
  if (ws !== null) {
    entry._resourceType = 'websocket';
    entry._webSocketMessages = ws.messages.map((m) => ({
      type: m.fromClient ? 'send' : 'receive',
      time: m.timestamp,
      opcode: m.type,
      // Text as text (lenient: a message an addon made invalid still exports), binary as base64, as Chrome writes them.
      data: m.isText ? m.content.toString('utf8') : m.content.toString('base64'),
    }));
  }
  return entry;
}

/** A HAR document of the HTTP flows among `flows` (other flow types are skipped). */
export function flowsToHar(flows: Iterable<Flow>, options: HarExportOptions = {}): Har {
  const serversSeen = new Set<string>();
  const entries: HarEntry[] = [];
  for (const f of flows) if (f instanceof HTTPFlow) entries.push(flowToHarEntry(f, serversSeen));
  return {
    log: {
      version: '1.2',
      creator: options.creator ?? { name: 'mitmts', version: CORE_VERSION, comment: '' },
      pages: [],
      entries,
    },
  };
}

/** The file bytes: JSON indented by 4 spaces; zlib-compressed (level 9) for `.zhar`. */
export function serializeHar(har: Har, options: { compress?: boolean } = {}): Buffer {
  const json = Buffer.from(JSON.stringify(har, null, 4), 'utf8');
  return options.compress ? deflateSync(json, { level: 9 }) : json;
}
