/**
 * The connection state machine, socket-free: preface and SETTINGS, requests and responses in
 * both roles, informational responses, trailers, empty DATA, CONTINUATION, padding and
 * priority, stream ids, concurrency limits, RST_STREAM, GOAWAY, PING.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  Flag,
  type Frame,
  FrameType,
  Http2Connection,
  Http2ErrorCodes,
  PREFACE,
  SettingId,
  readSettings,
  splitFrames,
} from '../../src/proxy/http2/index.js';
import { REQ, Rec, get, pair, raw, rawClient, rawServer, str } from './helpers.js';

describe('connection preface and SETTINGS', () => {
  it('client sends the preface, SETTINGS (push off) and a connection WINDOW_UPDATE; the server answers and both ACK', () => {
    const c = new Rec();
    const client = new Http2Connection('client', c, { connectionWindowSize: 1 << 20 });
    client.start();
    const bytes = c.takeOut();
    expect(bytes.subarray(0, 24)).toEqual(PREFACE);
    const { frames } = require_split(bytes.subarray(24));
    expect(frames.map((f) => f.type)).toEqual([FrameType.SETTINGS, FrameType.WINDOW_UPDATE]);
    expect(readSettings(frames[0]!.payload)).toContainEqual([SettingId.ENABLE_PUSH, 0]);
    expect(frames[1]!.payload.readUInt32BE(0)).toBe((1 << 20) - 65535);
    const s = new Rec();
    const server = new Http2Connection('server', s, { maxConcurrentStreams: 7, enableConnectProtocol: true });
    server.receive(bytes);
    const answer = require_split(s.takeOut()).frames;
    expect(answer.map((f) => [f.type, f.flags])).toEqual([
      [FrameType.SETTINGS, 0],
      [FrameType.WINDOW_UPDATE, 0],
      [FrameType.SETTINGS, Flag.ACK],
    ]);
    expect(readSettings(answer[0]!.payload)).toEqual(
      expect.arrayContaining([
        [SettingId.MAX_CONCURRENT_STREAMS, 7],
        [SettingId.ENABLE_CONNECT_PROTOCOL, 1],
      ]),
    );
    expect(s.of('settings')[0]!.settings.enablePush).toBe(false);
    client.receive(Buffer.concat(answer.map((f) => frameBytes(f))));
    expect(c.of('settings')[0]!.settings).toMatchObject({ maxConcurrentStreams: 7, enableConnectProtocol: true });
    expect(require_split(c.takeOut()).frames.map((f) => [f.type, f.flags])).toEqual([[FrameType.SETTINGS, Flag.ACK]]);
  });

  it('an HTTP/1 request instead of the preface is a connection error with a hint', () => {
    const s = new Rec();
    const server = new Http2Connection('server', s);
    server.receive(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(s.error?.code).toBe(Http2ErrorCodes.BAD_PREFACE);
    expect(s.error?.message).toMatch(/looks like HTTP\/1/);
    const frames = require_split(s.takeOut()).frames;
    const goaway = frames.find((f) => f.type === FrameType.GOAWAY)!;
    expect(goaway.payload.readUInt32BE(4)).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(server.isClosed).toBe(true);
    server.receive(Buffer.from('more'));
    expect(s.out).toHaveLength(0);
  });

  it('the preface may arrive byte by byte; the first frame must be SETTINGS', () => {
    const s = new Rec();
    const server = new Http2Connection('server', s);
    for (const b of PREFACE) server.receive(Buffer.from([b]));
    expect(s.error).toBeUndefined();
    const peer = rawServer().peer;
    peer.w.ping(Buffer.alloc(8));
    server.receive(peer.take());
    expect(s.error?.code).toBe(Http2ErrorCodes.BAD_PREFACE);
    expect(s.error?.message).toMatch(/first frame is type 6, not SETTINGS/);
  });
});

/** Frames of `b`, which must hold whole frames only. */
function require_split(b: Buffer): { frames: Frame[] } {
  const r = splitFrames(b);
  expect(r.rest.length).toBe(0);
  return r;
}
/** A frame's bytes again. */
function frameBytes(f: Frame): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(f.payload.length, 0, 3);
  h[3] = f.type;
  h[4] = f.flags;
  h.writeUInt32BE(f.streamId, 5);
  return Buffer.concat([h, f.payload]);
}

