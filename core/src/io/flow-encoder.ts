/**
 * The record of a flow written straight from the flow: byte for byte what
 * `encodeFlowState(flow.getState())` produces (format 21, mitmproxy's layout), without building
 * the state first. `getState()` copies every header pair, converts strings to Buffers and
 * deep-copies metadata, all to be thrown away once encoded; here the HTTP messages are written
 * and connections from the live objects into one reused buffer, with the keys pre-encoded.
 * Errors and WebSocket data (small, or rare) go through their `getState()`; flows of other
 * types, and flows holding a backup (whose state decides whether the backup is written), take
 * the `getState()` path whole.
 */
import { deepCopyState } from '../flow/bytes.js';
import type { Cert } from '../certs/cert.js';
import type { Client, Connection, Server } from '../flow/connection.js';
import type { Flow } from '../flow/flow.js';
import type { HTTPFlow } from '../flow/http-flow.js';
import type { Headers } from '../flow/headers.js';
import type { Message } from '../flow/message.js';
import { FLOW_FORMAT_VERSION, type FlowState, type MessageState } from '../flow/state.js';
import { ERROR_SCHEMA, FLOW_ORDER, schemaForFlowType, WEBSOCKET_SCHEMA } from './state-schema.js';
import { put, putFloat, ReverseWriter } from './tnet-encode.js';

/** `<len>:<key>;`: a dict key as tnetstring text. */
const key = (k: string): Buffer => Buffer.from(`${k.length}:${k};`, 'latin1');
const K = Object.fromEntries(
  [
    ...FLOW_ORDER,
    'request',
    'response',
    'websocket',
    'http_version',
    'headers',
    'content',
    'trailers',
    'timestamp_start',
    'timestamp_end',
    'host',
    'port',
    'method',
    'scheme',
    'authority',
    'path',
    'status_code',
    'reason',
    'peername',
    'sockname',
    'transport_protocol',
    'tls',
    'certificate_list',
    'alpn',
    'alpn_offers',
    'cipher',
    'cipher_list',
    'tls_version',
    'sni',
    'timestamp_tls_setup',
    'mitmcert',
    'proxy_mode',
    'address',
    'timestamp_tcp_setup',
    'via',
  ].map((k) => [k, key(k)]),
) as Record<string, Buffer>;
const TYPE_HTTP = Buffer.from('4:http;', 'latin1');
const VERSION = Buffer.from(`${String(FLOW_FORMAT_VERSION).length}:${FLOW_FORMAT_VERSION}#`, 'latin1');
const NULL = Buffer.from('0:~', 'latin1');
const EMPTY_BYTES = Buffer.from('0:,', 'latin1');
const EMPTY_DICT = Buffer.from('0:}', 'latin1');
/** Above this, the encoder's buffer is dropped after use instead of kept for the next flow. */
const KEEP_BUFFER = 1 << 20;

/** Bodies the encoder left out of the record (`cutOver`): the record holds empty content there. */
export interface CutBodies {
  request: Buffer | null;
  response: Buffer | null;
}

/**
 * Encodes flows to their records, reusing one buffer. Each {@link encode} result is a view into
 * that buffer, valid until the next call: copy it (or write it out) before encoding the next flow.
 *
 * ```ts
 * const enc = new FlowRecordEncoder();
 * out.write(Buffer.from(enc.encode(flow)));
 * ```
 */
export class FlowRecordEncoder {
  private w = new ReverseWriter(16 * 1024);
  /**
   * Each connection's last encoding and the field values it was made from. Flows on a
   * keep-alive connection share its client and server connection objects, which rarely change
   * between flows: the bytes are copied instead of encoding ~20 fields (floats among them) again.
   * Entries go with their connections.
   */
  private readonly conns = new WeakMap<Connection, EncodedConnection>();
  /** Scratch for the current field values of a connection (compared with the cached ones). */
  private readonly values: unknown[] = [];
  /** Bodies left out of the last record by `cutOver`. */
  readonly cut: CutBodies = { request: null, response: null };

