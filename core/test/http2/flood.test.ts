/**
 * Flood hardening: bounded work per connection, then GOAWAY ENHANCE_YOUR_CALM (or the error the
 * RFC names). The clock is injected, so rates are exact.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { ErrorCode, Flag, FrameType, Http2ErrorCodes } from '../../src/proxy/http2/index.js';
import { REQ, rawServer } from './helpers.js';

function clock() {
  const c = { t: 1000, now: () => c.t };
  return c;
}

function expectCalm(
  r: ReturnType<typeof rawServer>,
  frames: ReturnType<ReturnType<typeof rawServer>['send']>,
  what: RegExp,
): void {
  expect(r.rec.error).toMatchObject({ code: Http2ErrorCodes.FLOOD, errorCode: ErrorCode.ENHANCE_YOUR_CALM });
  expect(r.rec.error!.message).toMatch(what);
  const goaway = frames.find((f) => f.type === FrameType.GOAWAY)!;
  expect(goaway.payload.readUInt32BE(4)).toBe(ErrorCode.ENHANCE_YOUR_CALM);
  expect(r.conn.isClosed).toBe(true);
}

describe('flood guards', () => {
  it('rapid reset (CVE-2023-44487): a burst of open+reset streams ends the connection', () => {
    const ck = clock();
    const r = rawServer({ now: ck.now, floods: { resets: { burst: 50, perSecond: 10 } } });
    for (let id = 1; id <= 2 * 60; id += 2) {
      r.peer.w.headers(id, r.peer.block(REQ), Flag.END_HEADERS | Flag.END_STREAM);
      r.peer.w.rstStream(id, ErrorCode.CANCEL);
    }
    const frames = r.send();
    expectCalm(r, frames, /stream resets \(rapid reset\)/);
    // handlers saw at most the burst: the work was bounded
    expect(r.rec.of('headers').length).toBeLessThanOrEqual(51);
  });

  it('the same resets spread out in time are fine', () => {
    const ck = clock();
    const r = rawServer({ now: ck.now, floods: { resets: { burst: 50, perSecond: 10 } } });
    for (let id = 1; id <= 2 * 200; id += 2) {
      r.peer.w.headers(id, r.peer.block(REQ), Flag.END_HEADERS | Flag.END_STREAM);
      r.peer.w.rstStream(id, ErrorCode.CANCEL);
      r.send();
      ck.t += 100;
    }
    expect(r.rec.error).toBeUndefined();
    expect(r.rec.of('reset')).toHaveLength(200);
  });

  it('refused streams count as resets (a client ignoring MAX_CONCURRENT_STREAMS)', () => {
    const r = rawServer({ maxConcurrentStreams: 1, floods: { resets: { burst: 20, perSecond: 1 } }, now: clock().now });
    for (let id = 1; id <= 61; id += 2) r.peer.w.headers(id, r.peer.block(REQ), Flag.END_HEADERS);
    expectCalm(r, r.send(), /stream errors/);
  });

  it('CONTINUATION flood: too many CONTINUATION frames in one block', () => {
    const r = rawServer();
    r.peer.w.headers(1, Buffer.alloc(0), 0);
    for (let i = 0; i < 20; i++) r.peer.w.continuation(1, Buffer.from([0x82]), false);
    expectCalm(r, r.send(), /more than 16 CONTINUATION frames/);
  });

  it('CONTINUATION flood: a header block over maxHeaderBlockSize, without END_HEADERS', () => {
    const r = rawServer({ maxHeaderBlockSize: 4096, floods: { maxContinuations: 1000 } });
    r.peer.w.headers(1, Buffer.alloc(1000, 0x82), 0);
    for (let i = 0; i < 10; i++) r.peer.w.continuation(1, Buffer.alloc(1000, 0x82), false);
    expectCalm(r, r.send(), /header block on stream 1 over 4096 bytes/);
  });

  it('SETTINGS flood', () => {
    const r = rawServer({ now: clock().now, floods: { settings: { burst: 20, perSecond: 1 } } });
    for (let i = 0; i < 30; i++) r.peer.w.settings([]);
    const frames = r.send();
    expectCalm(r, frames, /SETTINGS frames/);
    expect(frames.filter((f) => f.type === FrameType.SETTINGS && f.flags & Flag.ACK).length).toBeLessThanOrEqual(20);
  });

  it('PING flood', () => {
    const r = rawServer({ now: clock().now, floods: { pings: { burst: 20, perSecond: 1 } } });
    for (let i = 0; i < 30; i++) r.peer.w.ping(Buffer.alloc(8));
    const frames = r.send();
    expectCalm(r, frames, /PING frames/);
    expect(frames.filter((f) => f.type === FrameType.PING).length).toBeLessThanOrEqual(20);
  });

  it('empty DATA flood, and zero-length CONTINUATION, PRIORITY and unknown frames count the same', () => {
    for (const build of [
      (r: ReturnType<typeof rawServer>) => {
        r.peer.w.headers(1, r.peer.block([[':method', 'POST'], ...REQ.slice(1)]), Flag.END_HEADERS);
        for (let i = 0; i < 40; i++) r.peer.w.data(1, Buffer.alloc(0), false);
      },
      (r: ReturnType<typeof rawServer>) => {
        for (let i = 0; i < 40; i++) r.peer.w.priority(1 + 2 * i, 0, 16);
      },
      (r: ReturnType<typeof rawServer>) => {
        for (let i = 0; i < 40; i++) r.peer.w.frame(0xee, 0, 0, Buffer.alloc(0));
      },
    ]) {
      const r = rawServer({ now: clock().now, floods: { emptyFrames: { burst: 30, perSecond: 1 } } });
      build(r);
      expectCalm(r, r.send(), /too many/);
    }
  });

  it('HPACK bomb: a header list over maxHeaderListSize is a stream error, and the next request still decodes', () => {
    const r = rawServer({ maxHeaderListSize: 4096 });
    // a 3000-byte entry, then 100 references to it: 300 KB decoded from ~3 KB
    const first = r.peer.block([...REQ, ['x-big', 'a'.repeat(3000)]]);
    r.peer.w.headers(1, first, Flag.END_HEADERS | Flag.END_STREAM);
    const bomb = Buffer.concat([r.peer.block(REQ), Buffer.alloc(100, 0xbe)]);
    r.peer.w.headers(3, bomb, Flag.END_HEADERS | Flag.END_STREAM);
    r.peer.w.headers(5, r.peer.block([...REQ, ['x-after', 'ok']]), Flag.END_HEADERS | Flag.END_STREAM);
    r.send();
    expect(r.rec.of('streamError')[0]!.error).toMatchObject({
      code: Http2ErrorCodes.HEADER_LIST_TOO_LARGE,
      streamId: 3,
    });
    expect(r.rec.of('headers').map((h) => h.id)).toEqual([1, 5]);
    expect(r.rec.of('headers')[1]!.head.headers.map(([n]) => n.toString())).toEqual(['x-after']);
    expect(r.conn.isClosed).toBe(false);
  });

  it('a frame over our SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR before its payload is buffered', () => {
    const r = rawServer();
    const h = Buffer.from([0x01, 0x00, 0x00, FrameType.PING, 0, 0, 0, 0, 0]); // 65536-byte PING, header only
    r.conn.receive(h);
    expect(r.rec.error).toMatchObject({ code: Http2ErrorCodes.FRAME_SIZE, errorCode: ErrorCode.FRAME_SIZE_ERROR });
  });
});
