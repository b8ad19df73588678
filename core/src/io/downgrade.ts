/**
 * Writing flow format 17, the format of mitmproxy 7 and 8 (Debian's mitmproxy 8.1.1 reads
 * nothing newer). Converters 17 -> 21 (migrations.ts) run backwards:
 * - 20 -> 21 renamed tls_version "QUIC" to "QUICv1": back to "QUIC";
 * - 19 -> 20 dropped the connections' runtime `state`: written as mitmproxy 8 saved it in
 *   practice: 0 (closed) for a connection with an end time or none at all, and for TCP and
 *   WebSocket flows (saved when they end), else 3 (open);
 * - 18 -> 19 renamed the connection keys (peername, sockname, cipher, via) and dropped
 *   `tls_established` and `tls_extensions`: renamed back, `tls_established` derived from the
 *   TLS setup time, `tls_extensions` an empty list, `transport_protocol` dropped;
 * - 17 -> 18 added the client's `proxy_mode`: dropped (format 17 has no place for it);
 * - `backup` is written only for a modified flow (as mitmproxy 8 does), itself downgraded.
 * UDP and DNS flows did not exist in format 17: {@link downgradeTo17} returns null for them.
 * The key order is mitmproxy 8's, so a format 17 file read and written back is byte for byte
 * the original (tested on files mitmdump 8.1.1 wrote).
 */
import type { FlowState } from '../flow/state.js';
import {
  ERROR_SCHEMA,
  REQUEST_SCHEMA,
  RESPONSE_SCHEMA,
  TCP_MESSAGES_SCHEMA,
  WEBSOCKET_SCHEMA,
} from './state-schema.js';
import { FLOAT, encode, type TnetDictSchema } from './tnetstring.js';

/** The flow format mitmproxy 7 and 8 write. */
export const FLOW_FORMAT_17 = 17;

// Downgraded states are untyped dicts, as states of old versions are in migrations.ts.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type D = Record<string, any>;

const quic = (v: unknown): unknown => (v === 'QUICv1' ? 'QUIC' : v);
const connState = (c: D, ended: boolean): number =>
  ended || c.timestamp_end != null || c.timestamp_start == null ? 0 : 3;

function client17(c: D, ended: boolean): D {
  return {
    address: c.peername,
    alpn: c.alpn,
    cipher_name: c.cipher,
    id: c.id,
    mitmcert: c.mitmcert,
    sni: c.sni,
    timestamp_end: c.timestamp_end,
    timestamp_start: c.timestamp_start,
    timestamp_tls_setup: c.timestamp_tls_setup,
    tls_established: c.timestamp_tls_setup != null,
    tls_extensions: [],
    tls_version: quic(c.tls_version),
    state: connState(c, ended),
    sockname: c.sockname,
    error: c.error,
    tls: c.tls,
    certificate_list: c.certificate_list,
    alpn_offers: c.alpn_offers,
    cipher_list: c.cipher_list,
  };
}

function server17(s: D, ended: boolean): D {
  return {
    address: s.address,
    alpn: s.alpn,
    id: s.id,
    ip_address: s.peername,
    sni: s.sni,
    source_address: s.sockname,
    timestamp_end: s.timestamp_end,
    timestamp_start: s.timestamp_start,
    timestamp_tcp_setup: s.timestamp_tcp_setup,
    timestamp_tls_setup: s.timestamp_tls_setup,
    tls_established: s.timestamp_tls_setup != null,
    tls_version: quic(s.tls_version),
    via: null,
    state: connState(s, ended),
    error: s.error,
    tls: s.tls,
    certificate_list: s.certificate_list,
    alpn_offers: s.alpn_offers,
    cipher_name: s.cipher,
    cipher_list: s.cipher_list,
    via2: s.via,
  };
}

/**
 * A format 21 state as mitmproxy 8 would have saved it (format 17), or null for flow types
 * format 17 cannot hold (UDP, DNS). The input is not modified.
 */
export function downgradeTo17(state: FlowState): D | null {
  const s = state as unknown as D;
  if (s.type !== 'http' && s.type !== 'tcp') return null;
  const ended = s.type === 'tcp' || s.websocket != null;
  const out: D = {
    id: s.id,
    error: s.error,
    client_conn: client17(s.client_conn, ended),
    server_conn: server17(s.server_conn, ended),
    intercepted: s.intercepted,
    is_replay: s.is_replay,
    marked: s.marked,
    metadata: s.metadata,
    comment: s.comment,
    timestamp_created: s.timestamp_created,
  };
  if (s.type === 'http') {
    out.request = s.request;
    out.response = s.response;
    out.websocket = s.websocket;
  } else out.messages = s.messages;
  out.version = FLOW_FORMAT_17;
  out.type = s.type;
  if (s.backup != null) {
    const backup = downgradeTo17(s.backup as FlowState);
    if (backup !== null) out.backup = backup;
  }
  return out;
}

const CONN_FLOATS = { timestamp_start: FLOAT, timestamp_end: FLOAT, timestamp_tls_setup: FLOAT };
/** Requests, responses, WebSocket data and errors did not change from 17 to 21. */
const FLOW_17: TnetDictSchema = {
  fields: {
    error: ERROR_SCHEMA,
    client_conn: { fields: CONN_FLOATS },
    server_conn: { fields: { ...CONN_FLOATS, timestamp_tcp_setup: FLOAT } },
    timestamp_created: FLOAT,
    request: REQUEST_SCHEMA,
    response: RESPONSE_SCHEMA,
    websocket: WEBSOCKET_SCHEMA,
    messages: TCP_MESSAGES_SCHEMA,
  },
};
FLOW_17.fields.backup = FLOW_17;

/**
 * The tnetstring record of a format 17 state, in mitmproxy 8's key order (the flow and
 * connection dicts {@link downgradeTo17} builds are in that order; the others use format 21's
 * schemas, which did not change).
 */
export function encodeFlowState17(state17: D): Buffer {
  return encode(state17, FLOW_17);
}