  /**
   * The flow's record, as `encodeFlowState(flow.getState())` writes it. With `cutOver`, HTTP
   * bodies longer than that many bytes are written as empty content and put in {@link cut}
   * instead (for storage beside the record).
   */
  encode(flow: Flow, cutOver = Infinity): Buffer {
    if (this.w.buf.length > KEEP_BUFFER) this.w = new ReverseWriter(16 * 1024);
    const w = this.w;
    w.reset();
    this.cut.request = this.cut.response = null;
    if (flow.type === 'http' && !hasBackup(flow) && !((flow as HTTPFlow).websocket?.omittedMessages ?? 0))
      this.http(flow as HTTPFlow, cutOver);
    else put(w, this.stateOf(flow, cutOver), schemaForFlowType(flow.type));
    return w.result();
  }

  /** The getState() path, with bodies over `cutOver` replaced as in the direct path. */
  private stateOf(flow: Flow, cutOver: number): FlowState {
    const state = flow.getState();
    if (state.type !== 'http') return state;
    for (const side of ['request', 'response'] as const) {
      const m = state[side] as MessageState | null;
      if (!m?.content || m.content.length <= cutOver) continue;
      this.cut[side] = m.content;
      state[side] = { ...m, content: Buffer.alloc(0) } as never;
    }
    return state;
  }

  /** mitmproxy's key order (state-schema.ts), written back to front: each value, then its key. */
  private http(flow: HTTPFlow, cutOver: number): void {
    const w = this.w;
    w.byte(125 /* '}' */);
    const mark = w.size;
    entry(w, VERSION, K.version!);
    entry(w, TYPE_HTTP, K.type!);
    field(w, flow.id, K.id!);
    if (flow.error) put(w, flow.error.getState(), ERROR_SCHEMA);
    else w.bytes(NULL);
    w.bytes(K.error!);
    this.connection(flow.clientConn, null);
    w.bytes(K.client_conn!);
    this.connection(flow.serverConn, flow.serverConn);
    w.bytes(K.server_conn!);
    field(w, flow.intercepted, K.intercepted!);
    field(w, flow.isReplay, K.is_replay!);
    field(w, flow.marked, K.marked!);
    const metadata = flow.metadata;
    let empty = true;
    for (const _ in metadata) {
      empty = false;
      break;
    }
    // deepCopyState drops undefined and function values, as getState() does.
    if (empty) entry(w, EMPTY_DICT, K.metadata!);
    else field(w, deepCopyState(metadata), K.metadata!);
    field(w, flow.comment, K.comment!);
    floatField(w, flow.timestampCreated, K.timestamp_created!);
    entry(w, NULL, K.backup!);
    this.message(flow, 'request', cutOver);
    w.bytes(K.request!);
    if (flow.response) this.message(flow, 'response', cutOver);
    else w.bytes(NULL);
    w.bytes(K.response!);
    if (flow.websocket) put(w, flow.websocket.getState(), WEBSOCKET_SCHEMA);
    else w.bytes(NULL);
    w.bytes(K.websocket!);
    w.prefix(mark);
  }

  private message(flow: HTTPFlow, side: 'request' | 'response', cutOver: number): void {
    const w = this.w;
    const m: Message = side === 'request' ? flow.request : flow.response!;
    w.byte(125 /* '}' */);
    const mark = w.size;
    latin1Bytes(w, m.httpVersion);
    w.bytes(K.http_version!);
    headers(w, m.headers);
    w.bytes(K.headers!);
    const content = m.rawContent;
    if (content === null) w.bytes(NULL);
    else if (content.length > cutOver) {
      this.cut[side] = content;
      w.bytes(EMPTY_BYTES);
    } else bytes(w, content);
    w.bytes(K.content!);
    if (m.trailers) headers(w, m.trailers);
    else w.bytes(NULL);
    w.bytes(K.trailers!);
    floatField(w, m.timestampStart, K.timestamp_start!);
    floatField(w, m.timestampEnd, K.timestamp_end!);
    if (side === 'request') {
      const r = flow.request;
      field(w, r.host, K.host!);
      field(w, r.port, K.port!);
      latin1Bytes(w, r.rawMethod);
      w.bytes(K.method!);
      latin1Bytes(w, r.scheme);
      w.bytes(K.scheme!);
      bytes(w, r.rawAuthority);
      w.bytes(K.authority!);
      bytes(w, r.rawPath);
      w.bytes(K.path!);
    } else {
      const r = flow.response!;
      field(w, r.statusCode, K.status_code!);
      latin1Bytes(w, r.reason);
      w.bytes(K.reason!);
    }
    w.prefix(mark);
  }

