import { describe, expect, it } from 'vitest';
import {
  DNSFlow,
  FLOW_FORMAT_VERSION,
  FlowControlError,
  FlowError,
  HTTPFlow,
  TCPFlow,
  UDPFlow,
  flowFromState,
  tdnsflow,
  tflow,
  tflows,
  ttcpflow,
  tudpflow,
  twebsocketflow,
  type FlowState,
} from '../../src/flow/index.js';

const BASE_KEYS = [
  'version',
  'type',
  'id',
  'error',
  'client_conn',
  'server_conn',
  'intercepted',
  'is_replay',
  'marked',
  'metadata',
  'comment',
  'timestamp_created',
  'backup',
];

describe('Flow control', () => {
  it('intercept/resume and waitForResume', async () => {
    const f = tflow();
    await f.waitForResume(); // not intercepted: resolves at once
    f.intercept();
    f.intercept();
    expect(f.intercepted).toBe(true);
    let resumed = false;
    const p = f.waitForResume().then(() => (resumed = true));
    const p2 = f.waitForResume();
    await Promise.resolve();
    expect(resumed).toBe(false);
    f.resume();
    await p;
    await p2;
    expect(resumed).toBe(true);
    expect(f.intercepted).toBe(false);
    f.resume(); // no-op
  });

  it('kill() sets the killed error, resumes and ends liveness', async () => {
    const f = tflow();
    expect(f.killable).toBe(true);
    f.intercept();
    const waiting = f.waitForResume();
    f.kill();
    await waiting;
    expect(f.error!.msg).toBe(FlowError.KILLED_MESSAGE);
    expect(f.error!.msg).toBe('Connection killed.');
    expect([f.intercepted, f.live, f.killable]).toEqual([false, false, false]);
    expect(() => f.kill()).toThrow(FlowControlError);
    expect(tflow({ live: false }).killable).toBe(false);
  });

  it('backup, modified, revert', () => {
    const f = tflow({ resp: true });
    expect(f.modified()).toBe(false);
    f.backup();
    expect(f.modified()).toBe(false);
    expect(f.getState().backup).toBeNull();
    f.request.headers.set('x', 'y');
    f.response!.statusCode = 500;
    expect(f.modified()).toBe(true);
    const state = f.getState();
    expect(state.backup).not.toBeNull();
    expect((state.backup as FlowState).id).toBe(f.id);
    // A second backup() keeps the first one unless forced.
    f.backup();
    f.revert();
    expect(f.request.headers.has('x')).toBe(false);
    expect(f.response!.statusCode).toBe(200);
    expect(f.modified()).toBe(false);
    f.backup();
    f.comment = 'c';
    f.backup(true);
    expect(f.modified()).toBe(false);
    f.revert();
    expect(f.comment).toBe('c');
  });

  it('copy() has a new id, the same data, and is not live', () => {
    const f = tflow({ resp: true, err: true, ws: true });
    f.metadata = { a: 1, nested: { b: [Buffer.from('x')] } };
    f.marked = ':default:';
    const c = f.copy();
    expect(c).toBeInstanceOf(HTTPFlow);
    expect(c.id).not.toBe(f.id);
    expect(c.live).toBe(false);
    expect({ ...c.getState(), id: f.id }).toEqual(f.getState());
    c.request.headers.set('z', '1');
    (c.metadata['nested'] as { b: Buffer[] }).b.push(Buffer.from('y'));
    expect(f.request.headers.has('z')).toBe(false);
    expect((f.metadata['nested'] as { b: Buffer[] }).b.length).toBe(1);
    expect(c.clientConn.id).toBe(f.clientConn.id);
  });

  it('timestamps', () => {
    const f = tflow();
    expect(f.timestampStart).toBe(946681200);
    expect(f.timestampCreated).toBe(946681200);
    expect(ttcpflow().timestampStart).toBe(946681200);
  });
});

describe('Flow state', () => {
  it('every flow type round-trips through getState/flowFromState', () => {
    for (const f of [...tflows(), twebsocketflow(), tflow({ resp: true, ws: true, err: true })]) {
      f.metadata = { k: 'v', n: 1.5, l: [true, null] };
      f.comment = 'note';
      f.isReplay = 'request';
      const s = f.getState();
      expect(s.version).toBe(FLOW_FORMAT_VERSION);
      const g = flowFromState(s);
      expect(g.constructor).toBe(f.constructor);
      expect(g.getState()).toEqual(s);
      expect(g.live).toBe(false);
    }
  });

  it('produces exactly the schema keys with bytes as Buffers and text as strings', () => {
    const h = tflow({ resp: true, ws: true }).getState();
    expect(Object.keys(h).sort()).toEqual([...BASE_KEYS, 'request', 'response', 'websocket'].sort());
    expect(h.type).toBe('http');
    expect(typeof h.request.host).toBe('string');
    for (const k of ['method', 'scheme', 'authority', 'path', 'http_version'] as const)
      expect(Buffer.isBuffer(h.request[k])).toBe(true);
    expect(Buffer.isBuffer(h.response!.reason)).toBe(true);
    expect(Object.keys(h.websocket!).sort()).toEqual([
      'close_code',
      'close_reason',
      'closed_by_client',
      'messages',
      'timestamp_end',
    ]);
    expect(h.websocket!.messages[0]).toEqual([2, true, Buffer.from('hello binary'), 946681203, false, false]);
    const t = ttcpflow().getState();
    expect(Object.keys(t).sort()).toEqual([...BASE_KEYS, 'messages'].sort());
    expect(t.messages[0]).toEqual([true, Buffer.from('hello'), 946681204.2]);
    expect(tudpflow().getState().type).toBe('udp');
    const d = tdnsflow({ resp: true }).getState();
    expect(Object.keys(d).sort()).toEqual([...BASE_KEYS, 'request', 'response'].sort());
    expect(d.request.questions).toEqual([{ name: 'dns.google', type: 1, class_: 1 }]);
    expect(d.response!.answers[0]!.data).toEqual(Buffer.from([8, 8, 8, 8]));
  });

  it('dispatches on type and validates', () => {
    expect(flowFromState(ttcpflow().getState())).toBeInstanceOf(TCPFlow);
    expect(flowFromState(tudpflow().getState())).toBeInstanceOf(UDPFlow);
    expect(flowFromState(tdnsflow().getState())).toBeInstanceOf(DNSFlow);
    const s = tflow().getState();
    expect(() => flowFromState({ ...s, type: 'sctp' } as never)).toThrow(/Unknown flow type: 'sctp'/);
    expect(() => flowFromState({ ...s, version: 17 })).toThrow(/version 17, expected 21/);
    expect(() => flowFromState({ ...s, surprise: true } as never)).toThrow(
      /Unexpected fields in http flow state: surprise/,
    );
    const f = tflow();
    expect(() => f.setState(ttcpflow().getState() as never)).toThrow(/Unexpected fields in http flow state: messages/);
  });
});
