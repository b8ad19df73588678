/** Message reassembly, incremental UTF-8 validation and close payloads. */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  CloseCode,
  type Frame,
  FrameReader,
  MessageAssembler,
  Opcode,
  RSV1,
  Utf8Validator,
  WebSocketError,
  WebSocketErrorCodes as C,
  closePayload,
  isValidCloseCode,
  parseClosePayload,
  serializeFrame,
} from '../../src/proxy/websocket/index.js';
import { hex, splits, thrown } from './helpers.js';

function frame(opcode: number, payload: string | Buffer, fin = true, rsv = 0): Frame {
  const wire = serializeFrame({
    opcode,
    payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
    fin,
    rsv,
  });
  const r = new FrameReader({ masked: false, allowedRsv: RSV1 });
  r.push(wire);
  return r.read()!;
}

const fails = (fn: () => unknown): WebSocketError => thrown(fn, WebSocketError);

describe('MessageAssembler', () => {
  it('passes single-frame messages through with their raw frame', () => {
    const a = new MessageAssembler();
    const f = frame(Opcode.BINARY, 'abc');
    const m = a.add(f)!;
    expect(m).toMatchObject({ opcode: Opcode.BINARY, compressed: false, size: 3 });
    expect(m.frames).toEqual([f.raw]);
    expect(a.inProgress).toBe(false);
  });

  it('collects fragments, keeping every original frame', () => {
    const a = new MessageAssembler();
    const fs = [
      frame(Opcode.TEXT, 'He', false),
      frame(Opcode.CONTINUATION, 'll', false),
      frame(Opcode.CONTINUATION, 'o'),
    ];
    expect(a.add(fs[0]!)).toBeNull();
    expect(a.inProgress).toBe(true);
    expect(a.add(fs[1]!)).toBeNull();
    const m = a.add(fs[2]!)!;
    expect(Buffer.concat(m.payloads).toString()).toBe('Hello');
    expect(m.frames).toEqual(fs.map((f) => f.raw));
    expect(m.size).toBe(5);
  });

  it('marks compressed messages by RSV1 of the first frame', () => {
    const a = new MessageAssembler();
    expect(a.add(frame(Opcode.TEXT, hex('f2 48 cd'), false, RSV1))).toBeNull();
    expect(a.add(frame(Opcode.CONTINUATION, hex('c9 c9 07 00')))!.compressed).toBe(true);
  });

  it('refuses continuation without a message, and a new message inside a fragmented one', () => {
    expect(fails(() => new MessageAssembler().add(frame(Opcode.CONTINUATION, 'x'))).code).toBe(C.BAD_FRAGMENTATION);
    const a = new MessageAssembler();
    a.add(frame(Opcode.TEXT, 'x', false));
    const e = fails(() => a.add(frame(Opcode.BINARY, 'y')));
    expect([e.code, e.closeCode]).toEqual([C.BAD_FRAGMENTATION, 1002]);
  });

  it('enforces the message size across fragments (close 1009) and the frame count', () => {
    const a = new MessageAssembler({ maxMessageSize: 10 });
    a.add(frame(Opcode.BINARY, Buffer.alloc(6), false));
    const e = fails(() => a.add(frame(Opcode.CONTINUATION, Buffer.alloc(5))));
    expect([e.code, e.closeCode, e.closeReason]).toEqual([C.TOO_BIG, 1009, 'message too big']);
    expect(new MessageAssembler({ maxMessageSize: 10 }).add(frame(Opcode.BINARY, Buffer.alloc(10)))!.size).toBe(10);
    const b = new MessageAssembler({ maxFrames: 3 });
    b.add(frame(Opcode.BINARY, 'a', false));
    b.add(frame(Opcode.CONTINUATION, 'b', false));
    b.add(frame(Opcode.CONTINUATION, 'c', false));
    expect(fails(() => b.add(frame(Opcode.CONTINUATION, 'd'))).code).toBe(C.TOO_BIG);
  });

  it('allows compressed messages DEFLATE overhead over the limit on the wire', () => {
    const a = new MessageAssembler({ maxMessageSize: 65536 });
    expect(a.wireLimit(false)).toBe(65536);
    expect(a.wireLimit(true)).toBe(65536 + 8 + 64);
  });

  it('checks text fragment by fragment: fails at the first bad fragment', () => {
    const a = new MessageAssembler();
    expect(a.add(frame(Opcode.TEXT, Buffer.from([0x68, 0xe2, 0x82]), false))).toBeNull(); // "h" + half of "€"
    expect(Buffer.concat(a.add(frame(Opcode.CONTINUATION, Buffer.from([0xac])))!.payloads).toString()).toBe('h€');
    const b = new MessageAssembler();
    const e = fails(() => b.add(frame(Opcode.TEXT, Buffer.from([0x61, 0xff]), false)));
    expect([e.code, e.closeCode]).toEqual([C.INVALID_UTF8, 1007]);
    // not checked when compressed: the payload is DEFLATE data
    expect(new MessageAssembler().add(frame(Opcode.TEXT, Buffer.from([0xff]), true, RSV1))!.compressed).toBe(true);
  });

  it('does not check binary messages', () => {
    expect(new MessageAssembler().add(frame(Opcode.BINARY, Buffer.from([0xff, 0xfe])))!.size).toBe(2);
  });
});

