/** The relay with byte vectors both ways: pass-through, hooks, injection, control frames, close, errors, compression. */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { WebSocketData, WebSocketMessage } from '../../src/flow/index.js';
import {
  CloseCode,
  type DeflateParams,
  FRAGMENT_SIZE,
  Opcode,
  type RelayEnd,
  WebSocketError,
  WebSocketErrorCodes as C,
  WebSocketRelay,
  type WebSocketRelayOptions,
  parseClosePayload,
} from '../../src/proxy/websocket/index.js';
import { hex } from './helpers.js';
import { PeerDecoder, PeerEncoder } from './peers.js';

const TAKEOVER: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};
const NO_TAKEOVER: DeflateParams = { ...TAKEOVER, serverNoContextTakeover: true, clientNoContextTakeover: true };

/** Relay options, with `onMessage` given the message (`data.messages.at(-1)` when the relay calls it). */
type HarnessOptions = Omit<Partial<WebSocketRelayOptions>, 'onMessage'> & {
  onMessage?: ((m: WebSocketMessage) => void | Promise<void>) | null;
};

function harness({ onMessage, ...o }: HarnessOptions = {}) {
  const data = o.data ?? new WebSocketData();
  const toClient: Buffer[] = [];
  const toServer: Buffer[] = [];
  const ends: RelayEnd[] = [];
  const errors: WebSocketError[] = [];
  const holds: Array<[boolean, boolean]> = [];
  const relay = new WebSocketRelay({
    data,
    send: (c, b) => (c ? toClient : toServer).push(b),
    onEnd: (h) => ends.push(h),
    onError: (e) => errors.push(e),
    onHold: (f, h) => holds.push([f, h]),
    ...o,
    onMessage: onMessage ? () => onMessage(data.messages.at(-1)!) : null,
  });
  return {
    relay,
    data,
    toClient,
    toServer,
    ends,
    errors,
    holds,
    client: () => Buffer.concat(toClient),
    server: () => Buffer.concat(toServer),
  };
}

const clientPeer = (p: DeflateParams | null = null) => new PeerEncoder(true, p);
const serverPeer = (p: DeflateParams | null = null) => new PeerEncoder(false, p);