  /** A connection, from the cache when none of its fields changed since it was last encoded. */
  private connection(c: Connection, server: Server | null): void {
    const w = this.w;
    const cached = this.conns.get(c);
    if (cached !== undefined && unchanged(cached.values, c, server)) {
      w.bytes(cached.bytes);
      return;
    }
    const values = this.values;
    connectionValues(c, server, values);
    const end = w.size;
    connection(w, c, server);
    const bytes = Buffer.from(w.buf.subarray(w.pos, w.pos + (w.size - end)));
    this.conns.set(c, { values: values.map(copyValue), bytes });
  }
}

interface EncodedConnection {
  readonly values: unknown[];
  readonly bytes: Buffer;
}

/** Every value {@link connection} writes for `c`, into `out` (its previous contents replaced). */
function connectionValues(c: Connection, server: Server | null, out: unknown[]): void {
  const certs = c as unknown as ConnectionCerts;
  out.length = 0;
  out.push(
    c.peername,
    c.sockname,
    c.id,
    c.transportProtocol,
    c.error,
    c.tls,
    certs._certificateList,
    certs._certificatePems,
    c.alpn,
    c.alpnOffers,
    c.cipher,
    c.cipherList,
    c.tlsVersion,
    c.sni,
    c.timestampStart,
    c.timestampEnd,
    c.timestampTlsSetup,
  );
  if (server === null) out.push(certs._mitmcert, certs._mitmcertPem, (c as Client).proxyMode);
  else out.push(server.address, server.timestampTcpSetup, server.via);
}

/** Arrays (addresses, lists) by their elements, at any depth; everything else by identity. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
  return true;
}

/**
 * True if every value {@link connectionValues} lists for `c` is the same as in `v` (made by it
 * earlier): compared field by field, without listing the current values first.
 */
function unchanged(v: unknown[], c: Connection, server: Server | null): boolean {
  const certs = c as unknown as ConnectionCerts;
  if (
    !sameValue(v[0], c.peername) ||
    !sameValue(v[1], c.sockname) ||
    v[2] !== c.id ||
    v[3] !== c.transportProtocol ||
    v[4] !== c.error ||
    v[5] !== c.tls ||
    !sameValue(v[6], certs._certificateList) ||
    !sameValue(v[7], certs._certificatePems) ||
    v[8] !== c.alpn ||
    !sameValue(v[9], c.alpnOffers) ||
    v[10] !== c.cipher ||
    !sameValue(v[11], c.cipherList) ||
    v[12] !== c.tlsVersion ||
    v[13] !== c.sni ||
    v[14] !== c.timestampStart ||
    v[15] !== c.timestampEnd ||
    v[16] !== c.timestampTlsSetup
  )
    return false;
  if (server === null)
    return v[17] === certs._mitmcert && v[18] === certs._mitmcertPem && sameValue(v[19], (c as Client).proxyMode);
  return sameValue(v[17], server.address) && v[18] === server.timestampTcpSetup && sameValue(v[19], server.via);
}

/** Arrays copied (so that a later change in place is seen), other values as they are. */
function copyValue(v: unknown): unknown {
  return Array.isArray(v) ? v.map(copyValue) : v;
}

/** True if the flow holds a backup: getState() then compares states to decide whether to write it. */
function hasBackup(flow: Flow): boolean {
  // `_backup` is private to Flow; reading it here keeps the check free (modified() builds a state).
  return (flow as unknown as { _backup: FlowState | null })._backup !== null;
}

