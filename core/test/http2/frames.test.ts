/**
 * Frame serialization and parsing (RFC 9113 section 4 and 6): every frame type written by
 * FrameWriter and read back by the parsing helpers, byte layouts checked against the RFC.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  Flag,
  FrameType,
  FrameWriter,
  readFrameHeader,
  readGoaway,
  readPriority,
  readSettings,
  splitFrames,
  unpadded,
} from '../../src/proxy/http2/index.js';

const write = (f: (w: FrameWriter) => void): Buffer => {
  const w = new FrameWriter();
  f(w);
  return w.take();
};

describe('frames', () => {
  it('the 9-byte header: 24-bit length, type, flags, 31-bit stream id (reserved bit cleared)', () => {
    const b = write((w) => w.header(0x123456, 0xfe, 0xa5, 0x7fffffff));
    expect(b.toString('hex')).toBe('123456' + 'fe' + 'a5' + '7fffffff');
    const raw = Buffer.from('0000000000' + 'ffffffff', 'hex');
    expect(readFrameHeader(raw)).toEqual({ length: 0, type: 0, flags: 0, streamId: 0x7fffffff });
  });

  it('DATA with padding: pad length byte, data, zeros; unpadded() finds the data', () => {
    const b = write((w) => w.data(3, Buffer.from('abc'), true, 4));
    const [f] = splitFrames(b).frames;
    expect(f).toMatchObject({ type: FrameType.DATA, flags: Flag.END_STREAM | Flag.PADDED, streamId: 3, length: 8 });
    expect(f!.payload.toString('hex')).toBe('04' + '616263' + '00000000');
    const r = unpadded(f!.type, f!.flags, f!.payload)!;
    expect(f!.payload.subarray(r.start, r.end).toString()).toBe('abc');
    expect(unpadded(FrameType.DATA, Flag.PADDED, Buffer.from([9, 1, 2]))).toBeNull();
  });

  it('HEADERS with padding and priority; PRIORITY; CONTINUATION; PUSH_PROMISE', () => {
    const b = write((w) => {
      w.headers(1, Buffer.from([0x82]), Flag.END_HEADERS, {
        padding: 2,
        priority: { dependency: 5, weight: 256, exclusive: true },
      });
      w.priority(7, 3, 1);
      w.continuation(1, Buffer.from([0x84]), true);
      w.pushPromise(1, 2, Buffer.from([0x86]), true);
    });
    const [h, p, c, pp] = splitFrames(b).frames;
    expect(h!.payload.toString('hex')).toBe('02' + '80000005' + 'ff' + '82' + '0000');
    const r = unpadded(h!.type, h!.flags, h!.payload)!;
    expect(h!.payload.subarray(r.start, r.end)).toEqual(Buffer.from([0x82]));
    expect(readPriority(h!.payload, 1)).toEqual({ exclusive: true, dependency: 5, weight: 256 });
    expect([p!.type, p!.streamId, p!.payload.toString('hex')]).toEqual([FrameType.PRIORITY, 7, '0000000300']);
    expect([c!.type, c!.flags]).toEqual([FrameType.CONTINUATION, Flag.END_HEADERS]);
    expect([pp!.type, pp!.payload.toString('hex')]).toEqual([FrameType.PUSH_PROMISE, '00000002' + '86']);
  });

  it('RST_STREAM, SETTINGS (+ACK), PING (+ACK), GOAWAY, WINDOW_UPDATE, unknown types', () => {
    const b = write((w) => {
      w.rstStream(9, ErrorCode.CANCEL);
      w.settings([
        [0x3, 100],
        [0x4, 65536],
      ]);
      w.settings([], true);
      w.ping(Buffer.from('01234567'), true);
      w.goaway(11, ErrorCode.ENHANCE_YOUR_CALM, Buffer.from('calm'));
      w.windowUpdate(0, 0x7fffffff);
      w.frame(0xbb, 0x0f, 3, Buffer.from('x'));
    });
    const { frames, rest } = splitFrames(b);
    expect(rest.length).toBe(0);
    expect(frames.map((f) => [f.type, f.flags, f.streamId, f.length])).toEqual([
      [FrameType.RST_STREAM, 0, 9, 4],
      [FrameType.SETTINGS, 0, 0, 12],
      [FrameType.SETTINGS, Flag.ACK, 0, 0],
      [FrameType.PING, Flag.ACK, 0, 8],
      [FrameType.GOAWAY, 0, 0, 12],
      [FrameType.WINDOW_UPDATE, 0, 0, 4],
      [0xbb, 0x0f, 3, 1],
    ]);
    expect(frames[0]!.payload.readUInt32BE(0)).toBe(ErrorCode.CANCEL);
    expect(readSettings(frames[1]!.payload)).toEqual([
      [3, 100],
      [4, 65536],
    ]);
    expect(readSettings(Buffer.alloc(7))).toBeNull();
    expect(frames[3]!.payload.toString()).toBe('01234567');
    const g = readGoaway(frames[4]!.payload)!;
    expect([g.lastStreamId, g.errorCode, g.debug.toString()]).toEqual([11, ErrorCode.ENHANCE_YOUR_CALM, 'calm']);
    expect(readGoaway(Buffer.alloc(7))).toBeNull();
    expect(frames[5]!.payload.readUInt32BE(0)).toBe(0x7fffffff);
  });

  it('large DATA payloads are not copied into the slab; small frames share one piece', () => {
    const big = Buffer.alloc(100_000, 1);
    const w = new FrameWriter();
    w.windowUpdate(0, 1);
    w.data(1, big, false);
    w.ping(Buffer.alloc(8));
    const pieces: Buffer[] = [];
    w.drain((p) => pieces.push(p));
    expect(pieces.map((p) => p.length)).toEqual([13 + 9, 100_000, 17]);
    expect(pieces[1]).toBe(big);
  });

  it('a slab region handed out is never written again', () => {
    const w = new FrameWriter(64);
    const out: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      w.windowUpdate(1, i + 1);
      w.drain((p) => out.push(p));
    }
    const { frames } = splitFrames(Buffer.concat(out));
    expect(frames.map((f) => f.payload.readUInt32BE(0))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});