describe('WebSocketRelay: unchanged messages', () => {
  it('forwards a masked client message byte for byte and records it', () => {
    const h = harness();
    const wire = hex('81 85 37 fa 21 3d 7f 9f 4d 51 58');
    h.relay.fromClient(wire);
    expect(h.server().equals(wire)).toBe(true);
    expect(h.toClient).toEqual([]);
    const [m] = h.data.messages;
    expect(m).toMatchObject({ type: Opcode.TEXT, fromClient: true, dropped: false, injected: false });
    expect(m!.text).toBe('Hello');
    expect(Math.abs(m!.timestamp - Date.now() / 1000)).toBeLessThan(5);
  });

  it('forwards server messages unmasked, and both directions independently', () => {
    const h = harness();
    h.relay.fromServer(hex('82 03 00 01 ff'));
    h.relay.fromClient(clientPeer().message('up'));
    expect(h.client()).toEqual(hex('82 03 00 01 ff'));
    expect(h.data.messages.map((m) => [m.fromClient, m.type, m.content.toString('hex')])).toEqual([
      [false, Opcode.BINARY, '0001ff'],
      [true, Opcode.TEXT, Buffer.from('up').toString('hex')],
    ]);
  });

  it('keeps fragment boundaries, and passes a ping in the middle of a fragmented message first', () => {
    const h = harness();
    const c = clientPeer();
    const frag = c.message('Hello, fragmented world', { fragment: 5 });
    const ping = c.control(Opcode.PING, 'are you there');
    // the ping arrives between the first and second fragment
    const firstFrameEnd = 2 + 4 + 5;
    h.relay.fromClient(Buffer.concat([frag.subarray(0, firstFrameEnd), ping, frag.subarray(firstFrameEnd)]));
    expect(h.server().equals(Buffer.concat([ping, frag]))).toBe(true);
    const d = new PeerDecoder(true).push(h.server());
    expect(d.messages[0]!.fragments).toEqual([5, 5, 5, 5, 3]);
    expect(h.data.messages[0]!.text).toBe('Hello, fragmented world');
  });

  it('sends many messages of one chunk as one zero-copy view of that chunk', () => {
    const h = harness();
    const c = clientPeer();
    const chunk = Buffer.concat([
      c.message('a'),
      c.message('b', { binary: true }),
      c.control(Opcode.PING),
      c.message('c'),
    ]);
    h.relay.fromClient(chunk);
    expect(h.toServer).toHaveLength(1);
    expect(h.toServer[0]!.buffer).toBe(chunk.buffer);
    expect(h.toServer[0]!.equals(chunk)).toBe(true);
    expect(h.data.messages).toHaveLength(3);
  });

  it('gives the same output however the input is cut', () => {
    const c = clientPeer();
    const wire = Buffer.concat([
      c.message('x'.repeat(300), { fragment: 100 }),
      c.message('y'),
      c.control(Opcode.PONG, 'z'),
    ]);
    const h = harness();
    for (let i = 0; i < wire.length; i++) h.relay.fromClient(wire.subarray(i, i + 1));
    expect(h.server().equals(wire)).toBe(true);
    expect(h.data.messages.map((m) => m.content.length)).toEqual([300, 1]);
  });

  it('forwards one-frame messages a hook only read (sync or async) as they came, both ways', async () => {
    const seen: string[] = [];
    const h = harness({
      onMessage: (m) => {
        seen.push(m.text);
        return m.fromClient ? Promise.resolve() : undefined;
      },
    });
    const up = Buffer.concat([clientPeer().message('read me'), clientPeer().message('and me')]);
    const down = Buffer.concat([serverPeer().message('read me too'), serverPeer().message('é€')]);
    h.relay.fromClient(up);
    h.relay.fromServer(down);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['read me', 'read me too', 'é€', 'and me']);
    expect(h.server().equals(up)).toBe(true);
    expect(h.client().equals(down)).toBe(true);
    expect(h.data.messages.map((m) => [m.fromClient, m.size, m.text])).toEqual([
      [true, 7, 'read me'],
      [false, 11, 'read me too'],
      [false, 5, 'é€'],
      [true, 6, 'and me'],
    ]);
  });

  it('treats content replaced by equal bytes as unchanged', () => {
    const h = harness({ onMessage: (m) => void (m.content = Buffer.from(m.content)) });
    const wire = clientPeer().message('same', { fragment: 1 });
    h.relay.fromClient(wire);
    expect(h.server().equals(wire)).toBe(true);
  });
});

describe('WebSocketRelay: hooks', () => {
  it('re-encodes a changed message: masked to the server, one frame for a one-frame original', () => {
    const h = harness({ onMessage: (m) => void (m.text = m.text.toUpperCase()) });
    h.relay.fromClient(clientPeer().message('hello'));
    const d = new PeerDecoder(true).push(h.server());
    expect(d.messages).toEqual([
      { opcode: Opcode.TEXT, content: Buffer.from('HELLO'), compressed: false, fragments: [5] },
    ]);
    expect(h.data.messages[0]!.text).toBe('HELLO');
  });

  it('re-fragments a changed fragmented message: the same sizes if the length held, else 4000-byte pieces', () => {
    const same = harness({ onMessage: (m) => void (m.content = Buffer.from(m.content.toString().toUpperCase())) });
    same.relay.fromServer(serverPeer().message('abcdefghij', { fragment: 3 }));
    expect(new PeerDecoder(false).push(same.client()).messages[0]!.fragments).toEqual([3, 3, 3, 1]);
    const longer = harness({ onMessage: (m) => void (m.content = Buffer.alloc(9000, 0x61)) });
    longer.relay.fromServer(serverPeer().message('abcdefghij', { fragment: 3 }));
    expect(new PeerDecoder(false).push(longer.client()).messages[0]!.fragments).toEqual([
      FRAGMENT_SIZE,
      FRAGMENT_SIZE,
      1000,
    ]);
  });

  it('changes the type', () => {
    const h = harness({ onMessage: (m) => void (m.type = Opcode.BINARY) });
    h.relay.fromServer(serverPeer().message('t'));
    expect(new PeerDecoder(false).push(h.client()).messages[0]!.opcode).toBe(Opcode.BINARY);
  });

  it('drops a message: nothing sent, recorded as dropped', () => {
    const h = harness({ onMessage: (m) => (m.text === 'secret' ? m.drop() : undefined) });
    const c = clientPeer();
    h.relay.fromClient(Buffer.concat([c.message('a'), c.message('secret'), c.message('b')]));
    expect(new PeerDecoder(true).push(h.server()).texts).toEqual(['a', 'b']);
    expect(h.data.messages.map((m) => [m.text, m.dropped])).toEqual([
      ['a', false],
      ['secret', true],
      ['b', false],
    ]);
  });

  it('holds a lane while an async hook runs, in order, without holding the other lane', async () => {
    const gates: Array<() => void> = [];
    const h = harness({
      onMessage: (m) =>
        m.fromClient ? new Promise<void>((r) => gates.push(r)).then(() => void (m.text += '!')) : undefined,
    });
    const c = clientPeer();
    h.relay.fromClient(Buffer.concat([c.message('one'), c.message('two')]));
    h.relay.fromServer(serverPeer().message('down'));
    expect(new PeerDecoder(false).push(h.client()).texts).toEqual(['down']);
    expect(h.toServer).toEqual([]);
    expect(h.relay.bufferedBytes(true)).toBeGreaterThan(0);
    expect(h.holds).toEqual([[true, true]]);
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(new PeerDecoder(true).push(h.server()).texts).toEqual(['one!']);
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(new PeerDecoder(true).push(h.server()).texts).toEqual(['one!', 'two!']);
    expect(h.holds).toEqual([
      [true, true],
      [true, false],
      [true, true],
      [true, false],
    ]);
  });

  it('goes on with the message as it is when the hook throws', () => {
    const h = harness({
      onMessage: (m) => {
        m.text = 'changed';
        throw new Error('addon bug');
      },
    });
    h.relay.fromClient(clientPeer().message('x'));
    expect(new PeerDecoder(true).push(h.server()).texts).toEqual(['changed']);
  });
});

