import { describe, expect, it } from 'vitest';
import {
  DNSMessage,
  HTTPFlow,
  WEBSOCKET_OMITTED,
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
    expect([m.isText, m.text, m.fromClient, m.timestamp, m.dropped, m.injected]).toEqual([
      true,
      'hé',
      true,
      5,
      false,
      false,
    ]);
    m.text = 'new';
    expect(m.content.toString()).toBe('new');
    m.drop();
    expect(m.dropped).toBe(true);
    expect(WebSocketMessage.fromState(m.getState())).toEqual(m);
    expect(WebSocketMessage.fromState([1, true, Buffer.from('x'), 0, false, false]).timestamp).toBe(0);
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

describe('WebSocket retention', () => {
  // timestamps start at 1: the constructor takes 0 for "now"
  const msg = (i: number, size = 1) =>
    new WebSocketMessage(WebSocketOpcode.BINARY, i % 2 === 0, Buffer.alloc(size, i & 0xff), i + 1); // timestamps from 1, easy to tell from indexes

  it('keeps everything without a retention, as mitmproxy', () => {
    const ws = new WebSocketData();
    for (let i = 0; i < 5000; i++) ws.addMessage(msg(i));
    expect(ws.messages).toHaveLength(5000);
    expect([ws.omittedMessages, ws.omittedBytes]).toEqual([0, 0]);
  });

  it('keeps at least the last N messages (trimmed in batches), counting what it left out', () => {
    const ws = new WebSocketData();
    ws.retention = { maxMessages: 1000 };
    for (let i = 0; i < 10_000; i++) {
      ws.addMessage(msg(i, 3));
      expect(ws.messages.at(-1)!.timestamp).toBe(i + 1);
      expect(ws.messages.length).toBeLessThanOrEqual(1000 + 125);
    }
    expect(ws.messages.length).toBeGreaterThanOrEqual(1000);
    expect(ws.omittedMessages + ws.messages.length).toBe(10_000);
    expect(ws.omittedBytes).toBe(3 * ws.omittedMessages);
    expect(ws.messages[0]!.timestamp).toBe(ws.omittedMessages + 1);
    expect(String(ws)).toBe(`<WebSocketData (${ws.messages.length} messages, ${ws.omittedMessages} omitted)>`);
  });

  it('keeps the newest messages within a byte bound, and always the newest one', () => {
    const ws = new WebSocketData();
    ws.retention = { maxBytes: 100_000 };
    for (let i = 0; i < 1000; i++) ws.addMessage(msg(i, 1000));
    const kept = ws.messages.reduce((n, m) => n + m.content.length, 0);
    expect(kept).toBeGreaterThanOrEqual(100_000 - 1000);
    expect(kept).toBeLessThanOrEqual(100_000 + 100_000 / 8);
    expect(ws.omittedBytes + kept).toBe(1000 * 1000);
    ws.addMessage(msg(5000, 10_000_000));
    expect(ws.messages.at(-1)!.timestamp).toBe(5001);
    expect(ws.messages).toHaveLength(1);
  });

  it('saves the omitted counts in the flow metadata and reads them back', () => {
    const f = twebsocketflow();
    const ws = f.websocket!;
    ws.retention = { maxMessages: 1 };
    for (let i = 0; i < 200; i++) ws.addMessage(msg(i));
    const state = f.getState();
    expect(state.metadata[WEBSOCKET_OMITTED]).toEqual({ messages: ws.omittedMessages, bytes: ws.omittedBytes });
    expect(Object.keys(state.websocket!).sort()).toEqual([
      'close_code',
      'close_reason',
      'closed_by_client',
      'messages',
      'timestamp_end',
    ]);
    const back = HTTPFlow.fromState(state);
    expect([back.websocket!.omittedMessages, back.websocket!.omittedBytes]).toEqual([
      ws.omittedMessages,
      ws.omittedBytes,
    ]);
    expect(back.metadata[WEBSOCKET_OMITTED]).toBeUndefined();
    expect(back.getState()).toEqual(state);
    // a flow that left nothing out carries no such key
    expect(twebsocketflow().getState().metadata[WEBSOCKET_OMITTED]).toBeUndefined();
  });
});

describe('WebSocket messages logged by the proxy (compact until read)', () => {
  const TEXT = WebSocketOpcode.TEXT;
  /** `n` bytes of `i`, at offset 3 of a larger buffer. */
  const bytes = (i: number, n: number) => Buffer.alloc(n + 6, i & 0xff);
  const log = (ws: WebSocketData, i: number, n: number, adopt = false) => {
    ws.logMessage(TEXT, i % 2 === 0, bytes(i, n), 3, 3 + n, adopt, 1_000_000 + i);
    ws.logged(i % 2 === 0);
  };
  const sizes = [10, 47, 3000, 100, 70_000, 2048, 2049, 0];

  it('reads back every message in order, small and large, copied or kept, between objects added as such', () => {
    const ws = new WebSocketData();
    const list = ws.messages;
    for (let i = 0; i < 400; i++) {
      if (i % 50 === 7) ws.addMessage(new WebSocketMessage(TEXT, true, Buffer.from(`object ${i}`), 1000 + i / 1000));
      else log(ws, i, sizes[i % sizes.length]!, i % 3 === 0);
      if (i % 97 === 0) expect(ws.messages).toBe(list); // the same array at every read
    }
    expect(ws.messages).toBe(list);
    expect(list).toHaveLength(400);
    list.forEach((m, i) => {
      if (i % 50 === 7) return expect(m.text).toBe(`object ${i}`);
      const n = sizes[i % sizes.length]!;
      expect([m.size, m.fromClient, m.type, m.timestamp]).toEqual([n, i % 2 === 0, TEXT, (1_000_000 + i) / 1000]);
      expect(m.content.equals(Buffer.alloc(n, i & 0xff))).toBe(true);
    });
  });

  it('writes a message into the space it asked for (a masked payload unmasked into place)', () => {
    const ws = new WebSocketData();
    for (const n of [5, 5000]) {
      const l = ws.logSpace(TEXT, true, n, 1);
      l.bytes.fill(0x61, l.offset, l.offset + n);
      ws.logged(true);
    }
    expect(ws.messages.map((m) => m.text)).toEqual(['a'.repeat(5), 'a'.repeat(5000)]);
  });

  it('forgets a message that failed its check (pop)', () => {
    const ws = new WebSocketData();
    log(ws, 0, 10);
    ws.logMessage(TEXT, true, bytes(1, 10), 3, 13, false, 1).pop();
    log(ws, 2, 10);
    expect(ws.messages.map((m) => m.content[0])).toEqual([0, 2]);
  });

  it('made(): null for a message nobody read, else its object, per direction', () => {
    const ws = new WebSocketData();
    log(ws, 0, 10); // from the client
    expect(ws.made(true)).toBeNull();
    log(ws, 2, 10); // from the client
    log(ws, 1, 10); // from the server, while the client's is handled
    const list = ws.messages;
    expect(ws.made(true)).toBe(list[1]);
    expect(ws.made(false)).toBe(list[2]);
    expect(ws.made(false)).toBeNull(); // taken
  });

  it('applies the retention across objects and logged messages, counting what it left out', () => {
    for (const retention of [{ maxMessages: 100 }, { maxBytes: 20_000 }]) {
      const ws = new WebSocketData();
      ws.retention = retention;
      let total = 0;
      for (let i = 0; i < 5000; i++) {
        const n = sizes[i % sizes.length]! % 4000;
        log(ws, i, n, i % 2 === 0);
        total += n;
        if (i % 333 === 0) expect(ws.messages.at(-1)!.timestamp).toBe((1_000_000 + i) / 1000);
      }
      const kept = ws.messages;
      expect(ws.omittedMessages + kept.length).toBe(5000);
      expect(ws.omittedBytes + kept.reduce((a, m) => a + m.size, 0)).toBe(total);
      if (retention.maxMessages) expect(kept.length).toBeLessThanOrEqual(100 + 64);
      else expect(kept.reduce((a, m) => a + m.size, 0)).toBeLessThanOrEqual(20_000 + 4096);
      kept.forEach((m, k) => {
        const i = ws.omittedMessages + k;
        expect(m.content.equals(Buffer.alloc(sizes[i % sizes.length]! % 4000, i & 0xff))).toBe(true);
      });
    }
  });

  it('keeps its records in chunks: 20,000 messages, all kept or the last 5,000, read back right', () => {
    for (const retention of [null, { maxMessages: 5000 }]) {
      const ws = new WebSocketData();
      ws.retention = retention;
      for (let i = 0; i < 20_000; i++) {
        log(ws, i, 1 + (i % 50));
        if (i === 9_999) expect(ws.messages.at(-1)!.timestamp).toBe((1_000_000 + i) / 1000); // a read halfway
      }
      const kept = ws.messages;
      expect(ws.omittedMessages + kept.length).toBe(20_000);
      kept.forEach((m, k) => {
        const i = ws.omittedMessages + k;
        if (m.timestamp !== (1_000_000 + i) / 1000 || !m.content.equals(Buffer.alloc(1 + (i % 50), i & 0xff)))
          throw new Error(`message ${i} read back wrong`);
      });
    }
  });

  it('assigning messages drops what was logged and not read', () => {
    const ws = new WebSocketData();
    log(ws, 0, 10);
    ws.messages = [];
    log(ws, 1, 10);
    expect(ws.messages.map((m) => m.content[0])).toEqual([1]);
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
    expect([g.response!.statusCode, g.error!.msg, g.websocket!.messages.length, g.live]).toEqual([
      200,
      'error',
      3,
      false,
    ]);
    expect(f.clientConn.peername).toEqual(['127.0.0.1', 22]);
    expect(f.serverConn.address).toEqual(['address', 22]);
    expect(f.clientConn.tlsEstablished).toBe(true);
  });
});
