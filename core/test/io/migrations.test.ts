/**
 * Format migrations. We have real files only for format 17 (mitmdump 8.1.1, see
 * mitmproxy-compat.test.ts); older formats are built here by hand from the converter table
 * (shared/reference/flow-format.md §3), including a Python 2 era file with bytes keys.
 */
import { describe, expect, it } from 'vitest';
import { flowFromState, type HTTPFlow } from '../../src/flow/index.js';
import {
  checkFlowState,
  FlowReadErrorCode,
  FlowReader,
  migrateFlowState,
  migrateStep,
  MigrationContext,
  MIGRATABLE_VERSIONS,
  readStatesSync,
  setFastMigration,
  tnetstring,
  UnsupportedVersionError,
} from '../../src/io/index.js';
import { FLOWS_MITM } from './fixtures.js';
import { readFileSync } from 'node:fs';

type D = Record<string, any>;
const B = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A Python 2 style tnetstring: every str is bytes (`,`), keys included. */
function py2(v: unknown): Buffer {
  const parts: Buffer[] = [];
  const put = (x: unknown): void => {
    if (x === null) parts.push(B('0:~'));
    else if (x === true) parts.push(B('4:true!'));
    else if (x === false) parts.push(B('5:false!'));
    else if (typeof x === 'number') {
      const s = String(x);
      parts.push(B(`${s.length}:${s}${Number.isInteger(x) ? '#' : '^'}`));
    } else if (typeof x === 'string' || Buffer.isBuffer(x)) {
      const b = Buffer.isBuffer(x) ? x : Buffer.from(x, 'utf8');
      parts.push(B(`${b.length}:`), b, B(','));
    } else {
      const inner: Buffer[] = [];
      const saved = parts.splice(0);
      if (Array.isArray(x)) x.forEach(put);
      else
        for (const [k, val] of Object.entries(x as D)) {
          put(k);
          put(val);
        }
      inner.push(...parts.splice(0));
      parts.push(...saved);
      const body = Buffer.concat(inner);
      parts.push(B(`${body.length}:`), body, B(Array.isArray(x) ? ']' : '}'));
    }
  };
  put(v);
  return Buffer.concat(parts);
}

/** An HTTP flow as mitmproxy 0.11 (Python 2) wrote it. */
function flow011(id = 'f-011'): D {
  const address = (host: string, port: number) => ({ address: [host, port], use_ipv6: false });
  return {
    version: [0, 11],
    type: 'http',
    id,
    intercepted: false,
    error: null,
    client_conn: {
      address: address('127.0.0.1', 50001),
      clientcert: null,
      ssl_established: false,
      timestamp_start: 1400000000.5,
      timestamp_end: 1400000001.5,
      timestamp_ssl_setup: null,
    },
    server_conn: {
      address: address('example.com', 443),
      source_address: address('10.0.0.2', 40000),
      state: [],
      cert: null,
      ssl_established: true,
      sni: 'example.com',
      timestamp_start: 1400000000.6,
      timestamp_end: null,
      timestamp_tcp_setup: 1400000000.7,
      timestamp_ssl_setup: 1400000000.8,
    },
    request: {
      form_in: 'absolute',
      form_out: 'relative',
      httpversion: [1, 1],
      method: 'GET',
      scheme: 'https',
      host: 'example.com',
      port: 443,
      path: '/old?x=1',
      headers: [
        ['Host', 'example.com'],
        ['Accept', '*/*'],
      ],
      content: '',
      timestamp_start: 1400000000.9,
      timestamp_end: 1400000001.0,
      stickyauth: false,
      stickycookie: false,
      is_replay: false,
    },
    response: {
      httpversion: [1, 1],
      code: 200,
      msg: 'OK',
      headers: [['Content-Type', 'text/plain']],
      content: 'old body',
      timestamp_start: 1400000001.1,
      timestamp_end: 1400000001.2,
      is_replay: false,
    },
  };
}

