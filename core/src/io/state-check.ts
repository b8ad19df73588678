/**
 * Checks a flow state against the format 21 schema, key for key and type for type (the
 * strictness of mitmproxy's dataclass loaders: no missing keys, no unknown keys, right types).
 * Returns the problems found as `path: problem` strings; an empty list means the state is valid.
 */
import type { FlowState } from '../flow/state.js';

type Check = (v: unknown) => boolean;
type Shape = { [key: string]: Check };

const isStr: Check = (v) => typeof v === 'string';
const isBytes: Check = (v) => Buffer.isBuffer(v);
const isInt: Check = (v) => typeof v === 'number' && Number.isInteger(v);
const isNum: Check = (v) => typeof v === 'number';
const isBool: Check = (v) => typeof v === 'boolean';
const opt =
  (c: Check): Check =>
  (v) =>
    v === null || c(v);
const list =
  (c: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(c);
const oneOf =
  (...xs: unknown[]): Check =>
  (v) =>
    xs.includes(v);
const isAddress: Check = (v) =>
  Array.isArray(v) && (v.length === 2 || v.length === 4) && isStr(v[0]) && v.slice(1).every(isInt);
const isHeaders: Check = list((p) => Array.isArray(p) && p.length === 2 && isBytes(p[0]) && isBytes(p[1]));
const isDict: Check = (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

const TLS_VERSIONS = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', 'DTLSv0.9', 'DTLSv1', 'DTLSv1.2', 'QUICv1'];

const CONNECTION: Shape = {
  id: isStr,
  peername: opt(isAddress),
  sockname: opt(isAddress),
  transport_protocol: oneOf('tcp', 'udp'),
  error: opt(isStr),
  tls: isBool,
  certificate_list: list(isBytes),
  alpn: opt(isBytes),
  alpn_offers: list(isBytes),
  cipher: opt(isStr),
  cipher_list: list(isStr),
  tls_version: opt(oneOf(...TLS_VERSIONS)),
  sni: opt(isStr),
  timestamp_start: opt(isNum),
  timestamp_end: opt(isNum),
  timestamp_tls_setup: opt(isNum),
};
const CLIENT: Shape = {
  ...CONNECTION,
  peername: isAddress,
  sockname: isAddress,
  timestamp_start: isNum,
  mitmcert: opt(isBytes),
  proxy_mode: isStr,
};
const SERVER: Shape = {
  ...CONNECTION,
  address: opt(isAddress),
  timestamp_tcp_setup: opt(isNum),
  via: opt((v) => Array.isArray(v) && v.length === 2 && isStr(v[0]) && isAddress(v[1])),
};
const MESSAGE: Shape = {
  http_version: isBytes,
  headers: isHeaders,
  content: opt(isBytes),
  trailers: opt(isHeaders),
  timestamp_start: isNum,
  timestamp_end: opt(isNum),
};
const REQUEST: Shape = {
  ...MESSAGE,
  host: isStr,
  port: isInt,
  method: isBytes,
  scheme: isBytes,
  authority: isBytes,
  path: isBytes,
};
const RESPONSE: Shape = { ...MESSAGE, status_code: isInt, reason: isBytes };
const WS_MESSAGE: Check = (m) =>
  Array.isArray(m) &&
  m.length === 6 &&
  isInt(m[0]) &&
  isBool(m[1]) &&
  isBytes(m[2]) &&
  isNum(m[3]) &&
  isBool(m[4]) &&
  isBool(m[5]);
const WEBSOCKET: Shape = {
  messages: list(WS_MESSAGE),
  closed_by_client: opt(isBool),
  close_code: opt(isInt),
  close_reason: opt(isStr),
  timestamp_end: opt(isNum),
};
const TCP_MESSAGE: Check = (m) => Array.isArray(m) && m.length === 3 && isBool(m[0]) && isBytes(m[1]) && isNum(m[2]);
const QUESTION: Shape = { name: isStr, type: isInt, class_: isInt };
const RR: Shape = { name: isStr, type: isInt, class_: isInt, ttl: isInt, data: isBytes };
const DNS_MESSAGE: Shape = {
  id: isInt,
  query: isBool,
  op_code: isInt,
  authoritative_answer: isBool,
  truncation: isBool,
  recursion_desired: isBool,
  recursion_available: isBool,
  reserved: isInt,
  response_code: isInt,
  questions: isDict,
  answers: isDict,
  authorities: isDict,
  additionals: isDict,
  timestamp: opt(isNum),
};
const ERROR: Shape = { msg: isStr, timestamp: isNum };
const BASE: Shape = {
  version: (v) => v === 21,
  type: oneOf('http', 'tcp', 'udp', 'dns'),
  id: isStr,
  error: isDict,
  client_conn: isDict,
  server_conn: isDict,
  intercepted: isBool,
  is_replay: opt(oneOf('request', 'response')),
  marked: isStr,
  metadata: isDict,
  comment: isStr,
  timestamp_created: isNum,
  backup: isDict,
};

function shape(
  v: unknown,
  s: Shape,
  path: string,
  out: string[],
  nested: { [key: string]: (v: unknown, p: string) => void } = {},
): void {
  if (!isDict(v)) {
    out.push(`${path}: expected a dict`);
    return;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(s)) {
    if (!(k in o)) out.push(`${path}.${k}: missing`);
  }
  for (const k of Object.keys(o)) {
    const p = `${path}.${k}`;
    if (!(k in s)) out.push(`${p}: unexpected key`);
    else if (nested[k] !== undefined) {
      if (o[k] !== null || !(k in NULLABLE_NESTED)) nested[k]!(o[k], p);
    } else if (!s[k]!(o[k])) out.push(`${p}: wrong type or value (${describe(o[k])})`);
  }
}

const NULLABLE_NESTED: { [key: string]: true } = { error: true, backup: true, response: true, websocket: true };

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Buffer.isBuffer(v)) return 'bytes';
  if (Array.isArray(v)) return `list of ${v.length}`;
  return typeof v === 'string' ? `str ${JSON.stringify(v).slice(0, 40)}` : `${typeof v} ${String(v)}`;
}