/** The private certificate fields of connections (getState() reads them the same way). */
interface ConnectionCerts {
  _certificateList: Cert[] | null;
  _certificatePems: Buffer[] | null;
  _mitmcert: Cert | null | undefined;
  _mitmcertPem: Buffer | null;
}

/** A client (`server` null) or server connection, keys as in CLIENT_SCHEMA / SERVER_SCHEMA. */
function connection(w: ReverseWriter, c: Connection, server: Server | null): void {
  const certs = c as unknown as ConnectionCerts;
  w.byte(125 /* '}' */);
  const mark = w.size;
  field(w, c.peername, K.peername!);
  field(w, c.sockname, K.sockname!);
  field(w, c.id, K.id!);
  field(w, c.transportProtocol, K.transport_protocol!);
  field(w, c.error, K.error!);
  field(w, c.tls, K.tls!);
  w.byte(93 /* ']' */);
  const list = w.size;
  const parsed = certs._certificateList;
  if (parsed === null) {
    const pems = certs._certificatePems!;
    for (let i = pems.length - 1; i >= 0; i--) bytes(w, pems[i]!);
  } else for (let i = parsed.length - 1; i >= 0; i--) bytes(w, parsed[i]!.toPem());
  w.prefix(list);
  w.bytes(K.certificate_list!);
  field(w, c.alpn, K.alpn!);
  field(w, c.alpnOffers, K.alpn_offers!);
  field(w, c.cipher, K.cipher!);
  field(w, c.cipherList, K.cipher_list!);
  field(w, c.tlsVersion, K.tls_version!);
  field(w, c.sni, K.sni!);
  floatField(w, c.timestampStart, K.timestamp_start!);
  floatField(w, c.timestampEnd, K.timestamp_end!);
  floatField(w, c.timestampTlsSetup, K.timestamp_tls_setup!);
  if (server === null) {
    const cert = certs._mitmcert;
    field(w, cert === undefined ? certs._mitmcertPem : cert ? cert.toPem() : null, K.mitmcert!);
    field(w, (c as Client).proxyMode, K.proxy_mode!);
  } else {
    field(w, server.address, K.address!);
    floatField(w, server.timestampTcpSetup, K.timestamp_tcp_setup!);
    field(w, server.via, K.via!);
  }
  w.prefix(mark);
}

/** A value (written by its type, as getState()'s would be) and its key. */
function field(w: ReverseWriter, value: unknown, k: Buffer): void {
  put(w, value, undefined);
  w.bytes(k);
}

/** A float (or null) and its key. */
function floatField(w: ReverseWriter, value: number | null, k: Buffer): void {
  float(w, value);
  w.bytes(k);
}

function entry(w: ReverseWriter, value: Buffer, k: Buffer): void {
  w.bytes(value);
  w.bytes(k);
}

function float(w: ReverseWriter, v: number | null): void {
  if (v === null) {
    w.bytes(NULL);
    return;
  }
  putFloat(w, v);
}

function bytes(w: ReverseWriter, b: Uint8Array): void {
  w.byte(44 /* ',' */);
  w.bytes(b);
  w.byte(58 /* ':' */);
  w.uint(b.length);
}

/** A string as bytes, one byte per character (as `Buffer.from(s, 'latin1')`). */
function latin1Bytes(w: ReverseWriter, s: string): void {
  w.byte(44 /* ',' */);
  const n = w.latin1(s);
  w.byte(58 /* ':' */);
  w.uint(n);
}

/** Header fields as a list of `[name, value]` lists. */
function headers(w: ReverseWriter, h: Headers): void {
  const fields = h.fields;
  w.byte(93 /* ']' */);
  const mark = w.size;
  for (let i = fields.length - 1; i >= 0; i--) {
    const f = fields[i]!;
    w.byte(93);
    const m = w.size;
    bytes(w, f[1]);
    bytes(w, f[0]);
    w.prefix(m);
  }
  w.prefix(mark);
}
