/**
 * A stable, bounded JSON view of flows for `mitmts flows`: named fields (dotted paths with
 * mitmproxy's snake_case names), bodies decoded and cut to a byte budget with the cut marked.
 * A field that does not apply to a flow (a response field of a TCP flow) is null.
 */
import type { Client, Server } from '../flow/connection.js';
import type { DNSFlow, DNSMessage } from '../flow/dns.js';
import { dnsTypeName } from '../flow/dns.js';
import type { AnyFlow } from '../flow/from-state.js';
import type { Headers } from '../flow/headers.js';
import type { HTTPFlow } from '../flow/http-flow.js';
import type { Message } from '../flow/message.js';
import type { TCPFlow, UDPFlow } from '../flow/tcp-flow.js';
import { parseContentType } from '../flow/content-type.js';
import { decodeText } from '../flow/charset.js';

/** JSON-compatible output values. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A body as printed: decoded, cut to the budget, text or base64. */
export interface BodyJson {
  [key: string]: JsonValue;
  /** Size of the decoded body in bytes (before the cut). */
  size: number;
  /** True when `data` holds only the first `max-body` bytes. */
  truncated: boolean;
  /** `utf-8` (text) or `base64` (binary, or text in an undecodable charset). */
  encoding: 'utf-8' | 'base64';
  data: string;
}

export interface FlowJsonOptions {
  /** Byte budget per body (after decoding). */
  maxBody: number;
  /** Most messages printed per WebSocket/TCP/UDP flow. */
  maxMessages: number;
  /** Source file name, for the `file` field. */
  file?: string;
}

type Getter = (f: AnyFlow, o: FlowJsonOptions) => JsonValue;

const isHttp = (f: AnyFlow): f is HTTPFlow => f.type === 'http';
const isDns = (f: AnyFlow): f is DNSFlow => f.type === 'dns';
const hasMessages = (f: AnyFlow): f is TCPFlow | UDPFlow => f.type === 'tcp' || f.type === 'udp';

/** Back off to a UTF-8 character boundary so a cut never splits a character. */
function utf8Cut(b: Buffer, max: number): Buffer {
  if (b.length <= max) return b;
  let end = max;
  // Drop continuation bytes, then the lead byte if its sequence did not fit.
  let k = end;
  while (k > 0 && k > end - 4 && (b[k - 1]! & 0xc0) === 0x80) k--;
  if (k > 0 && k > end - 4) {
    const lead = b[k - 1]!;
    const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (need > 1 && k - 1 + need > end) end = k - 1;
  }
  return b.subarray(0, end);
}

/** Charsets whose text can be cut at any byte (after the UTF-8 boundary fix). */
const CUTTABLE = /^(utf-?8|us-ascii|ascii|iso-8859-1|latin-?1|windows-1252|cp1252)$/i;

/** More than 30% control characters (other than tab, CR, LF) among the first 100: binary. */
function mostlyControl(text: string): boolean {
  const n = Math.min(text.length, 100);
  let ctl = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 9 || (c > 13 && c < 32) || c === 127 || c === 0xfffd) ctl++;
  }
  return n > 0 && ctl / n > 0.3;
}

/**
 * Print a body: decoded content; text if it decodes strictly in its charset (default UTF-8) and
 * is not mostly control characters, else base64; cut to `max` bytes.
 */
export function bodyJson(content: Buffer, contentType: string | undefined, max: number): BodyJson {
  const size = content.length;
  let charset = 'utf-8';
  if (contentType) {
    const ct = parseContentType(contentType);
    const cs = ct?.[2].get('charset');
    if (typeof cs === 'string' && cs) charset = cs;
  }
  if (CUTTABLE.test(charset)) {
    const cut = /^utf-?8$/i.test(charset) ? utf8Cut(content, max) : content.subarray(0, max);
    let text: string | undefined;
    try {
      text = decodeText(cut, charset, true);
    } catch {
      text = undefined;
    }
    if (text !== undefined && !mostlyControl(text)) return { size, truncated: cut.length < size, encoding: 'utf-8', data: text };
  }
  const cut = content.subarray(0, max);
  return { size, truncated: cut.length < size, encoding: 'base64', data: cut.toString('base64') };
}

function messageBody(m: Message | null, max: number): JsonValue {
  if (m === null) return null;
  let content: Buffer | null;
  try {
    content = m.getContent(false);
  } catch {
    content = m.rawContent;
  }
  if (content === null) return null;
  return bodyJson(content, m.headers.get('content-type'), max);
}

