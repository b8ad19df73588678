/**
 * Flow format migrations: every format mitmproxy still reads, brought to version 21 one step at
 * a time (shared/reference/flow-format.md §3). Converters work in place on decoded states
 * (plain objects; bytes are Buffers, text is strings; dict keys are always strings here because
 * the tnetstring decoder already turns Python 2 bytes keys into strings).
 */
import { randomUUID } from 'node:crypto';
import { FLOW_FORMAT_VERSION, type FlowState } from '../flow/state.js';

// Old states are untyped by nature; converters read and write them freely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type D = Record<string, any>;

/**
 * Per-load state that some converters need across records: connection ids shared by identical
 * connections (4 -> 5) and WebSocket handshake flows waiting for their messages (11 -> 12).
 * Use one context per file (or stream) read.
 */
export class MigrationContext {
  readonly clientConnIds = new Map<string, string>();
  readonly serverConnIds = new Map<string, string>();
  readonly websocketHandshakes = new Map<string, D>();
}

/** Text from a bytes-or-text value (Python's `always_str`, UTF-8). */
function str(v: unknown): unknown {
  return Buffer.isBuffer(v) ? v.toString('utf8') : v;
}

/** Python's `bytes.decode(errors="backslashreplace")` for ASCII/UTF-8 input. */
function backslashReplace(b: Buffer, ascii: boolean): string {
  if (!ascii && Buffer.from(b.toString('utf8'), 'utf8').equals(b)) return b.toString('utf8');
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c < 0x80) out += String.fromCharCode(c);
    else if (ascii) out += '\\x' + c.toString(16).padStart(2, '0');
    else {
      // Decode the longest valid UTF-8 sequence starting here, else escape one byte.
      const len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
      const seq = b.subarray(i, i + len);
      const s = len > 1 && seq.length === len ? seq.toString('utf8') : '';
      if (s.length > 0 && !s.includes('\ufffd') && Buffer.from(s, 'utf8').equals(seq)) {
        out += s;
        i += len - 1;
      } else out += '\\x' + c.toString(16).padStart(2, '0');
    }
  }
  return out;
}

/** Python 2 era files: keys are already strings; a few values must become text. */
function convertUnicode(data: D): D {
  if ('type' in data) data.type = str(data.type);
  if ('id' in data) data.id = str(data.id);
  if (data.request && 'first_line_format' in data.request)
    data.request.first_line_format = str(data.request.first_line_format);
  if (data.error && 'msg' in data.error) data.error.msg = str(data.error.msg);
  return data;
}

function httpVersionFromTuple(v: unknown): Buffer {
  return Buffer.from('HTTP/' + (Array.isArray(v) ? v.join('.') : String(v)));
}

function forConns(data: D, fn: (conn: D) => void, withVia = false): void {
  fn(data.client_conn);
  fn(data.server_conn);
  if (withVia && data.server_conn?.via) fn(data.server_conn.via);
}

type Converter = (data: D, ctx: MigrationContext) => D;

