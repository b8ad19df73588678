import { describe, expect, it } from 'vitest';
import {
  DNSMessage,
  DNSResourceRecord,
  DNSType,
  TCPMessage,
  UDPMessage,
  WebSocketData,
  WebSocketMessage,
  WebSocketOpcode,
  packDomainName,
  tdnsflow,
  tdnsreq,
  tdnsresp,
  tflow,
  ttcpflow,
  tudpflow,
  twebsocketflow,
  unpackDomainName,
} from '../../src/flow/index.js';

describe('WebSocket data', () => {
  it('messages expose type, text, drop and state', () => {
    const m = new WebSocketMessage(WebSocketOpcode.TEXT, true, Buffer.from('hé'), 5);
    expect([m.isText, m.text, m.fromClient, m.timestamp, m.dropped, m.injected]).toEqual([true, 'hé', true, 5, false, false]);
    m.text = 'new';
    expect(m.content.toString()).toBe('new');
    m.drop();
    expect(m.dropped).toBe(true);
    expect(WebSocketMessage.fromState(m.getState())).toEqual(m);
    const b = new WebSocketMessage(WebSocketOpcode.BINARY, false, Buffer.from([0xff]));
    expect(() => b.text).toThrow("Binary WebSocket frames do not have a 'text' attribute.");
    expect(() => (b.text = 'x')).toThrow(/Binary/);
    expect(b.timestamp).toBeGreaterThan(1e9);
    const bad = new WebSocketMessage(WebSocketOpcode.TEXT, false, Buffer.from([0xff]));
    expect(() => bad.text).toThrow();
  });

  it('WebSocketData records closing', () => {
    const f = twebsocketflow();
    const ws = f.websocket!;
    expect(ws.messages.length).toBe(3);
    expect([ws.closeCode, ws.closeReason, ws.closedByClient]).toEqual([1000, '', false]);
    expect(twebsocketflow({ err: true }).websocket!.closeCode).toBe(1006);
    expect(twebsocketflow({ closeCode: 4000, closeReason: 'bye', messages: false }).websocket!.messages).toEqual([]);
    expect(WebSocketData.fromState(ws.getState()).getState()).toEqual(ws.getState());
    expect(() => WebSocketData.fromState({ ...ws.getState(), x: 1 } as never)).toThrow(/Unexpected fields/);
    expect(f.response!.statusCode).toBe(101);
    expect(f.request.headers.get('upgrade')).toBe('websocket');
  });
});

describe('TCP and UDP', () => {
  it('messages and flows', () => {
    const t = ttcpflow();
    expect(t.messages.map((m) => [m.fromClient, m.content.toString()])).toEqual([
      [true, 'hello'],
      [false, "it's me"],
    ]);
    expect(TCPMessage.fromState(t.messages[0]!.getState())).toEqual(t.messages[0]);
    expect(ttcpflow({ messages: false }).messages).toEqual([]);
    expect(ttcpflow({ err: true }).error!.msg).toBe('error');
    const u = tudpflow();
    expect(u.messages[0]).toBeInstanceOf(UDPMessage);
    expect(u.clientConn.transportProtocol).toBe('udp');
    expect(String(u)).toBe('<UDPFlow (2 messages)>');
  });
});

describe('DNS', () => {
  it('renders messages as text for filters', () => {
    expect(tdnsreq().toText()).toBe('dns.google');
    expect(tdnsresp().toText()).toBe('dns.google\r\n8.8.8.8\r\n8.8.4.4');
    expect(tdnsresp().content.toString()).toBe('dns.google\r\n8.8.8.8\r\n8.8.4.4');
    const rr = (type: number, data: Buffer) => String(new DNSResourceRecord('n', type, 1, 60, data));
    expect(rr(DNSType.AAAA, Buffer.from('20010db8000000000000000000000001', 'hex'))).toBe('2001:db8::1');
    expect(rr(DNSType.CNAME, packDomainName('example.com'))).toBe('example.com');
    expect(rr(DNSType.TXT, Buffer.from('hi'))).toBe('hi');
    expect(rr(DNSType.MX, Buffer.from([1, 2]))).toBe('0x0102');
    expect(rr(DNSType.A, Buffer.from([1]))).toBe('0x01 (invalid A data)');
    expect(rr(DNSType.CNAME, Buffer.from([5, 1]))).toBe('0x0501 (invalid CNAME data)');
    expect(unpackDomainName(packDomainName('a.b.'))).toBe('a.b');
    expect(String(DNSResourceRecord.A('x', '1.2.3.4'))).toBe('1.2.3.4');
    expect(String(DNSResourceRecord.TXT('x', 't'))).toBe('t');
    expect(String(DNSResourceRecord.CNAME('x', 'y.z'))).toBe('y.z');
  });

  it('succeed/fail build responses; state round-trips', () => {
    const q = tdnsreq();
    const ok = q.succeed([DNSResourceRecord.A('dns.google', '8.8.8.8')]);
    expect([ok.query, ok.id, ok.recursionAvailable, ok.answers.length]).toEqual([false, 42, true, 1]);
    const nx = q.fail(3);
    expect([nx.responseCode, nx.answers.length]).toEqual([3, 0]);
    expect(() => q.fail(0)).toThrow();
    expect(DNSMessage.fromState(q.getState()).getState()).toEqual(q.getState());
    expect(q.copy().getState()).toEqual(q.getState());
    expect(tdnsresp().size).toBe(8);
    const f = tdnsflow({ resp: true });
    expect(f.response).not.toBeNull();
    expect(f.clientConn.transportProtocol).toBe('udp');
  });
});

describe('test helpers', () => {
  it('tflow options', () => {
    const f = tflow();
    expect([f.response, f.error, f.websocket, f.live]).toEqual([null, null, null, true]);
    expect(f.request.url).toBe('http://address:22/path');
    const g = tflow({ resp: true, err: true, ws: true, live: false });
    expect([g.response!.statusCode, g.error!.msg, g.websocket!.messages.length, g.live]).toEqual([200, 'error', 3, false]);
    expect(f.clientConn.peername).toEqual(['127.0.0.1', 22]);
    expect(f.serverConn.address).toEqual(['address', 22]);
    expect(f.clientConn.tlsEstablished).toBe(true);
  });
});