const headerPairs = (h: Headers | null): JsonValue => (h === null ? null : h.items(true).map(([k, v]) => [k, v]));

function conn(server: boolean): Record<string, Getter> {
  const g = (pick: (c: Client | Server) => JsonValue): Getter => (f) => pick(server ? f.serverConn : f.clientConn);
  const fields: Record<string, Getter> = {
    id: g((c) => c.id),
    peername: g((c) => (c.peername ? [...c.peername] : null)),
    sockname: g((c) => (c.sockname ? [...c.sockname] : null)),
    tls_version: g((c) => c.tlsVersion),
    sni: g((c) => c.sni),
    alpn: g((c) => (c.alpn ? c.alpn.toString('latin1') : null)),
    cipher: g((c) => c.cipher),
    error: g((c) => c.error),
    timestamp_start: g((c) => c.timestampStart),
    timestamp_tls_setup: g((c) => c.timestampTlsSetup),
    timestamp_end: g((c) => c.timestampEnd),
  };
  if (server) {
    fields.address = g((c) => ((c as Server).address ? [...(c as Server).address!] : null));
    fields.timestamp_tcp_setup = g((c) => (c as Server).timestampTcpSetup);
  } else fields.proxy_mode = g((c) => (c as Client).proxyMode);
  return fields;
}

function dnsMessage(m: DNSMessage | null): JsonValue {
  if (m === null) return null;
  return {
    id: m.id,
    response_code: m.responseCode,
    questions: m.questions.map((q) => ({ name: q.name, type: dnsTypeName(q.type) })),
    answers: m.answers.map((a) => ({ name: a.name, type: dnsTypeName(a.type), ttl: a.ttl, data: a.toString() })),
  };
}

function messagesJson(f: AnyFlow, o: FlowJsonOptions): JsonValue {
  const list = isHttp(f) ? f.websocket?.messages : hasMessages(f) ? f.messages : undefined;
  if (list === undefined) return null;
  return list.slice(0, o.maxMessages).map((m) => {
    const ws = 'type' in m;
    const out: { [key: string]: JsonValue } = { from_client: m.fromClient, timestamp: m.timestamp };
    if (ws) out.type = m.type === 1 ? 'text' : m.type === 2 ? 'binary' : m.type;
    out.content = bodyJson(m.content, ws && m.type === 1 ? 'text/plain; charset=utf-8' : undefined, o.maxBody);
    return out;
  });
}

function lastTimestamp(f: AnyFlow): number | null {
  if (isHttp(f)) return f.websocket?.timestampEnd ?? f.response?.timestampEnd ?? f.error?.timestamp ?? f.request.timestampEnd ?? null;
  if (isDns(f)) return f.response?.timestamp ?? f.error?.timestamp ?? null;
  const ms = (f as TCPFlow).messages;
  return ms.length ? ms[ms.length - 1]!.timestamp : (f.error?.timestamp ?? null);
}

const req = (pick: (f: HTTPFlow, o: FlowJsonOptions) => JsonValue): Getter => (f, o) => (isHttp(f) ? pick(f, o) : null);
const resp = (pick: (r: NonNullable<HTTPFlow['response']>, o: FlowJsonOptions) => JsonValue): Getter => (f, o) =>
  isHttp(f) && f.response !== null ? pick(f.response, o) : null;

const mediaType = (v: string | undefined): JsonValue => (v === undefined ? null : v.split(';')[0]!.trim().toLowerCase());