describe('migration chain', () => {
  it('has a converter for every version from 0.11 to 20', () => {
    expect(MIGRATABLE_VERSIONS).toEqual([
      '0.11',
      '0.12',
      '0.13',
      '0.14',
      '0.15',
      '0.16',
      '0.17',
      '0.18',
      '0.19',
      '1.0',
      '2.0',
      '3.0',
      ...Array.from({ length: 17 }, (_, i) => String(i + 4)),
    ]);
  });

  it('reads a Python 2 era 0.11 file (bytes keys and values) all the way to a valid format 21 flow', () => {
    const states = [...readStatesSync(py2(flow011()))];
    expect(states).toHaveLength(1);
    const s = states[0]! as D;
    expect(checkFlowState(s)).toEqual([]);
    expect(s.version).toBe(21);
    expect(s.id).toBe('f-011');
    expect(s.request.http_version).toEqual(B('HTTP/1.1'));
    expect(s.request.host).toBe('example.com');
    expect(s.request.authority).toEqual(B(''));
    expect(s.response.status_code).toBe(200);
    expect(s.response.reason).toEqual(B('OK'));
    expect(s.response.content).toEqual(B('old body'));
    expect(s.client_conn.peername).toEqual(['127.0.0.1', 50001]);
    expect(s.client_conn.sockname).toEqual(['', 0]);
    expect(s.client_conn.proxy_mode).toBe('regular');
    expect(s.server_conn.address).toEqual(['example.com', 443]);
    expect(s.server_conn.sockname).toEqual(['10.0.0.2', 40000]);
    expect(s.server_conn.tls).toBe(true);
    expect(s.server_conn.timestamp_tls_setup).toBe(1400000000.8);
    expect(s.server_conn.sni).toBe('example.com');
    expect(s.marked).toBe('');
    expect(s.comment).toBe('');
    expect(s.is_replay).toBeNull();
    expect(s.timestamp_created).toBe(1400000000.9);
    expect(s.websocket).toBeNull();
    expect(s.backup).toBeNull();
    const f = flowFromState(states[0]!) as HTTPFlow;
    expect(f.request.prettyUrl).toBe('https://example.com/old?x=1');
    expect(f.response!.text).toBe('old body');
  });

  it('0.13: form_in, httpversion tuples, code and content renamed; server state dropped, via added', () => {
    const d = migrateStep(migrateStep(migrateStep(flow011()))) as D; // 0.11 -> 0.14
    expect(d.version).toEqual([0, 14]);
    expect(d.request.first_line_format).toBe('absolute');
    expect(d.request.http_version).toEqual(B('HTTP/1.1'));
    expect(d.response.status_code).toBe(200);
    expect(d.response.body).toBe('old body');
    expect('state' in d.server_conn).toBe(false);
    expect(d.server_conn.via).toBeNull();
  });

  it('0.15: body -> content, msg -> reason, form_out dropped', () => {
    const d: D = { version: [0, 15], request: { body: B('q'), form_out: 'x' }, response: { body: B('r'), msg: 'OK' } };
    migrateStep(d);
    expect(d).toEqual({ version: [0, 16], request: { content: B('q') }, response: { content: B('r'), reason: 'OK' } });
  });

  it('0.17 and 0.18: unicode, ip_address, marked, sticky* dropped, TLS fields, mode and metadata', () => {
    const d: D = {
      version: [0, 17],
      type: B('http'),
      id: B('x'),
      error: { msg: B('boom') },
      request: { first_line_format: B('relative'), stickyauth: false, stickycookie: false },
      client_conn: {},
      server_conn: { peer_address: ['1.2.3.4', 80], via: null },
    };
    migrateStep(d);
    expect(d).toMatchObject({ version: [0, 18], type: 'http', id: 'x', error: { msg: 'boom' }, marked: false });
    expect(d.server_conn).toEqual({ ip_address: ['1.2.3.4', 80], via: null });
    migrateStep(d);
    expect(d.request).toEqual({ first_line_format: 'relative' });
    expect(d.client_conn).toEqual({ sni: null, alpn_proto_negotiated: null, cipher_name: null, tls_version: null });
    expect(d.server_conn.alpn_proto_negotiated).toBeNull();
    expect(d.mode).toBe('regular');
    expect(d.metadata).toEqual({});
  });

  it('1.0: address objects are flattened to address tuples (client, server, source, ip, via)', () => {
    const a = (h: string, p: number) => ({ address: [h, p], use_ipv6: false });
    const d: D = {
      version: [1, 0, 0],
      client_conn: { address: a('c', 1) },
      server_conn: {
        address: a('s', 2),
        source_address: a('src', 3),
        ip_address: a('ip', 4),
        via: { address: a('v', 5), source_address: a('vs', 6), ip_address: null },
      },
    };
    migrateStep(d);
    expect(d).toEqual({
      version: [2, 0, 0],
      client_conn: { address: ['c', 1] },
      server_conn: {
        address: ['s', 2],
        source_address: ['src', 3],
        ip_address: ['ip', 4],
        via: { address: ['v', 5], source_address: ['vs', 6], ip_address: null },
      },
    });
  });

  it('2.0 and 3.0: mitmcert and server tls_version added, then integer versions', () => {
    const d: D = { version: [2, 0, 0], client_conn: {}, server_conn: { via: null } };
    migrateStep(d);
    expect(d).toEqual({
      version: [3, 0, 0],
      client_conn: { mitmcert: null },
      server_conn: { via: null, tls_version: null },
    });
    migrateStep(d);
    expect(d.version).toBe(4);
  });

  it('4: connection ids, shared by identical connections within one load', () => {
    const ctx = new MigrationContext();
    const mk = (cport: number): D => ({
      version: 4,
      client_conn: { timestamp_start: 1.5, address: ['127.0.0.1', cport] },
      server_conn: { timestamp_start: 2.5, source_address: ['10.0.0.1', 999], via: null },
    });
    const [a, b, c] = [mk(1), mk(1), mk(2)].map((x) => migrateStep(x, ctx) as D);
    expect(a!.client_conn.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a!.client_conn.id).toBe(b!.client_conn.id);
    expect(a!.client_conn.id).not.toBe(c!.client_conn.id);
    expect(a!.server_conn.id).toBe(c!.server_conn.id);
    expect(migrateStep(mk(1), new MigrationContext()).client_conn).not.toEqual(a!.client_conn);
  });

  it('5, 6, 7: ssl -> tls names, tls_extensions, trailers', () => {
    const d: D = {
      version: 5,
      client_conn: { ssl_established: true, timestamp_ssl_setup: 3.5 },
      server_conn: { ssl_established: false, timestamp_ssl_setup: null, via: null },
      request: {},
      response: null,
    };
    migrateStep(d);
    expect(d.client_conn).toEqual({ tls_established: true, timestamp_tls_setup: 3.5 });
    expect(d.server_conn).toEqual({ tls_established: false, timestamp_tls_setup: null, via: null });
    migrateStep(d);
    expect(d.client_conn.tls_extensions).toBeNull();
    migrateStep(d);
    expect(d.request.trailers).toBeNull();
    expect(d.response).toBeNull();
    expect(d.version).toBe(8);
  });

  it('8: first_line_format dropped, authority added, message is_replay moves to the flow', () => {
    const mk = (req: boolean, resp: boolean): D => ({
      version: 8,
      request: { first_line_format: 'relative', is_replay: req },
      response: { is_replay: resp },
    });
    const a = migrateStep(mk(true, false)) as D;
    expect(a.request).toEqual({ authority: B('') });
    expect(a.is_replay).toBe('request');
    expect((migrateStep(mk(false, true)) as D).is_replay).toBe('response');
    expect((migrateStep(mk(false, false)) as D).is_replay).toBeNull();
    expect((migrateStep({ version: 8, messages: [] }) as D).is_replay).toBeNull(); // TCP flow
  });

  it('9 and 10: connection state, tls, certificate lists, alpn and sni as text', () => {
    const d: D = {
      version: 9,
      client_conn: {
        tls_established: true,
        alpn_proto_negotiated: B('h2'),
        cipher_name: 'AES',
        clientcert: B('PEM'),
        sni: B('caf\xc3\xa9'),
      },
      server_conn: { tls_established: false, alpn_proto_negotiated: null, cert: null, sni: null, via: null },
    };
    migrateStep(d);
    expect(d.client_conn).toMatchObject({
      state: 0,
      error: null,
      tls: true,
      sockname: ['', 0],
      certificate_list: [B('PEM')],
      alpn_offers: [B('h2')],
      cipher_list: ['AES'],
    });
    expect(d.server_conn).toMatchObject({
      certificate_list: [],
      cipher_name: null,
      via2: null,
      alpn_offers: null,
      cipher_list: null,
    });
    migrateStep(d);
    expect(d.client_conn.sni).toBe('caf\\xc3\\xa9'); // ascii + backslashreplace, as mitmproxy
    expect(d.client_conn.alpn).toEqual(B('h2'));
    expect('alpn_proto_negotiated' in d.client_conn).toBe(false);
    expect(d.server_conn.alpn_offers).toEqual([]);
    expect(d.server_conn.cipher_list).toEqual([]);
  });

  describe('11: old WebSocket flows merge into their handshake flow', () => {
    const handshake = (): D => ({
      version: 11,
      id: 'hs',
      metadata: { websocket: true },
      marked: false,
      server_conn: { timestamp_end: 9.5 },
    });
    const wsFlow = (hsId: string): D => ({
      version: 11,
      type: 'websocket',
      id: 'ws',
      metadata: { websocket_handshake: hsId },
      messages: [[1, true, B('hi'), 5.5, false]],
      close_sender: 'client',
      close_code: 1000,
      close_reason: 'bye',
      client_conn: { c: 1 },
      server_conn: { s: 1 },
      error: null,
      intercepted: false,
      is_replay: null,
      marked: false,
    });
    it('attaches messages and close info to a copy of the handshake flow', () => {
      const ctx = new MigrationContext();
      const hs = migrateStep(handshake(), ctx) as D;
      expect(hs.websocket).toBeNull();
      const merged = migrateStep(wsFlow('hs'), ctx) as D;
      expect(merged.id).toBe('hs');
      expect(merged.version).toBe(12);
      expect(merged.websocket).toEqual({
        messages: [[1, true, B('hi'), 5.5, false]],
        closed_by_client: true,
        close_code: 1000,
        close_reason: 'bye',
        timestamp_end: 9.5,
      });
      expect(merged.metadata.duplicated).toMatch(/may appear duplicated/);
      expect(hs.metadata.duplicated).toBeUndefined(); // the handshake read earlier is untouched
    });
    it('makes up a dummy handshake when it is missing', () => {
      const merged = migrateStep(wsFlow('nope'), new MigrationContext()) as D;
      expect(merged).toMatchObject({
        id: 'ws',
        type: 'http',
        mode: 'transparent',
        response: null,
        client_conn: { c: 1 },
      });
      expect(merged.request.host).toBe('unknown');
      expect(merged.websocket.closed_by_client).toBe(true);
    });
    it('yields the handshake twice when reading a file, the second time with its WebSocket data', () => {
      const full = (over: D): D => {
        const f = flow011('hs');
        // Bring the 0.11 flow to format 11 first, then make it a handshake.
        let s: D = f;
        while (s.version !== 11) s = migrateStep(s);
        return { ...s, ...over };
      };
      const hs = full({ metadata: { websocket: true } });
      const ws = { ...wsFlow('hs'), client_conn: hs.client_conn, server_conn: hs.server_conn };
      const states = [...readStatesSync(Buffer.concat([py2(hs), py2(ws)]))].map((x) => x as D);
      expect(states.map((x) => x.id)).toEqual(['hs', 'hs']);
      expect(states[0]!.websocket).toBeNull();
      expect(states[1]!.websocket.messages).toEqual([[1, true, B('hi'), 5.5, false, false]]);
      expect(states[1]!.metadata.duplicated).toMatch(/duplicated/);
      for (const x of states) expect(checkFlowState(x)).toEqual([]);
      const flow = flowFromState(states[1] as any) as HTTPFlow;
      expect(flow.websocket!.messages[0]!.text).toBe('hi');
    });
  });

  it('12, 13, 14: marked bool -> marker, comment and response timestamps, injected messages', () => {
    const d: D = {
      version: 12,
      marked: true,
      request: { timestamp_end: 10 },
      response: { timestamp_start: null, timestamp_end: null },
      websocket: { messages: [[1, true, B('x'), 1.5, false]] },
    };
    migrateStep(d);
    expect(d.marked).toBe(':default:');
    migrateStep(d);
    expect(d.comment).toBe('');
    expect(d.response).toEqual({ timestamp_start: 10, timestamp_end: 11 });
    migrateStep(d);
    expect(d.websocket.messages).toEqual([[1, true, B('x'), 1.5, false, false]]);
    expect((migrateStep({ version: 12, marked: false }) as D).marked).toBe('');
  });

  it('15, 16, 17: timestamp_created (HTTP and TCP), mode dropped, proxy_mode added', () => {
    const http: D = {
      version: 15,
      request: { timestamp_start: 7.5 },
      client_conn: { timestamp_start: 1 },
      mode: 'regular',
    };
    const tcp: D = { version: 15, client_conn: { timestamp_start: 3.5 } };
    migrateStep(http);
    migrateStep(tcp);
    expect(http.timestamp_created).toBe(7.5);
    expect(tcp.timestamp_created).toBe(3.5);
    migrateStep(http);
    expect('mode' in http).toBe(false);
    migrateStep(http);
    expect(http.client_conn.proxy_mode).toBe('regular');
    expect(http.version).toBe(18);
  });

  it('18: connection field renames, bytes hosts to text, sni true to the address host', () => {
    const d: D = {
      version: 18,
      client_conn: {
        address: [B('127.0.0.1'), 1],
        timestamp_start: null,
        tls_extensions: [],
        tls_established: false,
        cipher_name: 'C',
        sockname: ['', 0],
      },
      server_conn: {
        address: ['example.com', 443],
        ip_address: [B('1.2.3.4'), 443],
        source_address: null,
        via: null,
        via2: ['http', ['proxy', 8080]],
        tls_established: true,
        cipher_name: null,
        sni: true,
        transport_protocol: 'udp',
      },
    };
    migrateStep(d);
    expect(d.client_conn).toEqual({
      peername: ['127.0.0.1', 1],
      timestamp_start: 0,
      cipher: 'C',
      transport_protocol: 'tcp',
      sockname: ['', 0],
    });
    expect(d.server_conn).toEqual({
      address: ['example.com', 443],
      peername: ['1.2.3.4', 443],
      sockname: null,
      via: ['http', ['proxy', 8080]],
      cipher: null,
      sni: 'example.com',
      transport_protocol: 'udp',
    });
  });

  it('19 and 20: connection state dropped, QUIC renamed QUICv1', () => {
    const d: D = {
      version: 19,
      client_conn: { state: 3, tls_version: 'QUIC' },
      server_conn: { state: 0, tls_version: 'TLSv1.3' },
    };
    migrateStep(d);
    migrateStep(d);
    expect(d).toEqual({ version: 21, client_conn: { tls_version: 'QUICv1' }, server_conn: { tls_version: 'TLSv1.3' } });
  });

  it('the fused 17 -> 21 fast path gives exactly what the four converters give', () => {
    const raw = readFileSync(FLOWS_MITM);
    // A format 17 state with the unusual cases: bytes hosts, sni true, QUIC, missing timestamp, an extra key.
    // Format 17 states with the unusual cases: bytes hosts, sni true, QUIC, a missing timestamp;
    // `exact` has mitmproxy 8's key sets (fast path), `extra` one more key (step by step path).
    const client = {
      address: [B('caf\xc3\xa9'), 1],
      alpn: null,
      cipher_name: 'C',
      id: 'c',
      mitmcert: null,
      sni: null,
      timestamp_end: null,
      timestamp_start: null,
      timestamp_tls_setup: null,
      tls_established: true,
      tls_extensions: [],
      tls_version: 'QUIC',
      state: 0,
      sockname: ['', 0],
      error: null,
      tls: true,
      certificate_list: [],
      alpn_offers: [],
      cipher_list: [],
    };
    const server = {
      address: ['h', 2],
      alpn: null,
      id: 's',
      ip_address: null,
      sni: true,
      source_address: [B('\xff'), 3],
      timestamp_end: null,
      timestamp_start: null,
      timestamp_tcp_setup: null,
      timestamp_tls_setup: null,
      tls_established: false,
      tls_version: 'QUIC',
      via: null,
      state: 0,
      error: null,
      tls: false,
      certificate_list: [],
      alpn_offers: [],
      cipher_name: null,
      cipher_list: [],
      via2: null,
    };
    const base = {
      version: 17,
      type: 'tcp',
      id: 'x',
      messages: [],
      error: null,
      intercepted: false,
      is_replay: null,
      marked: '',
      metadata: {},
      comment: '',
      timestamp_created: 1.5,
    };
    const exact = tnetstring.encode({ ...base, client_conn: client, server_conn: server });
    const tricky = tnetstring.encode({ ...base, client_conn: { ...client, extra: 1 }, server_conn: server });
    for (const input of [raw, exact, tricky]) {
      setFastMigration(false);
      let slow: D[];
      try {
        slow = [...readStatesSync(input)] as D[];
      } finally {
        setFastMigration(true);
      }
      const fast = [...readStatesSync(input)] as D[];
      expect(fast).toEqual(slow);
    }
    const t = [...readStatesSync(exact)][0] as D;
    expect(checkFlowState(t)).toEqual([]);
    expect(([...readStatesSync(tricky)][0] as D).client_conn.extra).toBe(1);
    expect(t.client_conn.peername).toEqual(['café', 1]);
    expect(t.server_conn.sockname).toEqual(['\\xff', 3]);
    expect(t.server_conn.sni).toBe('h');
    expect(t.client_conn.tls_version).toBe('QUICv1');
    expect(t.client_conn.timestamp_start).toBe(0);
  });

  it('leaves format 21 states alone and rejects unknown and newer versions', () => {
    const s: D = { version: 21, type: 'http' };
    expect(migrateFlowState(s)).toBe(s);
    expect(() => migrateFlowState({ version: [0, 10] })).toThrow(UnsupportedVersionError);
    expect(() => migrateFlowState({ version: [0, 10] })).toThrow(
      /0\.10 cannot be read: the oldest format with a migration is 0\.11/,
    );
    expect(() => migrateFlowState({ version: 22 })).toThrow(
      /version 22 is newer than this mitmts understands \(21\); update mitmts/,
    );
    expect(() => migrateFlowState({})).toThrow(/version missing/);
  });

  it('reports a version error with the record position when reading', () => {
    let err: any;
    try {
      Array.from(new FlowReader(py2({ version: 99, type: 'http' })));
    } catch (e) {
      err = e;
    }
    expect(err.code).toBe(FlowReadErrorCode.VERSION);
    expect(err.offset).toBe(0);
    expect(err.message).toMatch(
      /flow record #1 at byte 0: flow format version 99 is newer than this mitmts understands/,
    );
  });
});
