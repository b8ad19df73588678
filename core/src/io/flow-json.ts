/**
 * A stable, bounded JSON view of flows for `mitmts flows`: named fields (dotted paths with
 * mitmproxy's snake_case names), bodies decoded and rendered for reading (JSON as values, forms
 * as objects, binary summarised; see recon/body.ts), secrets redacted unless asked not to.
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
import { pathTemplate } from './recon/endpoints.js';
import { renderBody, pairsObject, type BodyJson, type BodyOptions } from './recon/body.js';
import { certJson, certListJson } from './recon/certs.js';
import { NO_LIMITS, shrink, type JsonObject, type JsonValue } from './recon/json.js';
import { Redactor, redacted } from './recon/redact.js';

export type { JsonValue, BodyJson };

export interface FlowJsonOptions {
  /** Byte budget per body (after decoding). */
  maxBody: number;
  /** Most messages printed per WebSocket/TCP/UDP flow. */
  maxMessages: number;
  /** Source file name, for the `file` field. */
  file?: string;
  /** Secrets out of headers, URLs and bodies (default: on). */
  redactor?: Redactor;
  /** Binary bodies and messages: `summary` (type, size, sha256; the default) or `base64`. */
  binary?: 'summary' | 'base64';
}

const REDACT = new Redactor(true);

function bodyOptions(o: FlowJsonOptions): BodyOptions {
  return { maxBody: o.maxBody, binary: o.binary ?? 'summary', redactor: o.redactor ?? REDACT };
}
const red = (o: FlowJsonOptions): Redactor => o.redactor ?? REDACT;

/**
 * Print a body: decoded content rendered for reading and cut to `max` bytes (redaction on,
 * binary summarised; see {@link renderBody} for the choices).
 */
export function bodyJson(
  content: Buffer,
  contentType: string | undefined,
  max: number,
  options: Partial<BodyOptions> = {},
): BodyJson {
  return renderBody(content, contentType, {
    maxBody: max,
    binary: options.binary ?? 'summary',
    redactor: options.redactor ?? REDACT,
  });
}

type Getter = (f: AnyFlow, o: FlowJsonOptions) => JsonValue;

const isHttp = (f: AnyFlow): f is HTTPFlow => f.type === 'http';
const isDns = (f: AnyFlow): f is DNSFlow => f.type === 'dns';
const hasMessages = (f: AnyFlow): f is TCPFlow | UDPFlow => f.type === 'tcp' || f.type === 'udp';

function messageBody(m: Message | null, o: FlowJsonOptions): JsonValue {
  if (m === null) return null;
  let content: Buffer | null;
  try {
    content = m.getContent(false);
  } catch {
    content = m.rawContent;
  }
  if (content === null) return null;
  return renderBody(content, m.headers.get('content-type'), bodyOptions(o));
}

const headerPairs = (h: Headers | null, o: FlowJsonOptions): JsonValue =>
  h === null ? null : h.items(true).map(([k, v]) => [k, red(o).header(k, v)]);

/** Set-Cookie headers as `{name: {value, ...attributes}}` (valueless attributes as true). */
function responseCookies(r: NonNullable<HTTPFlow['response']>, o: FlowJsonOptions): JsonValue {
  const out: JsonObject = {};
  for (const [name, [value, attrs]] of r.cookies.items(true)) {
    const c: JsonObject = { value: red(o).enabled ? redacted(value) : value };
    for (const [k, v] of attrs.items(true)) c[k] = v ?? true;
    out[name] = c;
  }
  return out;
}

function conn(server: boolean): Record<string, Getter> {
  const g =
    (pick: (c: Client | Server) => JsonValue): Getter =>
    (f) =>
      pick(server ? f.serverConn : f.clientConn);
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
    certificate_list: g((c) => certListJson(c.certificateList)),
  };
  if (server) {
    fields.address = g((c) => ((c as Server).address ? [...(c as Server).address!] : null));
    fields.timestamp_tcp_setup = g((c) => (c as Server).timestampTcpSetup);
    fields.certificate = g((c) => (c.certificateList[0] ? certJson(c.certificateList[0]) : null));
  } else {
    fields.proxy_mode = g((c) => (c as Client).proxyMode);
    fields.mitmcert = g((c) => ((c as Client).mitmcert ? certJson((c as Client).mitmcert!) : null));
  }
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
    out.content = renderBody(m.content, ws && m.type === 1 ? 'text/plain; charset=utf-8' : undefined, bodyOptions(o));
    return out;
  });
}