/** Every field `--fields` accepts (besides `request.headers.<name>` and `response.headers.<name>`). */
export const FLOW_FIELDS: Readonly<Record<string, Getter>> = {
  id: (f) => f.id,
  type: (f) => f.type,
  file: (_f, o) => o.file ?? null,
  timestamp_created: (f) => f.timestampCreated,
  duration: (f) => {
    const end = lastTimestamp(f);
    const start = isHttp(f) ? f.request.timestampStart : f.timestampCreated;
    return end === null ? null : Math.max(0, end - start);
  },
  marked: (f) => f.marked,
  comment: (f) => f.comment,
  is_replay: (f) => f.isReplay,
  intercepted: (f) => f.intercepted,
  metadata: (f) => JSON.parse(JSON.stringify(f.metadata, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))) as JsonValue,
  error: (f) => f.error?.msg ?? null,
  'error.timestamp': (f) => f.error?.timestamp ?? null,
  ...Object.fromEntries(Object.entries(conn(false)).map(([k, g]) => [`client_conn.${k}`, g])),
  ...Object.fromEntries(Object.entries(conn(true)).map(([k, g]) => [`server_conn.${k}`, g])),
  'request.method': req((f) => f.request.method),
  'request.url': req((f) => f.request.prettyUrl),
  'request.scheme': req((f) => f.request.scheme),
  'request.host': req((f) => f.request.prettyHost),
  'request.port': req((f) => f.request.port),
  'request.path': req((f) => f.request.path),
  'request.http_version': req((f) => f.request.httpVersion),
  'request.headers': req((f) => headerPairs(f.request.headers)),
  'request.content_type': req((f) => mediaType(f.request.headers.get('content-type'))),
  'request.content': req((f, o) => messageBody(f.request, o.maxBody)),
  'request.trailers': req((f) => headerPairs(f.request.trailers)),
  'request.timestamp_start': req((f) => f.request.timestampStart),
  'request.timestamp_end': req((f) => f.request.timestampEnd),
  'response.status_code': resp((r) => r.statusCode),
  'response.reason': resp((r) => r.reason),
  'response.http_version': resp((r) => r.httpVersion),
  'response.headers': resp((r) => headerPairs(r.headers)),
  'response.content_type': resp((r) => mediaType(r.headers.get('content-type'))),
  'response.content': resp((r, o) => messageBody(r, o.maxBody)),
  'response.trailers': resp((r) => headerPairs(r.trailers)),
  'response.timestamp_start': resp((r) => r.timestampStart),
  'response.timestamp_end': resp((r) => r.timestampEnd),
  'websocket.messages': (f, o) => (isHttp(f) && f.websocket !== null ? messagesJson(f, o) : null),
  'websocket.message_count': (f) => (isHttp(f) && f.websocket !== null ? f.websocket.messages.length : null),
  'websocket.close_code': (f) => (isHttp(f) ? (f.websocket?.closeCode ?? null) : null),
  'websocket.close_reason': (f) => (isHttp(f) ? (f.websocket?.closeReason ?? null) : null),
  'websocket.closed_by_client': (f) => (isHttp(f) ? (f.websocket?.closedByClient ?? null) : null),
  messages: (f, o) => (hasMessages(f) ? messagesJson(f, o) : null),
  message_count: (f) => (hasMessages(f) ? f.messages.length : null),
  'dns.request': (f) => (isDns(f) ? dnsMessage(f.request) : null),
  'dns.response': (f) => (isDns(f) ? dnsMessage(f.response) : null),
};

/** Fields printed when `--fields` is not given. */
export const DEFAULT_FIELDS: readonly string[] = [
  'id', 'type', 'timestamp_created', 'request.method', 'request.url', 'response.status_code',
  'response.content_type', 'response.content', 'error',
];

/** `--fields` named a field that does not exist. */
export class UnknownFieldError extends Error {
  readonly code = 'MITMTS_ERR_UNKNOWN_FIELD';
}

const HEADER_FIELD = /^(request|response)\.headers\.(.+)$/;

/** A compiled field list: validates names once, then extracts values per flow. */
export class FlowFields {
  private readonly getters: Array<[string, Getter]>;

  /** @throws UnknownFieldError naming the unknown field and listing the valid ones. */
  constructor(readonly names: readonly string[]) {
    this.getters = names.map((name) => {
      const g = FLOW_FIELDS[name];
      if (g !== undefined) return [name, g];
      const m = HEADER_FIELD.exec(name);
      if (m !== null) {
        const header = m[2]!;
        const getter: Getter =
          m[1] === 'request' ? req((f) => f.request.headers.get(header) ?? null) : resp((r) => r.headers.get(header) ?? null);
        return [name, getter];
      }
      throw new UnknownFieldError(
        `unknown field '${name}'. Fields: ${Object.keys(FLOW_FIELDS).join(', ')}, request.headers.<name>, response.headers.<name>`,
      );
    });
  }

  /** The JSON object for one flow, keys in the order asked for. */
  extract(flow: AnyFlow, options: FlowJsonOptions): { [key: string]: JsonValue } {
    const out: { [key: string]: JsonValue } = {};
    for (const [name, g] of this.getters) {
      let v: JsonValue;
      try {
        v = g(flow, options);
      } catch (e) {
        v = { error: (e as Error).message };
      }
      out[name] = v === undefined ? null : v;
    }
    return out;
  }
}