describe('WebSocketRelay: injection', () => {
  it('injects to both sides: recorded as injected, seen by the hook, masked to the server', () => {
    const seen: WebSocketMessage[] = [];
    const h = harness({ onMessage: (m) => void seen.push(m) });
    const toClient = h.relay.inject(true, 'from proxy');
    const toServer = h.relay.inject(false, Buffer.from([1, 2, 3]), false);
    expect([toClient.fromClient, toClient.injected, toServer.fromClient, toServer.type]).toEqual([
      false,
      true,
      true,
      Opcode.BINARY,
    ]);
    expect(seen).toEqual([toClient, toServer]);
    expect(new PeerDecoder(false).push(h.client()).texts).toEqual(['from proxy']);
    expect(new PeerDecoder(true).push(h.server()).messages[0]!.content).toEqual(Buffer.from([1, 2, 3]));
    expect(h.data.messages).toHaveLength(2);
  });

  it('waits for a held lane, and for the message being processed when a hook injects', async () => {
    let release: () => void = () => undefined;
    const h = harness({
      onMessage: (m) => {
        if (m.text === 'first') return new Promise<void>((r) => (release = r));
        if (m.text === 'second') h.relay.inject(false, 'injected by hook');
        return undefined;
      },
    });
    const c = clientPeer();
    h.relay.fromClient(c.message('first'));
    h.relay.inject(false, 'queued');
    expect(h.toServer).toEqual([]);
    release();
    await new Promise((r) => setImmediate(r));
    h.relay.fromClient(c.message('second'));
    expect(new PeerDecoder(true).push(h.server()).texts).toEqual(['first', 'queued', 'second', 'injected by hook']);
  });

  it('refuses to inject once a close went to that peer', () => {
    const h = harness();
    h.relay.fromClient(clientPeer().control(Opcode.CLOSE, hex('03 e8')));
    expect(() => h.relay.inject(false, 'late')).toThrow(
      'Cannot inject a WebSocket message to the server: the connection is closing.',
    );
    expect(h.relay.inject(true, 'still fine').injected).toBe(true);
  });
});