/** Converters by the version they read (`"0.11"` for old tuple versions, `"4"` for ints). */
const CONVERTERS: ReadonlyMap<string, Converter> = new Map<string, Converter>([
  ['0.11', (d) => ((d.version = [0, 12]), d)],
  ['0.12', (d) => ((d.version = [0, 13]), d)],
  [
    '0.13',
    (d) => {
      const req = d.request;
      const resp = d.response;
      req.first_line_format = req.form_in;
      delete req.form_in;
      req.http_version = httpVersionFromTuple(req.httpversion);
      delete req.httpversion;
      resp.http_version = httpVersionFromTuple(resp.httpversion);
      delete resp.httpversion;
      resp.status_code = resp.code;
      delete resp.code;
      resp.body = resp.content;
      delete resp.content;
      delete d.server_conn.state;
      d.server_conn.via = null;
      d.version = [0, 14];
      return d;
    },
  ],
  ['0.14', (d) => ((d.version = [0, 15]), d)],
  [
    '0.15',
    (d) => {
      for (const m of ['request', 'response']) {
        if (d[m] && 'body' in d[m]) {
          d[m].content = d[m].body;
          delete d[m].body;
        }
      }
      if (d.response && 'msg' in d.response) {
        d.response.reason = d.response.msg;
        delete d.response.msg;
      }
      delete d.request.form_out;
      d.version = [0, 16];
      return d;
    },
  ],
  [
    '0.16',
    (d) => {
      d.server_conn.peer_address = null;
      d.version = [0, 17];
      return d;
    },
  ],
  [
    '0.17',
    (d) => {
      convertUnicode(d);
      d.server_conn.ip_address = d.server_conn.peer_address ?? null;
      delete d.server_conn.peer_address;
      d.marked = false;
      d.version = [0, 18];
      return d;
    },
  ],
  [
    '0.18',
    (d) => {
      convertUnicode(d);
      delete d.request.stickyauth;
      delete d.request.stickycookie;
      Object.assign(d.client_conn, { sni: null, alpn_proto_negotiated: null, cipher_name: null, tls_version: null });
      d.server_conn.alpn_proto_negotiated = null;
      if (d.server_conn.via) d.server_conn.via.alpn_proto_negotiated = null;
      d.mode = 'regular';
      d.metadata = {};
      d.version = [0, 19];
      return d;
    },
  ],
  [
    '0.19',
    (d) => {
      convertUnicode(d);
      d.version = [1, 0, 0];
      return d;
    },
  ],
  [
    '1.0',
    (d) => {
      const flat = (a: D | null | undefined): unknown => (a ? a.address : a);
      d.version = [2, 0, 0];
      d.client_conn.address = flat(d.client_conn.address);
      const s = d.server_conn;
      s.address = flat(s.address);
      s.source_address = flat(s.source_address);
      if (s.ip_address) s.ip_address = flat(s.ip_address);
      if (s.via) {
        s.via.address = flat(s.via.address);
        s.via.source_address = flat(s.via.source_address);
        if (s.via.ip_address) s.via.ip_address = flat(s.via.ip_address);
      }
      return d;
    },
  ],
  [
    '2.0',
    (d) => {
      d.version = [3, 0, 0];
      d.client_conn.mitmcert = null;
      d.server_conn.tls_version = null;
      if (d.server_conn.via) d.server_conn.via.tls_version = null;
      return d;
    },
  ],
  ['3.0', (d) => ((d.version = 4), d)],
  [
    '4',
    (d, ctx) => {
      d.version = 5;
      const key = (c: D, addr: unknown): string =>
        JSON.stringify([
          c.timestamp_start ?? null,
          ...(Array.isArray(addr) ? addr.map((x) => str(x)) : [addr ?? null]),
        ]);
      const idFor = (map: Map<string, string>, k: string): string => {
        let id = map.get(k);
        if (id === undefined) map.set(k, (id = randomUUID()));
        return id;
      };
      d.client_conn.id = idFor(ctx.clientConnIds, key(d.client_conn, d.client_conn.address));
      d.server_conn.id = idFor(ctx.serverConnIds, key(d.server_conn, d.server_conn.source_address));
      if (d.server_conn.via)
        d.server_conn.via.id = idFor(ctx.serverConnIds, key(d.server_conn.via, d.server_conn.via.source_address));
      return d;
    },
  ],
  [
    '5',
    (d) => {
      d.version = 6;
      forConns(
        d,
        (c) => {
          c.tls_established = c.ssl_established;
          delete c.ssl_established;
          c.timestamp_tls_setup = c.timestamp_ssl_setup;
          delete c.timestamp_ssl_setup;
        },
        true,
      );
      return d;
    },
  ],
  [
    '6',
    (d) => {
      d.version = 7;
      d.client_conn.tls_extensions = null;
      return d;
    },
  ],
  [
    '7',
    (d) => {
      d.version = 8;
      if (d.request) d.request.trailers = null;
      if (d.response) d.response.trailers = null;
      return d;
    },
  ],
  [
    '8',
    (d) => {
      d.version = 9;
      let requestReplay = false;
      let responseReplay = false;
      if (d.request) {
        delete d.request.first_line_format;
        d.request.authority = Buffer.alloc(0);
        requestReplay = Boolean(d.request.is_replay);
        delete d.request.is_replay;
      }
      if (d.response) {
        responseReplay = Boolean(d.response.is_replay);
        delete d.response.is_replay;
      }
      d.is_replay = requestReplay ? 'request' : responseReplay ? 'response' : null;
      return d;
    },
  ],
  [
    '9',
    (d) => {
      d.version = 10;
      const conv = (c: D): void => {
        c.state = 0;
        c.error = null;
        c.tls = c.tls_established;
        const alpn = c.alpn_proto_negotiated;
        c.alpn_offers = alpn ? [alpn] : null;
        const cipher = c.cipher_name;
        c.cipher_list = cipher ? [cipher] : null;
      };
      const client = d.client_conn;
      client.sockname = ['', 0];
      const cc = client.clientcert;
      delete client.clientcert;
      client.certificate_list = cc ? [cc] : [];
      conv(client);
      const server = (s: D): void => {
        const crt = s.cert;
        delete s.cert;
        s.certificate_list = crt ? [crt] : [];
        s.cipher_name = null;
        s.via2 = null;
        conv(s);
      };
      server(d.server_conn);
      if (d.server_conn.via) server(d.server_conn.via);
      return d;
    },
  ],
  [
    '10',
    (d) => {
      d.version = 11;
      forConns(
        d,
        (c) => {
          c.sni = Buffer.isBuffer(c.sni) ? backslashReplace(c.sni, true) : c.sni;
          c.alpn = c.alpn_proto_negotiated;
          delete c.alpn_proto_negotiated;
          c.alpn_offers = c.alpn_offers || [];
          c.cipher_list = c.cipher_list || [];
        },
        true,
      );
      return d;
    },
  ],
  [
    '11',
    (d, ctx) => {
      d.version = 12;
      const meta: D = d.metadata ?? {};
      if (!('websocket_handshake' in meta)) {
        d.websocket = null;
        // A handshake flow: remember it (as it is now) for the WebSocket flow that follows.
        if ('websocket' in meta) ctx.websocketHandshakes.set(String(d.id), structuredCloneState(d));
        return d;
      }
      // An old separate WebSocket flow: merge it into its handshake flow, which is then read a
      // second time (mitmproxy notes this in the metadata).
      const ws = d;
      const handshakeId = String(str(meta.websocket_handshake));
      let flow = ctx.websocketHandshakes.get(handshakeId);
      ctx.websocketHandshakes.delete(handshakeId);
      if (flow === undefined) {
        flow = {
          client_conn: ws.client_conn,
          error: ws.error,
          id: ws.id,
          intercepted: ws.intercepted,
          is_replay: ws.is_replay,
          marked: ws.marked,
          metadata: {},
          mode: 'transparent',
          request: {
            authority: Buffer.alloc(0),
            content: null,
            headers: [],
            host: 'unknown',
            http_version: Buffer.from('HTTP/1.1'),
            method: Buffer.from('GET'),
            path: Buffer.from('/'),
            port: 80,
            scheme: Buffer.from('http'),
            timestamp_end: 0,
            timestamp_start: 0,
            trailers: null,
          },
          response: null,
          server_conn: ws.server_conn,
          type: 'http',
          version: 12,
        };
      }
      flow.metadata.duplicated =
        'This WebSocket flow has been migrated from an old file format version and may appear duplicated.';
      flow.websocket = {
        messages: ws.messages,
        closed_by_client: str(ws.close_sender) === 'client',
        close_code: ws.close_code,
        close_reason: ws.close_reason,
        timestamp_end: flow.server_conn?.timestamp_end ?? null,
      };
      flow.version = 12;
      return flow;
    },
  ],
  [
    '12',
    (d) => {
      d.version = 13;
      d.marked = d.marked ? ':default:' : '';
      return d;
    },
  ],
  [
    '13',
    (d) => {
      d.version = 14;
      d.comment = '';
      if (d.response && d.response.timestamp_start == null) {
        d.response.timestamp_start = d.request.timestamp_end;
        d.response.timestamp_end = d.request.timestamp_end + 1;
      }
      return d;
    },
  ],
  [
    '14',
    (d) => {
      d.version = 15;
      if (d.websocket) d.websocket.messages = d.websocket.messages.map((m: unknown[]) => [...m, false]);
      return d;
    },
  ],
  [
    '15',
    (d) => {
      d.version = 16;
      d.timestamp_created = ('request' in d ? d.request : d.client_conn).timestamp_start;
      return d;
    },
  ],
  [
    '16',
    (d) => {
      d.version = 17;
      delete d.mode;
      return d;
    },
  ],
  [
    '17',
    (d) => {
      d.version = 18;
      d.client_conn.proxy_mode = 'regular';
      return d;
    },
  ],
  [
    '18',
    (d) => {
      d.version = 19;
      const client = d.client_conn;
      const server = d.server_conn;
      client.peername = client.address ?? null;
      delete client.address;
      if (client.timestamp_start == null) client.timestamp_start = 0.0;
      delete client.tls_extensions;
      server.peername = server.ip_address ?? null;
      delete server.ip_address;
      server.sockname = server.source_address ?? null;
      delete server.source_address;
      server.via = server.via2 ?? null;
      delete server.via2;
      for (const c of [client, server]) {
        delete c.tls_established;
        c.cipher = c.cipher_name ?? null;
        delete c.cipher_name;
        if (!('transport_protocol' in c)) c.transport_protocol = 'tcp';
        for (const name of ['peername', 'sockname', 'address']) {
          const a = c[name];
          if (Array.isArray(a) && Buffer.isBuffer(a[0])) a[0] = backslashReplace(a[0], false);
        }
      }
      if (server.sni === true) server.sni = server.address[0];
      return d;
    },
  ],
  [
    '19',
    (d) => {
      d.version = 20;
      delete d.client_conn.state;
      delete d.server_conn.state;
      return d;
    },
  ],
  [
    '20',
    (d) => {
      d.version = 21;
      for (const c of [d.client_conn, d.server_conn]) if (c.tls_version === 'QUIC') c.tls_version = 'QUICv1';
      return d;
    },
  ],
]);