describe('Utf8Validator', () => {
  const valid = ['', 'plain ascii', 'h€llo', 'κόσμε', '𝄞 clef', 'mixed: é€𝄞 end', '\u{10ffff}', '\u{d7ff}\u{e000}'];
  it.each(valid)('accepts %j split at every point', (s) => {
    const b = Buffer.from(s, 'utf8');
    for (const [x, y] of splits(b)) {
      const v = new Utf8Validator();
      expect(v.push(x, false) && v.push(y, true)).toBe(true);
    }
    // three pieces, byte by byte
    const v = new Utf8Validator();
    for (let i = 0; i < b.length; i++) expect(v.push(b.subarray(i, i + 1), i === b.length - 1)).toBe(true);
  });

  const invalid: Array<[string, number[]]> = [
    ['lone continuation', [0x80]],
    ['overlong slash', [0xc0, 0xaf]],
    ['overlong 3-byte', [0xe0, 0x80, 0xaf]],
    ['surrogate', [0xed, 0xa0, 0x80]],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['0xff', [0x61, 0xff]],
    ['truncated at the end', [0x61, 0xe2, 0x82]],
    ['lead followed by ascii', [0xe2, 0x41, 0x41]],
  ];
  it.each(invalid)('refuses %s, however it is split', (_what, bytes) => {
    const b = Buffer.from(bytes);
    for (const [x, y] of splits(b)) {
      const v = new Utf8Validator();
      expect(v.push(x, false) && v.push(y, true)).toBe(false);
    }
  });

  it('fails early on a prefix that cannot become valid (surrogate half in the first fragment)', () => {
    expect(new Utf8Validator().push(Buffer.from([0x61, 0xed, 0xa0]), false)).toBe(false);
    expect(new Utf8Validator().push(Buffer.from([0x61, 0xed, 0x9f]), false)).toBe(true);
  });
});

describe('close payloads', () => {
  it('parses empty, code only, and code with reason', () => {
    expect(parseClosePayload(Buffer.alloc(0))).toEqual({ code: CloseCode.NO_STATUS, reason: '' });
    expect(parseClosePayload(hex('03 e8'))).toEqual({ code: 1000, reason: '' });
    expect(parseClosePayload(Buffer.concat([hex('0f a0'), Buffer.from('bye ✓')]))).toEqual({
      code: 4000,
      reason: 'bye ✓',
    });
  });

  it.each([
    ['one byte', '03', C.BAD_CLOSE, 1002],
    ['code 999', '03 e7', C.BAD_CLOSE, 1002],
    ['code 1005', '03 ed', C.BAD_CLOSE, 1002],
    ['code 1006', '03 ee', C.BAD_CLOSE, 1002],
    ['code 1015', '03 f7', C.BAD_CLOSE, 1002],
    ['code 2999', '0b b7', C.BAD_CLOSE, 1002],
    ['code 5000', '13 88', C.BAD_CLOSE, 1002],
    ['reason not UTF-8', '03 e8 ff', C.INVALID_UTF8, 1007],
  ])('refuses %s', (_what, bytes, code, closeCode) => {
    const e = fails(() => parseClosePayload(hex(bytes)));
    expect([e.code, e.closeCode]).toEqual([code, closeCode]);
  });

  it('knows which codes may be sent', () => {
    const ok = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999];
    const bad = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535];
    expect(ok.every(isValidCloseCode)).toBe(true);
    expect(bad.some(isValidCloseCode)).toBe(false);
  });

  it('writes code and reason, cutting a long reason on a character boundary', () => {
    expect(closePayload(1000)).toEqual(hex('03 e8'));
    const long = closePayload(1001, '€'.repeat(60));
    expect(long.length).toBeLessThanOrEqual(125);
    expect(parseClosePayload(long).reason).toBe('€'.repeat(41));
    expect(() => closePayload(1006)).toThrow(/1006 may not be sent/);
  });
});