describe('WebSocketRelay: control frames and close', () => {
  it('passes ping and pong on, unchanged, and reports them', () => {
    const controls: Array<[boolean, number, string]> = [];
    const h = harness({ onControl: (f, op, p) => void controls.push([f, op, p.toString()]) });
    const ping = clientPeer().control(Opcode.PING, 'p1');
    const pong = serverPeer().control(Opcode.PONG, 'p1');
    h.relay.fromClient(ping);
    h.relay.fromServer(pong);
    expect(h.server().equals(ping)).toBe(true);
    expect(h.client().equals(pong)).toBe(true);
    expect(controls).toEqual([
      [true, Opcode.PING, 'p1'],
      [false, Opcode.PONG, 'p1'],
    ]);
    expect(h.data.messages).toEqual([]);
  });

  it('passes the close handshake both ways and records who closed, code and reason', () => {
    const h = harness();
    const close = clientPeer().control(Opcode.CLOSE, Buffer.concat([hex('0f a0'), Buffer.from('bye')]));
    h.relay.fromClient(close);
    expect(h.server().equals(close)).toBe(true);
    expect(h.data).toMatchObject({ closedByClient: true, closeCode: 4000, closeReason: 'bye' });
    expect(h.data.timestampEnd).not.toBeNull();
    expect(h.ends).toEqual([]);
    expect(h.relay.closing).toBe(true);
    // the server may still send before answering the close
    h.relay.fromServer(serverPeer().message('last words'));
    const reply = serverPeer().control(Opcode.CLOSE, hex('0f a0'));
    h.relay.fromServer(reply);
    expect(new PeerDecoder(false).push(h.client()).texts).toEqual(['last words']);
    expect(h.client().subarray(-reply.length).equals(reply)).toBe(true);
    expect(h.ends).toEqual(['closed']);
    expect(h.data.closeCode).toBe(4000);
    expect(h.relay.ended).toBe(true);
    expect(h.relay.closing).toBe(false);
  });

  it('records a close without code as 1005, and ignores data after a peer closed', () => {
    const h = harness();
    const s = serverPeer();
    h.relay.fromServer(Buffer.concat([s.control(Opcode.CLOSE), s.message('after close')]));
    expect(h.data).toMatchObject({ closedByClient: false, closeCode: CloseCode.NO_STATUS, closeReason: '' });
    expect(new PeerDecoder(false).push(h.client()).texts).toEqual([]);
    expect(h.data.messages).toEqual([]);
  });

  it('records an abrupt end as 1006 and ends once', () => {
    const h = harness();
    h.relay.connectionLost(false);
    h.relay.connectionLost(true);
    h.relay.fromClient(clientPeer().message('too late'));
    expect(h.ends).toEqual(['lost']);
    expect(h.data).toMatchObject({ closedByClient: false, closeCode: 1006 });
    expect(h.toServer).toEqual([]);
  });

  it('closes both sides itself when the proxy ends the connection', () => {
    const h = harness();
    h.relay.close(1001, 'proxy shutting down');
    expect(parseClosePayload(new PeerDecoder(false).push(h.client()).controls[0]!.payload)).toEqual({
      code: 1001,
      reason: 'proxy shutting down',
    });
    expect(new PeerDecoder(true).push(h.server()).controls[0]!.opcode).toBe(Opcode.CLOSE);
    expect(h.ends).toEqual(['killed']);
    expect(h.data.closeCode).toBe(1001);
  });
});

describe('WebSocketRelay: protocol errors and limits', () => {
  function closesOf(h: ReturnType<typeof harness>) {
    return {
      client: new PeerDecoder(false).push(h.client()).controls.map((c) => parseClosePayload(c.payload)),
      server: new PeerDecoder(true).push(h.server()).controls.map((c) => parseClosePayload(c.payload)),
    };
  }

  it('fails the connection on a protocol error: close 1002 to both peers, the error reported with its side', () => {
    const h = harness();
    h.relay.fromClient(clientPeer().message('ok'));
    h.relay.fromClient(hex('81 02 68 69')); // unmasked from a client
    expect(closesOf(h)).toEqual({
      client: [{ code: 1002, reason: 'unmasked frame from client' }],
      server: [{ code: 1002, reason: 'unmasked frame from client' }],
    });
    expect(new PeerDecoder(true).push(h.server()).texts).toEqual(['ok']);
    expect(h.errors.map((e) => [e.code, e.side, e.offset])).toEqual([[C.MASK, 'client', 8]]);
    expect(h.data).toMatchObject({ closedByClient: true, closeCode: 1002, closeReason: 'unmasked frame from client' });
    expect(h.ends).toEqual(['error']);
  });

  it('closes with 1009 "message too big" when a message exceeds the limit, across fragments', () => {
    const h = harness({ maxMessageSize: 1000 });
    h.relay.fromServer(serverPeer().message(Buffer.alloc(1500), { fragment: 400, binary: true }));
    expect(closesOf(h).client).toEqual([{ code: 1009, reason: 'message too big' }]);
    expect(h.data.messages).toEqual([]);
    expect(h.errors[0]!.side).toBe('server');
  });

  it('closes with 1007 on invalid UTF-8 in a text message', () => {
    const h = harness();
    h.relay.fromClient(new PeerEncoder(true).message(Buffer.from([0x61, 0xc3]), {}));
    expect(closesOf(h).server).toEqual([{ code: 1007, reason: 'invalid UTF-8 in text message' }]);
  });

  it('closes with 1002 on a bad close frame, and only once per peer', () => {
    const h = harness();
    h.relay.fromClient(clientPeer().control(Opcode.CLOSE, hex('03 ee'))); // 1006 may not be sent
    h.relay.fromServer(serverPeer().control(Opcode.CLOSE, hex('03 e8')));
    expect(closesOf(h)).toEqual({
      client: [{ code: 1002, reason: 'invalid close code' }],
      server: [{ code: 1002, reason: 'invalid close code' }],
    });
  });
});