/** Connection keys exactly as mitmproxy 7 and 8 write them at format 17. */
const CLIENT_17 = new Set([
  'address',
  'alpn',
  'cipher_name',
  'id',
  'mitmcert',
  'sni',
  'timestamp_end',
  'timestamp_start',
  'timestamp_tls_setup',
  'tls_established',
  'tls_extensions',
  'tls_version',
  'state',
  'sockname',
  'error',
  'tls',
  'certificate_list',
  'alpn_offers',
  'cipher_list',
]);
const SERVER_17 = new Set([
  'address',
  'alpn',
  'id',
  'ip_address',
  'sni',
  'source_address',
  'timestamp_end',
  'timestamp_start',
  'timestamp_tcp_setup',
  'timestamp_tls_setup',
  'tls_established',
  'tls_version',
  'via',
  'state',
  'error',
  'tls',
  'certificate_list',
  'alpn_offers',
  'cipher_name',
  'cipher_list',
  'via2',
]);

/**
 * Key orders that passed {@link hasExactly} last, per key set: files list each dict in one
 * order (mitmproxy's writer prepends, so the reverse of get_state()), so after the first
 * record the check is a pointer compare per key.
 */
const lastOrder = new Map<ReadonlySet<string>, readonly string[]>([
  [CLIENT_17, [...CLIENT_17].reverse()],
  [SERVER_17, [...SERVER_17].reverse()],
]);