describe('requests and responses between two codec connections', () => {
  it('GET: the head arrives as sent, END_STREAM on HEADERS is kept, both sides close the stream', () => {
    const { client, server, c, s, pump } = pair();
    const id = client.openStream(
      get('/a?b=1', [
        ['user-agent', 'test/1'],
        ['accept', '*/*'],
        ['x-Case', 'MiXeD value'],
      ]),
      true,
    );
    expect(id).toBe(1);
    pump();
    const [h] = s.of('headers');
    expect(h).toMatchObject({ id: 1, end: true });
    expect(h!.head).toMatchObject({
      method: 'GET',
      scheme: 'https',
      authority: 'example.com',
      path: '/a?b=1',
      status: 0,
    });
    expect(str(h!.head.headers)).toEqual([
      ['user-agent', 'test/1'],
      ['accept', '*/*'],
      ['x-case', 'MiXeD value'],
    ]);
    server.sendHeaders(1, { status: 200, headers: raw([['content-type', 'text/plain']]) }, false);
    expect(server.sendData(1, Buffer.from('hello'), true)).toBe(true);
    expect(s.of('close')).toEqual([{ type: 'close', id: 1 }]);
    pump();
    expect(c.events.map((e) => e.type)).toEqual(['headers', 'data', 'close']);
    expect(c.of('headers')[0]!.head.status).toBe(200);
    expect(c.of('data')[0]).toMatchObject({ data: 'hello', end: true });
    expect(client.activeStreams).toBe(0);
    expect(server.activeStreams).toBe(0);
  });

  it('POST with a body and trailers both ways; 100 and 103 before the final response', () => {
    const { client, server, c, s, pump } = pair();
    const id = client.openStream(
      { method: 'POST', scheme: 'https', authority: 'h', path: '/up', headers: raw([['te', 'trailers']]) },
      false,
    );
    client.sendData(id, Buffer.from('part1'), false);
    client.sendData(id, Buffer.from('part2'), false);
    client.sendTrailers(id, raw([['x-checksum', 'abc']]));
    pump();
    // (the recorder joins adjacent DATA events of a stream)
    expect(s.events.map((e) => e.type)).toEqual(['headers', 'data', 'trailers']);
    expect(
      s
        .of('data')
        .map((d) => d.data)
        .join(''),
    ).toBe('part1part2');
    expect(s.of('trailers')[0]!.trailers).toEqual([['x-checksum', 'abc']]);
    server.sendHeaders(id, { status: 100, headers: [] }, false);
    server.sendHeaders(id, { status: 103, headers: raw([['link', '</s.css>; rel=preload']]) }, false);
    server.sendHeaders(id, { status: 201, headers: [] }, false);
    server.sendData(id, Buffer.from('ok'), false);
    server.sendTrailers(id, raw([['grpc-status', '0']]));
    pump();
    expect(c.events.map((e) => e.type)).toEqual(['info', 'info', 'headers', 'data', 'trailers', 'close']);
    expect(c.of('info').map((e) => e.head.status)).toEqual([100, 103]);
    expect(str(c.of('info')[1]!.head.headers)).toEqual([['link', '</s.css>; rel=preload']]);
    expect(c.of('trailers')[0]!.trailers).toEqual([['grpc-status', '0']]);
  });

  it('empty DATA frames go out as sent and arrive as empty events', () => {
    const { client, server, c, s, pump } = pair();
    const id = client.openStream({ method: 'POST', scheme: 'https', authority: 'h', path: '/', headers: [] }, false);
    client.sendData(id, Buffer.alloc(0), false);
    client.sendData(id, Buffer.from('x'), false);
    client.sendData(id, Buffer.alloc(0), true);
    pump();
    expect(s.of('data').map((d) => [d.data, d.end])).toEqual([
      ['', false],
      ['x', false],
      ['', true],
    ]);
    server.sendHeaders(id, { status: 204, headers: [] }, true);
    pump();
    expect(c.of('headers')[0]).toMatchObject({ end: true });
  });

  it('a header block over the peer max frame size goes out as HEADERS + CONTINUATION and comes back whole', () => {
    const { client, s, pump } = pair();
    const big = 'v'.repeat(20000);
    const c0 = (client as unknown as { out: { pending: number } }).out;
    client.openStream(
      get('/', [
        ['x-big', big],
        ['x-after', '1'],
      ]),
      true,
    );
    expect(c0.pending).toBe(0);
    pump();
    const head = s.of('headers')[0]!.head;
    expect(str(head.headers)).toEqual([
      ['x-big', big],
      ['x-after', '1'],
    ]);
  });

  it('byte-by-byte feeding gives the same events as whole chunks', () => {
    const build = () => {
      const p = rawServer();
      const { peer } = p;
      peer.w.headers(1, peer.block([...REQ.slice(0, 3), [':path', '/x'], ['content-length', '6']]), Flag.END_HEADERS, {
        padding: 3,
      });
      peer.w.data(1, Buffer.from('abc'), false, 2);
      peer.w.data(1, Buffer.from('def'), true);
      return p;
    };
    const whole = build();
    whole.send();
    const split = build();
    const bytes = split.peer.take();
    for (const b of bytes) split.conn.receive(Buffer.from([b]));
    expect(split.rec.events.map((e) => e.type)).toEqual(whole.rec.events.map((e) => e.type));
    expect(
      split.rec
        .of('data')
        .map((d) => d.data)
        .join(''),
    ).toBe('abcdef');
    expect(
      whole.rec
        .of('data')
        .map((d) => d.data)
        .join(''),
    ).toBe('abcdef');
    expect(split.rec.of('headers')[0]!.head.path).toBe('/x');
  });

  it('padding and priority fields on HEADERS are skipped; a PRIORITY frame is ignored; self-dependency is a stream error', () => {
    const { peer, rec, send } = rawServer();
    peer.w.priority(3, 0, 200);
    peer.w.headers(1, peer.block(REQ), Flag.END_HEADERS | Flag.END_STREAM, {
      padding: 10,
      priority: { dependency: 0, weight: 16, exclusive: true },
    });
    send();
    expect(rec.of('headers')[0]!.head.path).toBe('/');
    peer.w.headers(3, peer.block(REQ), Flag.END_HEADERS | Flag.END_STREAM, {
      priority: { dependency: 3, weight: 1, exclusive: false },
    });
    const frames = send();
    expect(rec.of('streamError')[0]!.error.message).toMatch(/depends on itself/);
    expect(frames.find((f) => f.type === FrameType.RST_STREAM)?.streamId).toBe(3);
  });

  it('a frame other than CONTINUATION inside a header block is a connection error', () => {
    const { peer, rec, send } = rawServer();
    peer.w.headers(1, peer.block(REQ), 0);
    peer.w.ping(Buffer.alloc(8));
    const frames = send();
    expect(rec.error?.message).toMatch(/waits for CONTINUATION/);
    expect(frames.at(-1)!.type).toBe(FrameType.GOAWAY);
  });

  it('CONTINUATION assembles a block split anywhere', () => {
    const { peer, rec, send } = rawServer();
    const block = peer.block([...REQ, ['x-a', 'b'.repeat(100)]]);
    peer.w.headers(1, block.subarray(0, 3), Flag.END_STREAM);
    peer.w.continuation(1, block.subarray(3, 50), false);
    peer.w.continuation(1, block.subarray(50), true);
    send();
    expect(rec.of('headers')[0]).toMatchObject({ id: 1, end: true });
    expect(str(rec.of('headers')[0]!.head.headers)).toEqual([['x-a', 'b'.repeat(100)]]);
  });

  it('an undecodable header block is a connection error (COMPRESSION_ERROR): the HPACK state is lost', () => {
    const { peer, rec, send } = rawServer();
    peer.w.headers(1, Buffer.from([0xff, 0x7f]), Flag.END_HEADERS | Flag.END_STREAM); // index 254: no such entry
    const frames = send();
    expect(rec.error).toMatchObject({
      code: Http2ErrorCodes.COMPRESSION,
      errorCode: ErrorCode.COMPRESSION_ERROR,
      streamId: 0,
    });
    expect(frames.at(-1)!.type).toBe(FrameType.GOAWAY);
    expect(frames.at(-1)!.payload.readUInt32BE(4)).toBe(ErrorCode.COMPRESSION_ERROR);
  });

  it('unknown frame types are ignored, also on streams', () => {
    const { peer, rec, send } = rawServer();
    peer.w.frame(0xfa, 0, 0, Buffer.from('ext'));
    peer.w.frame(0x0a, 0, 1, Buffer.from('altsvc'));
    peer.w.headers(1, peer.block(REQ), Flag.END_HEADERS | Flag.END_STREAM);
    send();
    expect(rec.events.map((e) => e.type)).toEqual(['headers']);
  });
});

