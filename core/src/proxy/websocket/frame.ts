/**
 * WebSocket frames (RFC 6455 section 5.2): opcodes, the parsed frame, masking and serialization.
 *
 * ```
 *  0               1               2               3
 *  F R R R opcode  M len7          [len16 | len64] [masking key]  payload
 * ```
 */
import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';

/** Frame opcodes (RFC 6455 section 5.2). 3-7 and 11-15 are reserved. */
export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** RSV1: set on the first frame of a permessage-deflate compressed message (RFC 7692 section 6). */
export const RSV1 = 0x4;
/** RSV2. No extension we know uses it. */
export const RSV2 = 0x2;
/** RSV3. No extension we know uses it. */
export const RSV3 = 0x1;

/** Largest payload of a control frame (RFC 6455 section 5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/** Whether `opcode` is a control frame's (close, ping, pong, or reserved 11-15). */
export const isControl = (opcode: number): boolean => (opcode & 0x8) !== 0;

/** One frame as read from the wire. */
export interface Frame {
  /** FIN: last frame of its message (always true for control frames). */
  fin: boolean;
  /** The three RSV bits as a number: {@link RSV1} | {@link RSV2} | {@link RSV3}. */
  rsv: number;
  opcode: number;
  /** Whether the frame carried a masking key (client-to-server frames do). */
  masked: boolean;
  /** Payload, unmasked. A view into {@link raw} for unmasked frames, a fresh copy for masked ones. */
  payload: Buffer;
  /** The frame exactly as received: header, masking key and (masked) payload. */
  raw: Buffer;
}

/** What to write in a frame built by {@link serializeFrame}. */
export interface FrameInit {
  /** Default true. */
  fin?: boolean;
  /** RSV bits, default 0. */
  rsv?: number;
  opcode: number;
  payload: Buffer;
  /**
   * Mask the payload (frames to a server must be masked): `true` for a random key from the key
   * pool, or a 4-byte key. Default false.
   */
  mask?: boolean | Buffer;
}

/** XOR `src[from, to)` with `key` (key index 0 at `from`) into `dst` starting at `dstOff`. */
export function applyMask(
  src: Buffer,
  from: number,
  to: number,
  key: Buffer | Uint8Array,
  dst: Buffer,
  dstOff: number,
): void {
  xorMask(src, from, to, key[0]!, key[1]!, key[2]!, key[3]!, dst, dstOff);
}

/**
 * {@link applyMask} with the key as four bytes (no view made for a key inside a frame). Returns
 * the OR of the bytes written: below 0x80 when they are all ASCII (a text message that needs no
 * further UTF-8 check).
 */
export function xorMask(
  src: Buffer,
  from: number,
  to: number,
  k0: number,
  k1: number,
  k2: number,
  k3: number,
  dst: Buffer,
  dstOff: number,
): number {
  let i = from;
  let o = dstOff;
  let bits = 0;
  const end4 = to - ((to - from) & 3);
  while (i < end4) {
    const a = src[i]! ^ k0;
    const b = src[i + 1]! ^ k1;
    const c = src[i + 2]! ^ k2;
    const d = src[i + 3]! ^ k3;
    dst[o] = a;
    dst[o + 1] = b;
    dst[o + 2] = c;
    dst[o + 3] = d;
    bits |= a | b | c | d;
    i += 4;
    o += 4;
  }
  if (i < to) bits |= dst[o++] = src[i++]! ^ k0;
  if (i < to) bits |= dst[o++] = src[i++]! ^ k1;
  if (i < to) bits |= dst[o] = src[i]! ^ k2;
  return bits;
}

// Masking keys must be unpredictable (RFC 6455 section 10.3); fetching them from the CSPRNG 4 bytes
// at a time costs a syscall-sized call per frame, so keys come from a pool refilled 4 KiB at once.
const KEY_POOL = Buffer.alloc(4096);
let keyPos = KEY_POOL.length;

/** A fresh random masking key (a view into a pool: copy it if it must outlive the next 1,023 keys). */
export function randomMaskKey(): Buffer {
  if (keyPos === KEY_POOL.length) {
    randomFillSync(KEY_POOL);
    keyPos = 0;
  }
  keyPos += 4;
  return KEY_POOL.subarray(keyPos - 4, keyPos);
}

/** Size of a frame header for this payload length (without masking key). */
export function headerSize(payloadLength: number): number {
  return payloadLength < 126 ? 2 : payloadLength < 0x10000 ? 4 : 10;
}

/**
 * One frame's bytes, in a single Buffer. Lengths use the shortest form (RFC 6455 section 5.2:
 * "the minimal number of bytes MUST be used"). Control frame rules are the caller's business
 * (see {@link serializeClose} for close frames).
 */
export function serializeFrame(init: FrameInit): Buffer {
  const { payload } = init;
  const len = payload.length;
  const key = init.mask === true ? randomMaskKey() : init.mask || null;
  const head = headerSize(len);
  const out = Buffer.allocUnsafe(head + (key ? 4 : 0) + len);
  out[0] = (init.fin === false ? 0 : 0x80) | ((init.rsv ?? 0) << 4) | init.opcode;
  const maskBit = key ? 0x80 : 0;
  if (len < 126) out[1] = maskBit | len;
  else if (len < 0x10000) {
    out[1] = maskBit | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = maskBit | 127;
    out.writeUInt32BE(Math.floor(len / 0x100000000), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
  if (key) {
    out[head] = key[0]!;
    out[head + 1] = key[1]!;
    out[head + 2] = key[2]!;
    out[head + 3] = key[3]!;
    applyMask(payload, 0, len, key, out, head + 4);
  } else payload.copy(out, head);
  return out;
}