/** True if `o` has exactly `keys`; checks the order seen last first (no allocation). */
function hasExactly(o: D, keys: ReadonlySet<string>): boolean {
  const order = lastOrder.get(keys)!;
  let i = 0;
  for (const k in o) {
    if (k !== order[i]) return hasExactlySlow(o, keys);
    i++;
  }
  return i === order.length;
}

function hasExactlySlow(o: D, keys: ReadonlySet<string>): boolean {
  const ks = Object.keys(o);
  if (ks.length !== keys.size) return false;
  for (const k of ks) if (!keys.has(k)) return false;
  lastOrder.set(keys, ks);
  return true;
}

const quic = (x: unknown): unknown => (x === 'QUIC' ? 'QUICv1' : x);
const textHost = (a: unknown): unknown => {
  if (Array.isArray(a) && Buffer.isBuffer(a[0])) a[0] = backslashReplace(a[0], false);
  return a;
};

/**
 * Converters 17, 18, 19 and 20 in one pass, for files exactly as mitmproxy 7 and 8 write them
 * (the common old input). Builds the format 21 connection objects in one go instead of renaming
 * and deleting keys, which keeps them fast for V8. Any other shape takes the step by step path.
 * Same result as the four converters (tested).
 */
function fastForward17(d: D): D | undefined {
  const c = d.client_conn;
  const v = d.server_conn;
  if (c == null || v == null || !hasExactly(c, CLIENT_17) || !hasExactly(v, SERVER_17)) return undefined;
  d.client_conn = {
    peername: textHost(c.address ?? null),
    sockname: textHost(c.sockname),
    id: c.id,
    transport_protocol: 'tcp',
    error: c.error,
    tls: c.tls,
    certificate_list: c.certificate_list,
    alpn: c.alpn,
    alpn_offers: c.alpn_offers,
    cipher: c.cipher_name ?? null,
    cipher_list: c.cipher_list,
    tls_version: quic(c.tls_version),
    sni: c.sni,
    timestamp_start: c.timestamp_start ?? 0.0,
    timestamp_end: c.timestamp_end,
    timestamp_tls_setup: c.timestamp_tls_setup,
    mitmcert: c.mitmcert,
    proxy_mode: 'regular',
  };
  const server: D = {
    peername: textHost(v.ip_address ?? null),
    sockname: textHost(v.source_address ?? null),
    id: v.id,
    transport_protocol: 'tcp',
    error: v.error,
    tls: v.tls,
    certificate_list: v.certificate_list,
    alpn: v.alpn,
    alpn_offers: v.alpn_offers,
    cipher: v.cipher_name ?? null,
    cipher_list: v.cipher_list,
    tls_version: quic(v.tls_version),
    sni: v.sni,
    timestamp_start: v.timestamp_start,
    timestamp_end: v.timestamp_end,
    timestamp_tls_setup: v.timestamp_tls_setup,
    address: textHost(v.address),
    timestamp_tcp_setup: v.timestamp_tcp_setup,
    via: v.via2 ?? null,
  };
  if (server.sni === true) server.sni = server.address[0];
  d.server_conn = server;
  d.version = 21;
  return d;
}

