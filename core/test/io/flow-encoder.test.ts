/**
 * The direct flow encoder writes byte for byte what encodeFlowState(flow.getState()) writes, on
 * mitmproxy's own recorded flows (HTTP, HTTPS, HTTP/2, WebSocket, TCP, errors, replays, marks)
 * and on flows changed in every way the state can show.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Headers, tflow, tflows, twebsocketflow, type Flow, type HTTPFlow } from '../../src/flow/index.js';
import {
  encodeFlow,
  encodeFlowState,
  FlowReader,
  FlowRecordEncoder,
  pyFloatRepr,
  tnetstring,
  TnetFloat,
} from '../../src/io/index.js';
import { FIXTURE_DIR, FLOWS_MITM } from './fixtures.js';

const recorded = (file: string): Flow[] => [...new FlowReader(readFileSync(file))];

/** Flows changed in the ways a proxy, an addon or a user changes them. */
function varied(): Flow[] {
  const out: Flow[] = [];
  const add = (f: Flow): void => void out.push(f);
  add(tflow());
  add(tflow({ resp: true }));
  add(tflow({ resp: true, err: true }));
  add(tflow({ err: true }));
  add(twebsocketflow());
  add(twebsocketflow({ err: true, closeReason: 'gone ☃' }));
  const binary = tflow({ resp: true });
  binary.request.rawContent = randomBytes(3000);
  binary.response!.rawContent = Buffer.from([0, 255, 0x80, 10, 13, 0x3a, 0x2c]);
  add(binary);
  const big = tflow({ resp: true });
  big.response!.rawContent = randomBytes(300 * 1024);
  big.request.rawContent = Buffer.alloc(0);
  add(big);
  const noContent = tflow({ resp: true });
  noContent.request.rawContent = null;
  noContent.response!.rawContent = null;
  add(noContent);
  const marked = tflow({ resp: true });
  marked.marked = ':star:';
  marked.comment = 'looked at ✓ twice';
  marked.isReplay = 'request';
  marked.intercepted = true;
  marked.metadata = {
    n: 1,
    f: 1.5,
    s: 'x',
    b: Buffer.from('b'),
    nested: { list: [1, 'two', null, undefined], skip: undefined },
    fn: () => 1,
    big: 2 ** 60,
  };
  add(marked);
  const edited = tflow({ resp: true });
  edited.request.host = 'bücher.example';
  edited.request.method = 'post';
  edited.request.path = '/ä?q=ü';
  edited.request.headers = new Headers([
    ['X-Ä', 'ü'],
    ['host', 'bücher.example'],
    ['x-empty', ''],
  ]);
  edited.request.trailers = new Headers([['grpc-status', '0']]);
  edited.response!.reason = 'Très bien';
  edited.response!.statusCode = 299;
  edited.response!.httpVersion = 'HTTP/2.0';
  edited.response!.timestampEnd = null;
  edited.timestampCreated = 1_700_000_000;
  add(edited);
  const backedUp = tflow({ resp: true });
  backedUp.backup();
  backedUp.request.path = '/changed';
  add(backedUp);
  const unchangedBackup = tflow({ resp: true });
  unchangedBackup.backup();
  add(unchangedBackup);
  const omitted = twebsocketflow();
  omitted.websocket!.omittedMessages = 3;
  omitted.websocket!.omittedBytes = 300;
  add(omitted);
  const h2 = tflow({ resp: true });
  h2.request.httpVersion = 'HTTP/2.0';
  h2.request.authority = 'example.com:8443';
  add(h2);
  for (const f of tflows()) add(f);
  return out;
}

/** Recorded HTTPS flows with their certificates parsed (as live flows hold them), not only as PEM bytes. */
function parsedCerts(): Flow[] {
  const out = recorded(FLOWS_MITM).filter((f) => f.serverConn.certificateList.length > 0);
  for (const f of out) void f.clientConn.mitmcert;
  return out;
}

/** Two flows on one keep-alive connection: they share its connection objects. */
function flowsOnOneConnection(): [HTTPFlow, HTTPFlow] {
  const a = tflow({ resp: true });
  const b = tflow({ resp: true });
  b.clientConn = a.clientConn;
  b.serverConn = a.serverConn;
  return [a, b];
}

