/** Frame reading and writing: RFC 6455 section 5.7's examples, lengths, masking and the frame-local rules. */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  FrameReader,
  Opcode,
  RSV1,
  WebSocketError,
  WebSocketErrorCodes as C,
  applyMask,
  randomMaskKey,
  serializeFrame,
} from '../../src/proxy/websocket/index.js';
import { hex, pieces, thrown } from './helpers.js';

const client = () => new FrameReader({ masked: true });
const server = () => new FrameReader({ masked: false });

function readAll(r: FrameReader, ...chunks: Buffer[]) {
  const out = [];
  for (const c of chunks) {
    r.push(c);
    for (let f = r.read(); f; f = r.read()) out.push(f);
  }
  return out;
}

const errorOf = (fn: () => unknown): WebSocketError => thrown(fn, WebSocketError);

describe('FrameReader: RFC 6455 section 5.7 examples', () => {
  it('reads a single-frame unmasked text message', () => {
    const [f] = readAll(server(), hex('81 05 48 65 6c 6c 6f'));
    expect(f).toMatchObject({ fin: true, rsv: 0, opcode: Opcode.TEXT, masked: false });
    expect(f!.payload.toString()).toBe('Hello');
    expect(f!.raw).toEqual(hex('81 05 48 65 6c 6c 6f'));
  });

  it('reads and unmasks a single-frame masked text message, keeping the masked bytes as raw', () => {
    const wire = hex('81 85 37 fa 21 3d 7f 9f 4d 51 58');
    const [f] = readAll(client(), wire);
    expect(f!.masked).toBe(true);
    expect(f!.payload.toString()).toBe('Hello');
    expect(f!.raw.equals(wire)).toBe(true);
  });

  it('reads a fragmented unmasked text message as two frames', () => {
    const fs = readAll(server(), hex('01 03 48 65 6c 80 02 6c 6f'));
    expect(fs.map((f) => [f.fin, f.opcode, f.payload.toString()])).toEqual([
      [false, Opcode.TEXT, 'Hel'],
      [true, Opcode.CONTINUATION, 'lo'],
    ]);
  });

  it('reads ping and masked pong', () => {
    const [ping] = readAll(server(), hex('89 05 48 65 6c 6c 6f'));
    expect([ping!.opcode, ping!.payload.toString()]).toEqual([Opcode.PING, 'Hello']);
    const [pong] = readAll(client(), hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58'));
    expect([pong!.opcode, pong!.payload.toString()]).toEqual([Opcode.PONG, 'Hello']);
  });

  it('reads 16-bit and 64-bit lengths (256 bytes, 64 KiB)', () => {
    const p256 = Buffer.alloc(256, 7);
    const [a] = readAll(server(), Buffer.concat([hex('82 7e 01 00'), p256]));
    expect(a!.payload.equals(p256)).toBe(true);
    const p64k = Buffer.alloc(65536, 9);
    const [b] = readAll(server(), Buffer.concat([hex('82 7f 00 00 00 00 00 01 00 00'), p64k]));
    expect(b!.payload.length).toBe(65536);
    expect(b!.raw.length).toBe(10 + 65536);
  });
});

describe('FrameReader: incremental input', () => {
  const wire = Buffer.concat([
    hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'),
    serializeFrame({ opcode: Opcode.BINARY, payload: Buffer.alloc(300, 1), mask: hex('01 02 03 04') }),
    serializeFrame({ opcode: Opcode.PING, payload: Buffer.from('p'), mask: true }),
    serializeFrame({ opcode: Opcode.BINARY, payload: Buffer.alloc(70000, 2), mask: true }),
  ]);

  it.each([1, 2, 3, 7, 100, 4096])('gives the same frames when fed %i bytes at a time', (size) => {
    const whole = readAll(client(), wire).map((f) => [f.opcode, f.payload.toString('hex'), f.raw.toString('hex')]);
    const split = readAll(client(), ...pieces(wire, size)).map((f) => [
      f.opcode,
      f.payload.toString('hex'),
      f.raw.toString('hex'),
    ]);
    expect(split).toEqual(whole);
    expect(whole).toHaveLength(4);
  });

  it('returns views into the chunk when a frame fits in it (no copy)', () => {
    const chunk = hex('81 05 48 65 6c 6c 6f 81 02 68 69');
    const fs = readAll(server(), chunk);
    expect(fs[1]!.raw.buffer).toBe(chunk.buffer);
    expect(fs[1]!.raw.byteOffset).toBe(chunk.byteOffset + 7);
  });

  it('counts buffered bytes and the stream offset, and hands over the rest', () => {
    const r = server();
    r.push(hex('81 02 68 69 81 05 48'));
    expect(r.read()!.payload.toString()).toBe('hi');
    expect(r.read()).toBeNull();
    expect(r.offset).toBe(4);
    expect(r.bufferedBytes).toBe(3);
    r.push(hex('65'));
    expect(r.takeRemaining()).toEqual(hex('81 05 48 65'));
    expect(r.bufferedBytes).toBe(0);
  });
});

describe('FrameReader: frame rules', () => {
  it.each([
    ['reserved opcode 3', '83 00', server, C.RESERVED_OPCODE, 1002],
    ['reserved opcode 11', '8b 00', server, C.RESERVED_OPCODE, 1002],
    ['unmasked client frame', '81 00', client, C.MASK, 1002],
    ['masked server frame', '81 80 00 00 00 00', server, C.MASK, 1002],
    ['RSV1 without extension', 'c1 00', server, C.RESERVED_BITS, 1002],
    ['RSV2', 'a1 00', server, C.RESERVED_BITS, 1002],
    ['RSV3', '91 00', server, C.RESERVED_BITS, 1002],
    ['fragmented ping', '09 00', server, C.BAD_CONTROL_FRAME, 1002],
    ['close of 126 bytes', '88 7e 00 7e', server, C.BAD_CONTROL_FRAME, 1002],
    ['64-bit length with the top bit set', '82 7f 80 00 00 00 00 00 00 01', server, C.BAD_LENGTH, 1002],
  ])('%s is a protocol error', (_what, bytes, make, code, closeCode) => {
    const r = make();
    r.push(hex(bytes as string));
    const e = errorOf(() => r.read());
    expect(e.code).toBe(code);
    expect(e.closeCode).toBe(closeCode);
    expect(e.offset).toBe(0);
  });

  it('allows RSV1 on a first data frame when an extension defines it, not on continuation or control frames', () => {
    const r = new FrameReader({ masked: false, allowedRsv: RSV1 });
    r.push(hex('c1 00'));
    expect(r.read()!.rsv).toBe(RSV1);
    r.push(hex('c0 00'));
    expect(errorOf(() => r.read()).code).toBe(C.RESERVED_BITS);
    const r2 = new FrameReader({ masked: false, allowedRsv: RSV1 });
    r2.push(hex('c9 00'));
    expect(errorOf(() => r2.read()).code).toBe(C.RESERVED_BITS);
  });

  it('refuses a frame over maxPayload when its header arrives, before buffering it (close 1009)', () => {
    const r = new FrameReader({ masked: false, maxPayload: 1000 });
    r.push(hex('82 7f 00 00 00 00 02 00 00 00'));
    const e = errorOf(() => r.read());
    expect([e.code, e.closeCode, e.closeReason]).toEqual([C.TOO_BIG, 1009, 'message too big']);
    expect(e.message).toMatch(/33554432 bytes exceeds the limit of 1000/);
  });

  it('reports the stream offset of the bad frame', () => {
    const r = server();
    r.push(hex('81 01 61 81 01 62 83 00'));
    r.read();
    r.read();
    const e = errorOf(() => r.read());
    expect(e.offset).toBe(6);
    e.side = 'server';
    expect(e.describe()).toBe(
      'WebSocket protocol error from the server (frame at byte 6): reserved opcode: opcode 3 is reserved',
    );
  });
});

describe('serializeFrame', () => {
  it('writes RFC 6455 section 5.7 bytes', () => {
    expect(serializeFrame({ opcode: Opcode.TEXT, payload: Buffer.from('Hello') })).toEqual(hex('81 05 48 65 6c 6c 6f'));
    expect(serializeFrame({ opcode: Opcode.TEXT, payload: Buffer.from('Hello'), mask: hex('37 fa 21 3d') })).toEqual(
      hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'),
    );
    expect(serializeFrame({ opcode: Opcode.TEXT, fin: false, payload: Buffer.from('Hel') })).toEqual(
      hex('01 03 48 65 6c'),
    );
    expect(serializeFrame({ opcode: Opcode.TEXT, rsv: RSV1, payload: hex('f2 48 cd c9 c9 07 00') })).toEqual(
      hex('c1 07 f2 48 cd c9 c9 07 00'),
    );
  });

  it.each([0, 125, 126, 65535, 65536, 200000])(
    'uses the shortest length form and reads back (%i bytes, masked and not)',
    (n) => {
      const payload = Buffer.alloc(n);
      for (let i = 0; i < n; i++) payload[i] = i & 0xff;
      const unmasked = serializeFrame({ opcode: Opcode.BINARY, payload });
      expect(unmasked.length).toBe(n + (n < 126 ? 2 : n < 65536 ? 4 : 10));
      expect(readAll(server(), unmasked)[0]!.payload.equals(payload)).toBe(true);
      const masked = serializeFrame({ opcode: Opcode.BINARY, payload, mask: true });
      expect(masked.length).toBe(unmasked.length + 4);
      expect(readAll(client(), masked)[0]!.payload.equals(payload)).toBe(true);
    },
  );

  it('draws different masking keys', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 2000; i++) keys.add(randomMaskKey().toString('hex'));
    expect(keys.size).toBeGreaterThan(1990);
  });

  it('applyMask is its own inverse at any offset and length', () => {
    const key = hex('a1 b2 c3 d4');
    for (const n of [0, 1, 3, 4, 5, 17]) {
      const src = Buffer.from(Array.from({ length: n + 3 }, (_, i) => i * 7));
      const once = Buffer.alloc(n);
      applyMask(src, 3, 3 + n, key, once, 0);
      const twice = Buffer.alloc(n);
      applyMask(once, 0, n, key, twice, 0);
      expect(twice.equals(src.subarray(3))).toBe(true);
    }
  });
});
