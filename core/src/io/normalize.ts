/**
 * Last fix-ups after migration, for what Python's loaders tolerate but a typed state must not
 * carry: a missing `backup` key (files written before it existed, e.g. by mitmproxy 8) and
 * bytes where format 21 has text (very old files, hand-made states). Cheap: a few type checks
 * per flow, no copies.
 */
import type { FlowState } from '../flow/state.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type D = Record<string, any>;

const text = (v: unknown): unknown => (Buffer.isBuffer(v) ? v.toString('utf8') : v);
const bytes = (v: unknown): unknown => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v);

function address(a: unknown): void {
  if (Array.isArray(a) && Buffer.isBuffer(a[0])) a[0] = a[0].toString('utf8');
}

function connection(c: D | null | undefined): void {
  if (c == null) return;
  address(c.peername);
  address(c.sockname);
  address(c.address);
  for (const k of ['id', 'sni', 'cipher', 'tls_version', 'error', 'proxy_mode']) {
    if (Buffer.isBuffer(c[k])) c[k] = c[k].toString('utf8');
  }
  if (typeof c.alpn === 'string') c.alpn = Buffer.from(c.alpn);
}

function message(m: D | null | undefined, isRequest: boolean): void {
  if (m == null) return;
  if (typeof m.http_version === 'string') m.http_version = Buffer.from(m.http_version);
  if (typeof m.content === 'string') m.content = Buffer.from(m.content, 'utf8');
  if (isRequest) {
    m.host = text(m.host);
    for (const k of ['method', 'scheme', 'authority', 'path']) m[k] = bytes(m[k]);
  } else if (typeof m.reason === 'string') m.reason = Buffer.from(m.reason);
}

/** Complete a migrated state in place so it matches the format 21 schema's types. */
export function normalizeFlowState(state: FlowState): FlowState {
  const d = state as D;
  if (!('backup' in d)) d.backup = null;
  else if (d.backup != null) normalizeFlowState(d.backup);
  d.type = text(d.type);
  d.id = text(d.id);
  if (d.error != null) d.error.msg = text(d.error.msg);
  connection(d.client_conn);
  connection(d.server_conn);
  if (d.type === 'http') {
    message(d.request, true);
    message(d.response, false);
    const ws = d.websocket;
    if (ws != null) {
      for (const m of ws.messages) {
        if (typeof m[2] === 'string') m[2] = Buffer.from(m[2], 'utf8');
      }
      ws.close_reason = text(ws.close_reason);
    }
  }
  return state;
}