function dnsMessage(v: unknown, p: string, out: string[]): void {
  const sub = (s: Shape) => (x: unknown, q: string) => {
    if (!Array.isArray(x)) out.push(`${q}: expected a list`);
    else x.forEach((item, i) => shape(item, s, `${q}[${i}]`, out));
  };
  shape(v, DNS_MESSAGE, p, out, {
    questions: sub(QUESTION),
    answers: sub(RR),
    authorities: sub(RR),
    additionals: sub(RR),
  });
}

/** Problems of `state` against format 21 (empty when it is a valid state). */
export function checkFlowState(state: FlowState | Record<string, unknown>, path = 'flow'): string[] {
  const out: string[] = [];
  const o = state as Record<string, unknown>;
  const type = o.type;
  let s: Shape = BASE;
  if (type === 'http') s = { ...BASE, request: isDict, response: isDict, websocket: isDict };
  else if (type === 'tcp' || type === 'udp') s = { ...BASE, messages: list(TCP_MESSAGE) };
  else if (type === 'dns') s = { ...BASE, request: isDict, response: isDict };
  shape(state, s, path, out, {
    error: (v, p) => shape(v, ERROR, p, out),
    client_conn: (v, p) => shape(v, CLIENT, p, out),
    server_conn: (v, p) => shape(v, SERVER, p, out),
    backup: (v, p) => out.push(...checkFlowState(v as Record<string, unknown>, p)),
    ...(type === 'http'
      ? {
          request: (v: unknown, p: string) => shape(v, REQUEST, p, out),
          response: (v: unknown, p: string) => shape(v, RESPONSE, p, out),
          websocket: (v: unknown, p: string) => shape(v, WEBSOCKET, p, out),
        }
      : type === 'dns'
        ? {
            request: (v: unknown, p: string) => dnsMessage(v, p, out),
            response: (v: unknown, p: string) => dnsMessage(v, p, out),
          }
        : {}),
  });
  return out;
}