/** A deep copy of a decoded state (Buffers are shared: nothing mutates them). */
function structuredCloneState(v: D): D {
  const clone = (x: unknown): unknown => {
    if (x === null || typeof x !== 'object' || Buffer.isBuffer(x)) return x;
    if (Array.isArray(x)) return x.map(clone);
    const out: D = {};
    for (const k of Object.keys(x)) out[k] = clone((x as D)[k]);
    return out;
  };
  return clone(v) as D;
}

/** Normalize a `version` value to the converter key: ints as is, tuples by their first two parts. */
export function versionKey(version: unknown): string | undefined {
  if (typeof version === 'number' && Number.isInteger(version)) return String(version);
  if (Array.isArray(version) && version.length >= 2 && version.every((x) => typeof x === 'number')) {
    return `${version[0]}.${version[1]}`;
  }
  return undefined;
}

let fastPathDisabled = false;
/** Test hook: turn the fused 17 -> 21 conversion off to compare it with the step by step one. */
export function setFastMigration(enabled: boolean): void {
  fastPathDisabled = !enabled;
}

/** Raised by {@link migrateFlowState} for versions it cannot convert. */
export class UnsupportedVersionError extends Error {
  constructor(
    readonly version: string,
    readonly newer: boolean,
  ) {
    super(
      newer
        ? `flow format version ${version} is newer than this mitmts understands (${FLOW_FORMAT_VERSION}); update mitmts to read this file`
        : `flow format version ${version} cannot be read: the oldest format with a migration is 0.11 (mitmproxy 0.11); convert the file with an old mitmproxy first`,
    );
  }
}

/** Versions with a converter, oldest first (for documentation and tests). */
export const MIGRATABLE_VERSIONS: readonly string[] = [...CONVERTERS.keys()];

/**
 * Bring a decoded flow state to format 21, in place where possible. Returns the migrated state
 * (a different object when an old WebSocket flow was merged into its handshake flow).
 * Throws {@link UnsupportedVersionError} for unknown or too new versions; a converter meeting
 * a state without the keys its version requires throws a TypeError.
 */
export function migrateFlowState(
  state: Record<string, unknown>,
  ctx: MigrationContext = new MigrationContext(),
): FlowState {
  let data = state as D;
  for (;;) {
    const v = data.version;
    if (v === FLOW_FORMAT_VERSION) break;
    if (v === 17 && !fastPathDisabled) {
      const done = fastForward17(data);
      if (done !== undefined) {
        data = done;
        continue;
      }
    }
    const key = versionKey(v);
    const convert = key === undefined ? undefined : CONVERTERS.get(key);
    if (convert === undefined) {
      const shown = key ?? JSON.stringify(data.version) ?? 'missing';
      throw new UnsupportedVersionError(shown, typeof data.version === 'number' && data.version > FLOW_FORMAT_VERSION);
    }
    data = convert(data, ctx);
  }
  // A modified flow carries its earlier state, written at the same (old) version: migrate it too.
  const backup = data.backup;
  if (
    backup !== null &&
    typeof backup === 'object' &&
    !Array.isArray(backup) &&
    !Buffer.isBuffer(backup) &&
    'version' in backup
  ) {
    data.backup = migrateFlowState(backup, ctx);
  }
  return data as FlowState;
}

/**
 * Apply exactly one converter (the one for the state's current version). For tests and tools
 * that want to look at intermediate formats.
 */
export function migrateStep(
  state: Record<string, unknown>,
  ctx: MigrationContext = new MigrationContext(),
): Record<string, unknown> {
  const key = versionKey(state.version);
  const convert = key === undefined ? undefined : CONVERTERS.get(key);
  if (convert === undefined) throw new UnsupportedVersionError(key ?? String(state.version), false);
  return convert(state as D, ctx);
}