function lastTimestamp(f: AnyFlow): number | null {
  if (isHttp(f))
    return (
      f.websocket?.timestampEnd ?? f.response?.timestampEnd ?? f.error?.timestamp ?? f.request.timestampEnd ?? null
    );
  if (isDns(f)) return f.response?.timestamp ?? f.error?.timestamp ?? null;
  const ms = (f as TCPFlow).messages;
  return ms.length ? ms[ms.length - 1]!.timestamp : (f.error?.timestamp ?? null);
}

const req =
  (pick: (f: HTTPFlow, o: FlowJsonOptions) => JsonValue): Getter =>
  (f, o) =>
    isHttp(f) ? pick(f, o) : null;
const resp =
  (pick: (r: NonNullable<HTTPFlow['response']>, o: FlowJsonOptions) => JsonValue): Getter =>
  (f, o) =>
    isHttp(f) && f.response !== null ? pick(f.response, o) : null;

const mediaType = (v: string | undefined): JsonValue =>
  v === undefined ? null : v.split(';')[0]!.trim().toLowerCase();

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
  metadata: (f, o) => red(o).json(shrink(f.metadata, NO_LIMITS)),
  error: (f) => f.error?.msg ?? null,
  'error.timestamp': (f) => f.error?.timestamp ?? null,
  ...Object.fromEntries(Object.entries(conn(false)).map(([k, g]) => [`client_conn.${k}`, g])),
  ...Object.fromEntries(Object.entries(conn(true)).map(([k, g]) => [`server_conn.${k}`, g])),
  'request.method': req((f) => f.request.method),
  'request.url': req((f, o) => red(o).url(f.request.prettyUrl)),
  'request.scheme': req((f) => f.request.scheme),
  'request.host': req((f) => f.request.prettyHost),
  'request.port': req((f) => f.request.port),
  'request.path': req((f, o) => red(o).url(f.request.path)),
  'request.path_template': req((f) => pathTemplate(f.request.path || '/')),
  'request.query': req((f, o) => pairsObject(f.request.query.items(true), (k, v) => red(o).param(k, v))),
  'request.cookies': req((f, o) =>
    pairsObject(f.request.cookies.items(true), (_k, v) => (red(o).enabled ? redacted(v) : v)),
  ),
  'request.http_version': req((f) => f.request.httpVersion),
  'request.headers': req((f, o) => headerPairs(f.request.headers, o)),
  'request.content_type': req((f) => mediaType(f.request.headers.get('content-type'))),
  'request.content': req((f, o) => messageBody(f.request, o)),
  'request.trailers': req((f, o) => headerPairs(f.request.trailers, o)),
  'request.timestamp_start': req((f) => f.request.timestampStart),
  'request.timestamp_end': req((f) => f.request.timestampEnd),
  'response.status_code': resp((r) => r.statusCode),
  'response.reason': resp((r) => r.reason),
  'response.http_version': resp((r) => r.httpVersion),
  'response.headers': resp((r, o) => headerPairs(r.headers, o)),
  'response.cookies': resp(responseCookies),
  'response.content_type': resp((r) => mediaType(r.headers.get('content-type'))),
  'response.content': resp((r, o) => messageBody(r, o)),
  'response.trailers': resp((r, o) => headerPairs(r.trailers, o)),
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
  'id',
  'type',
  'timestamp_created',
  'request.method',
  'request.url',
  'request.content',
  'response.status_code',
  'response.content_type',
  'response.content',
  'error',
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
        const value = (h: Headers, o: FlowJsonOptions): JsonValue => {
          const v = h.get(header);
          return v === undefined ? null : red(o).header(header, v);
        };
        const getter: Getter =
          m[1] === 'request' ? req((f, o) => value(f.request.headers, o)) : resp((r, o) => value(r.headers, o));
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