describe('stream ids and states', () => {
  it('a client stream on an even id, DATA / RST_STREAM / WINDOW_UPDATE on idle streams are connection errors', () => {
    for (const build of [
      (p: ReturnType<typeof rawServer>['peer']) => p.w.headers(2, p.block(REQ), Flag.END_HEADERS),
      (p: ReturnType<typeof rawServer>['peer']) => p.w.data(5, Buffer.from('x'), false),
      (p: ReturnType<typeof rawServer>['peer']) => p.w.rstStream(7, 0),
      (p: ReturnType<typeof rawServer>['peer']) => p.w.windowUpdate(9, 10),
    ]) {
      const { peer, rec, send } = rawServer();
      build(peer);
      send();
      expect(rec.error?.code).toBe(Http2ErrorCodes.PROTOCOL);
    }
  });

  it('DATA after END_STREAM is a stream error (STREAM_CLOSED); frames on closed streams are ignored', () => {
    const { conn, peer, rec, send } = rawServer();
    peer.w.headers(1, peer.block(REQ), Flag.END_HEADERS | Flag.END_STREAM);
    peer.w.data(1, Buffer.from('late'), false);
    let frames = send();
    expect(rec.of('streamError')[0]!.error.code).toBe(Http2ErrorCodes.STREAM_CLOSED);
    expect(frames.find((f) => f.type === FrameType.RST_STREAM)!.payload.readUInt32BE(0)).toBe(ErrorCode.STREAM_CLOSED);
    rec.take();
    peer.w.data(1, Buffer.from('more'), false);
    peer.w.windowUpdate(1, 100);
    peer.w.rstStream(1, 8);
    frames = send();
    expect(rec.events).toEqual([]);
    expect(conn.isClosed).toBe(false);
  });

  it('HEADERS on a closed stream is decoded (HPACK stays in step) and dropped', () => {
    const { peer, rec, send } = rawServer();
    peer.w.headers(3, peer.block([...REQ, ['x-one', '1']]), Flag.END_HEADERS | Flag.END_STREAM);
    send();
    rec.take();
    // stream 1 is below the highest id: closed. Its block adds x-two to both tables.
    peer.w.headers(1, peer.block([...REQ, ['x-two', '2']]), Flag.END_HEADERS | Flag.END_STREAM);
    peer.w.headers(5, peer.block([...REQ, ['x-two', '2']]), Flag.END_HEADERS | Flag.END_STREAM);
    send();
    expect(rec.events.map((e) => e.type)).toEqual(['headers']);
    expect(str(rec.of('headers')[0]!.head.headers)).toEqual([['x-two', '2']]);
  });

  it('the server refuses streams over its MAX_CONCURRENT_STREAMS with REFUSED_STREAM and goes on', () => {
    const { peer, rec, send } = rawServer({ maxConcurrentStreams: 2 });
    for (const id of [1, 3, 5]) peer.w.headers(id, peer.block(REQ), Flag.END_HEADERS | Flag.END_STREAM);
    const frames = send();
    expect(rec.of('headers').map((h) => h.id)).toEqual([1, 3]);
    expect(rec.of('streamError')[0]!.error).toMatchObject({ code: Http2ErrorCodes.REFUSED_STREAM, streamId: 5 });
    const rst = frames.find((f) => f.type === FrameType.RST_STREAM)!;
    expect([rst.streamId, rst.payload.readUInt32BE(0)]).toEqual([5, ErrorCode.REFUSED_STREAM]);
    expect(rec.of('close')).toEqual([]);
  });

  it('client role: canOpenStream follows the server limit (provisional until SETTINGS) and reopens as streams close', () => {
    const c = new Rec();
    const client = new Http2Connection('client', c, { provisionalMaxConcurrentStreams: 1 });
    client.start();
    client.openStream(get(), true);
    expect(client.canOpenStream()).toBe(false);
    expect(() => client.openStream(get(), true)).toThrow(
      expect.objectContaining({ code: Http2ErrorCodes.CANNOT_OPEN }),
    );
    const { client: cl, server, s, pump } = pair({}, { maxConcurrentStreams: 2 });
    cl.openStream(get(), true);
    cl.openStream(get(), true);
    expect(cl.canOpenStream()).toBe(false);
    pump();
    server.sendHeaders(1, { status: 200, headers: [] }, true);
    pump();
    expect(cl.canOpenStream()).toBe(true);
    expect(cl.openStream(get(), true)).toBe(5);
    expect(s.of('headers').map((h) => h.id)).toEqual([1, 3]);
  });

  it('a long-lived connection forgets finished streams (no memory growth with sequential streams)', () => {
    const { client, server, s, c, pump } = pair();
    s.after = (e) => {
      if (e.type === 'headers') server.sendHeaders(e.id, { status: 200, headers: [] }, true);
    };
    for (let i = 0; i < 500; i++) {
      client.openStream(get(`/${i}`), true);
      pump();
    }
    expect(c.of('close')).toHaveLength(500);
    const tracked = (x: Http2Connection): number => (x as unknown as { streams: Map<number, unknown> }).streams.size;
    expect(tracked(client)).toBe(0);
    expect(tracked(server)).toBe(0);
  });
});