describe.each([true, false])('WebSocketRelay: permessage-deflate (zlib handle: %s)', (zlibViaHandle) => {
  const texts = Array.from(
    { length: 6 },
    (_, i) => `{"event":"tick","seq":${i},"payload":"the same words again and again"}`,
  );

  it('forwards compressed messages as they came and shows them decoded', () => {
    const h = harness({ deflate: TAKEOVER, zlibViaHandle });
    const c = clientPeer(TAKEOVER);
    const wire = Buffer.concat(texts.map((t) => c.message(t, { compress: true })));
    h.relay.fromClient(wire);
    expect(h.server().equals(wire)).toBe(true);
    expect(h.data.messages.map((m) => m.text)).toEqual(texts);
  });

  it('re-deflates the changed message and every later one of that direction with context takeover', () => {
    const h = harness({
      deflate: TAKEOVER,
      zlibViaHandle,
      onMessage: (m) => (m.text.includes('"seq":2') ? void (m.text = 'CHANGED') : undefined),
    });
    const s = serverPeer(TAKEOVER);
    const frames = texts.map((t) => s.message(t, { compress: true }));
    h.relay.fromServer(Buffer.concat(frames));
    const out = h.client();
    // the first two pass byte for byte, the rest are the proxy's own
    expect(out.subarray(0, frames[0]!.length + frames[1]!.length).equals(Buffer.concat(frames.slice(0, 2)))).toBe(true);
    const d = new PeerDecoder(false, TAKEOVER).push(out);
    expect(d.texts).toEqual([texts[0], texts[1], 'CHANGED', texts[3], texts[4], texts[5]]);
    expect(d.messages.every((m) => m.compressed)).toBe(true);
    // uncompressed messages still pass as they are
    const plain = s.message('plain');
    h.relay.fromServer(plain);
    expect(h.client().subarray(-plain.length).equals(plain)).toBe(true);
  });

  it('re-deflates after a dropped compressed message', () => {
    const h = harness({
      deflate: TAKEOVER,
      zlibViaHandle,
      onMessage: (m) => (m.text.includes('"seq":1') ? m.drop() : undefined),
    });
    const c = clientPeer(TAKEOVER);
    h.relay.fromClient(Buffer.concat(texts.map((t) => c.message(t, { compress: true }))));
    expect(new PeerDecoder(true, TAKEOVER).push(h.server()).texts).toEqual(texts.filter((_, i) => i !== 1));
  });

  it('forwards later messages as they came without context takeover', () => {
    const h = harness({
      deflate: NO_TAKEOVER,
      zlibViaHandle,
      onMessage: (m) => (m.text.includes('"seq":0') ? void (m.text = 'CHANGED') : undefined),
    });
    const s = serverPeer(NO_TAKEOVER);
    const frames = texts.map((t) => s.message(t, { compress: true }));
    h.relay.fromServer(Buffer.concat(frames));
    const rest = Buffer.concat(frames.slice(1));
    expect(h.client().subarray(-rest.length).equals(rest)).toBe(true);
    expect(new PeerDecoder(false, NO_TAKEOVER).push(h.client()).texts).toEqual(['CHANGED', ...texts.slice(1)]);
  });

  it('keeps compressed fragments as they came, and injects uncompressed without disturbing the context', () => {
    const h = harness({ deflate: TAKEOVER, zlibViaHandle });
    const s = serverPeer(TAKEOVER);
    const first = s.message(texts[0]!, { compress: true, fragment: 7 });
    h.relay.fromServer(first);
    h.relay.inject(true, 'injected');
    const second = s.message(texts[1]!, { compress: true });
    h.relay.fromServer(second);
    const d = new PeerDecoder(false, TAKEOVER).push(h.client());
    expect(d.texts).toEqual([texts[0], 'injected', texts[1]]);
    expect(d.messages.map((m) => m.compressed)).toEqual([true, false, true]);
    expect(h.client().subarray(-second.length).equals(second)).toBe(true);
  });

  it('closes with 1007 on compressed data that does not inflate and 1009 on a decompression bomb', () => {
    const bad = harness({ deflate: TAKEOVER, zlibViaHandle });
    bad.relay.fromServer(hex('c1 04 ff ff ff ff'));
    expect(bad.errors.map((e) => e.code)).toEqual([C.BAD_COMPRESSION]);
    const bomb = harness({ deflate: TAKEOVER, zlibViaHandle, maxMessageSize: 100_000 });
    bomb.relay.fromServer(serverPeer(TAKEOVER).message(Buffer.alloc(1 << 20), { compress: true, binary: true }));
    expect(bomb.errors.map((e) => [e.code, e.closeCode])).toEqual([[C.TOO_BIG, 1009]]);
  });
});

