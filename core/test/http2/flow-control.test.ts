/**
 * Flow control (RFC 9113 section 5.2 and 6.9): windows that follow the reader on the receiving
 * side, DATA queued per stream on the sending side and written when the peer's window opens.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { ErrorCode, Flag, FrameType, Http2ErrorCodes, SettingId } from '../../src/proxy/http2/index.js';
import { REQ, get, pair, raw, rawClient, rawServer } from './helpers.js';

const POST: Array<[string, string]> = [[':method', 'POST'], ...REQ.slice(1)];

describe('receiving: windows follow the reader', () => {
  it('no WINDOW_UPDATE until the user consumes; then one per half window', () => {
    const { conn, peer, rec, send } = rawServer({ initialWindowSize: 1000 });
    peer.w.settings([], true); // ACK: our 1000-byte stream window applies
    peer.w.headers(1, peer.block(POST), Flag.END_HEADERS);
    peer.w.data(1, Buffer.alloc(1000, 0x61), false);
    let frames = send();
    expect(frames.filter((f) => f.type === FrameType.WINDOW_UPDATE)).toEqual([]);
    expect(rec.of('data')[0]!.data).toHaveLength(1000);
    conn.consume(1, 400);
    expect(peer.frames(rec.takeOut())).toEqual([]);
    conn.consume(1, 100);
    frames = peer.frames(rec.takeOut());
    expect(frames.map((f) => [f.type, f.streamId, f.payload.readUInt32BE(0)])).toEqual([
      [FrameType.WINDOW_UPDATE, 1, 500],
    ]);
    // 500 more fit, 501 do not
    peer.w.data(1, Buffer.alloc(501), false);
    frames = send();
    expect(rec.of('streamError')[0]!.error.code).toBe(Http2ErrorCodes.FLOW_CONTROL);
    expect(frames.find((f) => f.type === FrameType.RST_STREAM)!.payload.readUInt32BE(0)).toBe(
      ErrorCode.FLOW_CONTROL_ERROR,
    );
  });

  it('a slow reader stops the sender at the window; consuming lets the rest through', () => {
    const { client, server, c, s, pump } = pair({}, { initialWindowSize: 64 * 1024, connectionWindowSize: 128 * 1024 });
    const body = Buffer.alloc(1024 * 1024, 0x62);
    const id = client.openStream({ method: 'POST', scheme: 'https', authority: 'h', path: '/', headers: [] }, false);
    expect(client.sendData(id, body, true)).toBe(false);
    pump();
    const received = (): number => s.of('data').reduce((n, d) => n + d.data.length, 0);
    expect(received()).toBe(64 * 1024);
    expect(client.queuedBytes(id)).toBe(body.length - 64 * 1024);
    expect(c.of('window')).toEqual([]);
    let consumed = 0;
    for (let round = 0; round < 100 && received() < body.length; round++) {
      server.consume(id, received() - consumed);
      consumed = received();
      pump();
    }
    expect(received()).toBe(body.length);
    expect(s.of('data').at(-1)!.end).toBe(true);
    expect(c.of('window')).toEqual([{ type: 'window', id }]);
    expect(client.queuedBytes(id)).toBe(0);
  });

  it('DATA over the connection window is a connection error', () => {
    const { peer, rec, send } = rawServer({ connectionWindowSize: 65535 });
    peer.w.headers(1, peer.block(POST), Flag.END_HEADERS);
    for (let i = 0; i < 4; i++) peer.w.data(1, Buffer.alloc(16384), false);
    send();
    expect(rec.error).toMatchObject({
      code: Http2ErrorCodes.FLOW_CONTROL,
      errorCode: ErrorCode.FLOW_CONTROL_ERROR,
      streamId: 0,
    });
  });

  it('padding is counted by flow control and given back at once', () => {
    const { conn, peer, rec, send } = rawServer({ initialWindowSize: 400, connectionWindowSize: 65535 });
    peer.w.settings([], true);
    peer.w.headers(1, peer.block(POST), Flag.END_HEADERS);
    peer.w.data(1, Buffer.from('abc'), false, 200);
    send();
    expect(rec.of('data')[0]!.data).toBe('abc');
    conn.consume(1, 3);
    const wu = peer.frames(rec.takeOut()).filter((f) => f.type === FrameType.WINDOW_UPDATE);
    expect(wu.map((f) => [f.streamId, f.payload.readUInt32BE(0)])).toEqual([[1, 204]]);
  });

  it('a reset gives unconsumed bytes back to the connection window', () => {
    const { conn, peer, rec, send } = rawServer({ connectionWindowSize: 65535 });
    peer.w.headers(1, peer.block(POST), Flag.END_HEADERS);
    for (const n of [16384, 16384, 7232]) peer.w.data(1, Buffer.alloc(n), false);
    send();
    conn.reset(1);
    const frames = peer.frames(rec.takeOut());
    expect(frames.map((f) => [f.type, f.streamId])).toEqual([
      [FrameType.RST_STREAM, 1],
      [FrameType.WINDOW_UPDATE, 0],
    ]);
    expect(frames[1]!.payload.readUInt32BE(0)).toBe(40000);
    conn.consume(1, 40000); // too late: a no-op
    expect(rec.out).toEqual([]);
  });

  it('a stream reset between the pieces of one DATA frame: the rest of the frame is credited too', () => {
    const { conn, peer, rec } = rawServer({ connectionWindowSize: 65535 });
    rec.after = (e) => {
      if (e.type === 'data' && e.id === 1) conn.reset(1);
    };
    peer.w.headers(1, peer.block(POST), Flag.END_HEADERS);
    peer.w.data(1, Buffer.alloc(16384), false);
    const bytes = peer.take();
    const cutAt = bytes.length - 8384;
    conn.receive(bytes.subarray(0, cutAt));
    conn.receive(bytes.subarray(cutAt));
    rec.after = null;
    peer.w.headers(3, peer.block(POST), Flag.END_HEADERS);
    peer.w.data(3, Buffer.alloc(16384), false);
    conn.receive(peer.take());
    conn.consume(3, 16384);
    const wu = peer.frames(rec.takeOut()).filter((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 0);
    expect(wu.map((f) => f.payload.readUInt32BE(0))).toEqual([32768]);
  });

  it('a stream that ended keeps its unconsumed bytes out of the window until they are consumed', () => {
    const { conn, peer, rec, send } = rawServer({ connectionWindowSize: 65535 });
    peer.w.headers(1, peer.block(POST), Flag.END_HEADERS);
    for (const n of [16384, 16384, 7232]) peer.w.data(1, Buffer.alloc(n), n === 7232);
    send();
    conn.sendHeaders(1, { status: 200, headers: [] }, true);
    expect(rec.of('close')).toEqual([{ type: 'close', id: 1 }]);
    expect(peer.frames(rec.takeOut()).filter((f) => f.type === FrameType.WINDOW_UPDATE)).toEqual([]);
    conn.consume(1, 40000);
    const wu = peer.frames(rec.takeOut()).filter((f) => f.type === FrameType.WINDOW_UPDATE);
    expect(wu.map((f) => [f.streamId, f.payload.readUInt32BE(0)])).toEqual([[0, 40000]]);
  });
});

describe('sending: queued DATA', () => {
  it('queues past the peer window, writes on WINDOW_UPDATE, trailers wait behind the data', () => {
    const { conn, peer, rec, send } = rawClient({}, [[SettingId.INITIAL_WINDOW_SIZE, 10]]);
    const id = conn.openStream({ method: 'POST', scheme: 'https', authority: 'h', path: '/', headers: [] }, false);
    expect(conn.sendData(id, Buffer.from('0123456789abcdef'), false)).toBe(false);
    conn.sendTrailers(id, raw([['x-t', '1']]));
    let frames = peer.frames(rec.takeOut());
    expect(frames.filter((f) => f.type === FrameType.DATA).map((f) => f.payload.toString())).toEqual(['0123456789']);
    expect(conn.queuedBytes(id)).toBe(6);
    peer.w.windowUpdate(id, 4);
    frames = send();
    expect(frames.map((f) => f.type)).toEqual([FrameType.DATA]);
    expect(rec.of('window')).toEqual([]);
    peer.w.windowUpdate(id, 100);
    frames = send();
    expect(frames.map((f) => [f.type, f.flags & Flag.END_STREAM])).toEqual([
      [FrameType.DATA, 0],
      [FrameType.HEADERS, Flag.END_STREAM],
    ]);
    expect(peer.decode(frames[1]!.payload)).toEqual([['x-t', '1']]);
    expect(rec.of('window')).toEqual([{ type: 'window', id }]);
  });

  it('END_STREAM goes with the last queued chunk; more DATA after the end is refused', () => {
    const { conn, peer, rec, send } = rawClient({}, [[SettingId.INITIAL_WINDOW_SIZE, 4]]);
    const id = conn.openStream({ method: 'POST', scheme: 'https', authority: 'h', path: '/', headers: [] }, false);
    conn.sendData(id, Buffer.from('abcdef'), false);
    conn.sendData(id, Buffer.alloc(0), false);
    conn.sendData(id, Buffer.from('gh'), true);
    expect(() => conn.sendData(id, Buffer.from('x'), false)).toThrow(
      expect.objectContaining({ code: Http2ErrorCodes.STREAM_STATE }),
    );
    peer.frames(rec.takeOut());
    peer.w.windowUpdate(id, 100);
    const frames = send();
    expect(frames.map((f) => [f.payload.toString(), f.flags])).toEqual([
      ['ef', 0],
      ['', 0],
      ['gh', Flag.END_STREAM],
    ]);
  });

  it('a larger INITIAL_WINDOW_SIZE from the peer writes queued data; a smaller one can make windows negative', () => {
    const { conn, peer, rec, send } = rawClient({}, [[SettingId.INITIAL_WINDOW_SIZE, 5]]);
    const id = conn.openStream({ method: 'POST', scheme: 'https', authority: 'h', path: '/', headers: [] }, false);
    conn.sendData(id, Buffer.from('0123456789'), false);
    peer.frames(rec.takeOut());
    peer.w.settings([[SettingId.INITIAL_WINDOW_SIZE, 8]]);
    let frames = send();
    expect(frames.filter((f) => f.type === FrameType.DATA).map((f) => f.payload.toString())).toEqual(['567']);
    peer.w.settings([[SettingId.INITIAL_WINDOW_SIZE, 2]]); // window 8 - 8 - 6 = -6
    send();
    peer.w.windowUpdate(id, 7);
    frames = send();
    expect(frames.filter((f) => f.type === FrameType.DATA).map((f) => f.payload.toString())).toEqual(['8']);
  });

  it('the connection window is shared round-robin between queued streams', () => {
    const { conn, peer, rec, send } = rawClient({}, [[SettingId.MAX_FRAME_SIZE, 16384]]);
    const a = conn.openStream({ method: 'POST', scheme: 'https', authority: 'h', path: '/a', headers: [] }, false);
    const b = conn.openStream({ method: 'POST', scheme: 'https', authority: 'h', path: '/b', headers: [] }, false);
    conn.sendData(a, Buffer.alloc(65535, 0x61), false); // uses the whole connection window
    expect(conn.sendData(a, Buffer.alloc(40000, 0x61), true)).toBe(false);
    expect(conn.sendData(b, Buffer.alloc(40000, 0x62), true)).toBe(false);
    peer.frames(rec.takeOut());
    peer.w.windowUpdate(a, 100000);
    peer.w.windowUpdate(b, 100000);
    peer.w.windowUpdate(0, 32768);
    const frames = send().filter((f) => f.type === FrameType.DATA);
    expect(frames.map((f) => [f.streamId, f.payload.length])).toEqual([
      [a, 16384],
      [b, 16384],
    ]);
  });

  it('window overflow: stream error on a stream, connection error on the connection', () => {
    const s1 = rawClient();
    const id = s1.conn.openStream(get(), false);
    s1.peer.w.windowUpdate(id, 0x7fffffff);
    s1.send();
    expect(s1.rec.of('streamError')[0]!.error.code).toBe(Http2ErrorCodes.FLOW_CONTROL);
    const s2 = rawClient();
    s2.peer.w.windowUpdate(0, 0x7fffffff);
    s2.send();
    expect(s2.rec.error?.code).toBe(Http2ErrorCodes.FLOW_CONTROL);
    const s3 = rawClient();
    s3.peer.w.windowUpdate(0, 0);
    s3.send();
    expect(s3.rec.error?.message).toMatch(/WINDOW_UPDATE of 0/);
  });
});