describe('RST_STREAM, GOAWAY, PING', () => {
  it('a peer reset ends the stream with cause "peer" and the connection goes on', () => {
    const { client, server, c, s, pump } = pair();
    const id = client.openStream(get(), true);
    pump();
    server.reset(id, ErrorCode.HTTP_1_1_REQUIRED);
    expect(s.of('close')).toEqual([{ type: 'close', id }]);
    pump();
    expect(c.events).toEqual([
      { type: 'reset', id, code: ErrorCode.HTTP_1_1_REQUIRED, cause: 'peer' },
      { type: 'close', id },
    ]);
    // sending on the reset stream is silently dropped
    server.sendHeaders(id, { status: 200, headers: [] }, true);
    expect(client.openStream(get(), true)).toBe(3);
  });

  it('GOAWAY resets only our streams above last_stream_id (cause "goaway", retry-safe) and stops new ones', () => {
    const { conn, peer, rec, send } = rawClient();
    for (let i = 0; i < 3; i++) conn.openStream(get(`/${i}`), true);
    rec.take();
    peer.w.goaway(1, ErrorCode.NO_ERROR, Buffer.from('bye'));
    send();
    expect(rec.events).toEqual([
      { type: 'goaway', last: 1, code: 0, debug: 'bye' },
      { type: 'reset', id: 3, code: ErrorCode.REFUSED_STREAM, cause: 'goaway' },
      { type: 'close', id: 3 },
      { type: 'reset', id: 5, code: ErrorCode.REFUSED_STREAM, cause: 'goaway' },
      { type: 'close', id: 5 },
    ]);
    expect(conn.canOpenStream()).toBe(false);
    expect(conn.isOpen(1)).toBe(true);
    rec.take();
    peer.w.headers(1, peer.block([[':status', '200']]), Flag.END_HEADERS | Flag.END_STREAM);
    send();
    expect(rec.events.map((e) => e.type)).toEqual(['headers', 'close']);
    conn.close();
    expect(conn.isClosed).toBe(true);
  });

  it('our GOAWAY names the last peer stream; streams after it are ignored', () => {
    const { conn, peer, rec, send } = rawServer();
    peer.w.headers(1, peer.block(REQ), Flag.END_HEADERS | Flag.END_STREAM);
    send();
    conn.goaway();
    const frames = peer.frames(rec.takeOut());
    expect(frames[0]!.type).toBe(FrameType.GOAWAY);
    expect(frames[0]!.payload.readUInt32BE(0)).toBe(1);
    rec.take();
    peer.w.headers(3, peer.block(REQ), Flag.END_HEADERS | Flag.END_STREAM);
    send();
    expect(rec.events).toEqual([]);
    conn.sendHeaders(1, { status: 200, headers: [] }, true);
    expect(rec.of('close')).toEqual([{ type: 'close', id: 1 }]);
  });

  it('close() resets open streams with cause "connection"', () => {
    const { client, c } = pair();
    const id = client.openStream(get(), true);
    client.close();
    expect(c.of('reset')).toEqual([{ type: 'reset', id, code: ErrorCode.CANCEL, cause: 'connection' }]);
  });

  it('PING is answered with the same payload; our ping gets its ACK', () => {
    const { client, c, s, pump } = pair();
    client.ping(Buffer.from('12345678'));
    pump();
    expect(s.of('ping')[0]!.payload).toBe(Buffer.from('12345678').toString('hex'));
    expect(c.of('pingAck')[0]!.payload).toBe(Buffer.from('12345678').toString('hex'));
  });

  it('PUSH_PROMISE is refused: push is disabled', () => {
    const { peer, rec, send, conn } = rawClient();
    conn.openStream(get(), true);
    peer.w.pushPromise(1, 2, peer.block(REQ), true);
    const frames = send();
    expect(rec.error?.message).toMatch(/server push is disabled/);
    expect(frames.at(-1)!.type).toBe(FrameType.GOAWAY);
    expect(rec.of('reset')[0]).toMatchObject({ id: 1, cause: 'connection' });
  });
});