describe('FlowRecordEncoder', () => {
  const flows = [...recorded(FLOWS_MITM), ...recorded(FIXTURE_DIR + 'modified.mitm'), ...parsedCerts(), ...varied()];

  it('writes exactly the getState() record, flow after flow through one reused buffer', () => {
    const enc = new FlowRecordEncoder();
    expect(flows.length).toBeGreaterThan(30);
    for (const f of flows) {
      const expected = encodeFlowState(f.getState());
      expect(Buffer.compare(enc.encode(f), expected), `${f.type} flow ${f.id}`).toBe(0);
      expect(Buffer.compare(encodeFlow(f), expected)).toBe(0);
    }
    expect(new Set(flows.map((f) => f.type))).toEqual(new Set(['http', 'tcp', 'udp', 'dns']));
    expect(parsedCerts().length).toBeGreaterThan(0);
  });

  it('re-encodes a connection it encoded before when any of its fields changed, in place too', () => {
    const enc = new FlowRecordEncoder();
    const [a, b] = flowsOnOneConnection();
    const same = (f: HTTPFlow): void => expect(Buffer.compare(enc.encode(f), encodeFlowState(f.getState()))).toBe(0);
    const changes: Array<() => void> = [
      () => (a.clientConn.timestampEnd = 1700000000.25),
      () => (a.serverConn.peername![1] = 4444), // an address changed in place
      () => a.clientConn.alpnOffers.push(Buffer.from('h2')),
      () => (a.clientConn.sni = 'other.example'),
      () => (a.serverConn.tls = !a.serverConn.tls),
      () => (a.serverConn.address = ['example.org', 8443]),
      () => (a.serverConn.timestampTcpSetup = 1700000001.5),
      () => (a.clientConn.proxyMode = 'transparent'),
      () => a.serverConn.cipherList.push('TLS_AES_128_GCM_SHA256'),
      () => (a.clientConn.error = 'connection reset'),
      () => (a.serverConn.via = ['http', ['proxy.example', 3128]]),
      () => (a.serverConn.via![1] as [string, number])[1]++, // a nested list changed in place
      () => (a.serverConn.timestampTlsSetup = 1700000002.75),
    ];
    same(a);
    same(b);
    for (const change of changes) {
      change();
      same(a);
      same(b);
    }
  });

  it('writes whole-millisecond timestamps digit by digit exactly as Python repr does', () => {
    const enc = new FlowRecordEncoder();
    const values = [
      0.001,
      0.1,
      0.5,
      1,
      12.345,
      1765148000,
      1765148000.1,
      1765148000.12,
      1765148000.123,
      1765148000.005,
      1765148000.05,
      8796093022.207,
      8796093022.208,
      1e10 + 0.001,
      0.0005,
      1765148000.1234,
      1e-5,
    ];
    for (let i = 0; i < 2000; i++) values.push(Math.round(Math.random() * 2e12) / 1000, Math.random() * 2e9);
    for (const v of values) {
      const f = tflow({ resp: true });
      f.timestampCreated = v;
      f.request.timestampStart = v;
      expect(enc.encode(f).toString('latin1'), String(v)).toBe(encodeFlowState(f.getState()).toString('latin1'));
      // Both paths write floats with putFloat: the repr itself is checked against pyFloatRepr.
      const repr = pyFloatRepr(v);
      expect(tnetstring.encode(new TnetFloat(v)).toString('latin1'), String(v)).toBe(`${repr.length}:${repr}^`);
    }
  });

  it('copies an unchanged connection from its cache (the entry is kept, not made again)', () => {
    const enc = new FlowRecordEncoder();
    const [a, b] = flowsOnOneConnection();
    const conns = (enc as unknown as { conns: WeakMap<object, unknown> }).conns;
    enc.encode(a);
    const client = conns.get(a.clientConn);
    const server = conns.get(a.serverConn);
    expect(client).toBeDefined();
    expect(Buffer.compare(enc.encode(b), encodeFlowState(b.getState()))).toBe(0);
    expect(conns.get(a.clientConn)).toBe(client);
    expect(conns.get(a.serverConn)).toBe(server);
    a.clientConn.sni = 'changed.example';
    enc.encode(b);
    expect(conns.get(a.clientConn)).not.toBe(client);
    expect(conns.get(a.serverConn)).toBe(server);
  });

  it('cuts bodies over a size out of the record, leaving empty content, as the state path does', () => {
    const enc = new FlowRecordEncoder();
    for (const f of flows) {
      const state = f.getState();
      const cut: Record<string, Buffer> = {};
      if (state.type === 'http') {
        for (const side of ['request', 'response'] as const) {
          const m = state[side];
          if (m?.content && m.content.length > 1000) {
            cut[side] = m.content;
            state[side] = { ...m, content: Buffer.alloc(0) } as never;
          }
        }
      }
      const record = enc.encode(f, 1000);
      expect(Buffer.compare(record, encodeFlowState(state)), `flow ${f.id}`).toBe(0);
      expect(enc.cut.request ?? undefined).toBe(cut.request);
      expect(enc.cut.response ?? undefined).toBe(cut.response);
    }
    const big = flows.find(
      (f) => f.type === 'http' && ((f as HTTPFlow).response?.rawContent?.length ?? 0) > 256 * 1024,
    ) as HTTPFlow;
    enc.encode(big, 256 * 1024);
    expect(enc.cut.response).toBe(big.response!.rawContent);
  });
});