describe('WebSocketRelay: retention', () => {
  it('keeps the newest messages within the bound and counts what it left out', () => {
    const h = harness();
    h.data.retention = { maxMessages: 100 };
    const c = clientPeer();
    for (let i = 0; i < 1000; i++) h.relay.fromClient(c.message(`m${i}`));
    const kept = h.data.messages.length;
    expect(kept).toBeGreaterThanOrEqual(100);
    expect(kept).toBeLessThanOrEqual(100 + 64);
    expect(h.data.omittedMessages + kept).toBe(1000);
    expect(h.data.messages.at(-1)!.text).toBe('m999');
    expect(h.data.messages[0]!.text).toBe(`m${1000 - kept}`);
    // every message still went through
    expect(new PeerDecoder(true).push(h.server()).messages).toHaveLength(1000);
  });
});

describe('WebSocketRelay: the recorded flow in a .mitm file', () => {
  it('saves and loads what the relay recorded: injected, dropped, binary, close', async () => {
    const { tflow } = await import('../../src/flow/index.js');
    const { FlowReader, encodeFlow } = await import('../../src/io/index.js');
    const flow = tflow({ resp: true });
    const h = harness({
      data: (flow.websocket = new WebSocketData()),
      onMessage: (m) => (m.text === 'drop me' ? m.drop() : undefined),
    });
    const c = clientPeer();
    h.relay.fromClient(Buffer.concat([c.message('hello'), c.message('drop me')]));
    h.relay.fromServer(serverPeer().message(Buffer.from([0, 1, 2]), { binary: true }));
    h.relay.inject(true, 'injected');
    h.relay.fromClient(c.control(Opcode.CLOSE, Buffer.concat([hex('0f a0'), Buffer.from('bye')])));
    h.relay.fromServer(serverPeer().control(Opcode.CLOSE, hex('0f a0')));
    const bytes = encodeFlow(flow);
    // the message tuple has mitmproxy's shape: [int, bool, bytes, float, bool (dropped), bool (injected)]
    expect(bytes.toString('latin1')).toMatch(/1:1#4:true!7:drop me,\d+:\d+\.\d+\^4:true!5:false!\]/);
    const [back] = [...new FlowReader(bytes)] as Array<typeof flow>;
    expect(
      back!.websocket!.messages.map((m) => [m.type, m.fromClient, m.content.toString('hex'), m.dropped, m.injected]),
    ).toEqual([
      [1, true, Buffer.from('hello').toString('hex'), false, false],
      [1, true, Buffer.from('drop me').toString('hex'), true, false],
      [2, false, '000102', false, false],
      [1, false, Buffer.from('injected').toString('hex'), false, true],
    ]);
    expect(back!.websocket).toMatchObject({ closedByClient: true, closeCode: 4000, closeReason: 'bye' });
    expect(back!.websocket!.timestampEnd).toBeCloseTo(flow.websocket!.timestampEnd!, 3);
  });
});