describe('handler exceptions', () => {
  it('an API error thrown inside an event (another leg cannot open) goes to the caller, not a GOAWAY', () => {
    const other = new Http2Connection('client', new Rec(), { provisionalMaxConcurrentStreams: 1 });
    other.start();
    other.openStream(get(), true);
    const { conn, peer, rec } = rawServer();
    rec.after = (e) => {
      if (e.type === 'headers') other.openStream(get(), true); // throws CANNOT_OPEN
    };
    peer.w.headers(1, peer.block(REQ), Flag.END_HEADERS | Flag.END_STREAM);
    expect(() => conn.receive(peer.take())).toThrow(expect.objectContaining({ code: Http2ErrorCodes.CANNOT_OPEN }));
    expect(conn.isClosed).toBe(false);
    expect(rec.error).toBeUndefined();
    rec.after = null;
    peer.w.headers(3, peer.block(REQ), Flag.END_HEADERS | Flag.END_STREAM);
    conn.receive(peer.take());
    expect(rec.of('headers').map((h) => h.id)).toEqual([1, 3]);
  });
});

describe('SETTINGS', () => {
  it.each([
    ['ENABLE_PUSH 2', [[SettingId.ENABLE_PUSH, 2]], Http2ErrorCodes.PROTOCOL],
    ['INITIAL_WINDOW_SIZE 2^31', [[SettingId.INITIAL_WINDOW_SIZE, 0x80000000]], Http2ErrorCodes.FLOW_CONTROL],
    ['MAX_FRAME_SIZE 100', [[SettingId.MAX_FRAME_SIZE, 100]], Http2ErrorCodes.PROTOCOL],
    ['ENABLE_CONNECT_PROTOCOL 2', [[SettingId.ENABLE_CONNECT_PROTOCOL, 2]], Http2ErrorCodes.PROTOCOL],
  ] as Array<[string, Array<[number, number]>, string]>)('rejects %s', (_n, settings, code) => {
    const { peer, rec, send } = rawServer();
    peer.w.settings(settings);
    send();
    expect(rec.error?.code).toBe(code);
  });

  it('a server sending ENABLE_PUSH 1 is a connection error; unknown settings are ignored', () => {
    const r = new Rec();
    const client = new Http2Connection('client', r);
    client.start();
    const w = rawServer().peer.w;
    w.settings([[SettingId.ENABLE_PUSH, 1]]);
    client.receive(w.take());
    expect(r.error?.message).toMatch(/ENABLE_PUSH = 1/);
    const ok = rawServer({}, [[0x99, 5]]);
    expect(ok.conn.isClosed).toBe(false);
  });

  it('SETTINGS with a bad length, an ACK with a payload, or on a stream are errors', () => {
    for (const [type, flags, id, payload] of [
      [FrameType.SETTINGS, 0, 0, Buffer.alloc(5)],
      [FrameType.SETTINGS, Flag.ACK, 0, Buffer.alloc(6)],
      [FrameType.SETTINGS, 0, 1, Buffer.alloc(0)],
    ] as Array<[number, number, number, Buffer]>) {
      const { peer, rec, send } = rawServer();
      peer.w.frame(type, flags, id, payload);
      send();
      expect(rec.error).toBeDefined();
    }
  });

  it('a smaller header table from the peer makes our next block start with a size update', () => {
    const { conn, peer, send } = rawClient();
    peer.w.settings([[SettingId.HEADER_TABLE_SIZE, 0]]);
    send();
    conn.openStream(get('/', [['x-a', '1']]), true);
    const frames = send();
    const h = frames.find((f) => f.type === FrameType.HEADERS)!;
    expect(h.payload[0]).toBe(0x20);
    expect(peer.decode(h.payload)).toContainEqual(['x-a', '1']);
  });
});
