/**
 * Frame parsing helpers (RFC 9113 section 4 and 6): the frame header, the fixed-layout payloads,
 * and a whole-frame splitter for tools and tests. The connection reads DATA and HEADERS inline;
 * these serve the rarer frames and anyone who wants to look at a byte stream.
 */
import { Buffer } from 'node:buffer';
import { view } from '../http1/chars.js';
import { FRAME_HEADER_SIZE, Flag, FrameType } from './constants.js';

/** A frame header. */
export interface FrameHeader {
  length: number;
  type: number;
  flags: number;
  streamId: number;
}

/** A whole frame: header and payload (a view, padding included). */
export interface Frame extends FrameHeader {
  payload: Buffer;
}

/** The frame header at `buf[off..off+9)`. */
export function readFrameHeader(buf: Buffer, off = 0): FrameHeader {
  return {
    length: (buf[off]! << 16) | (buf[off + 1]! << 8) | buf[off + 2]!,
    type: buf[off + 3]!,
    flags: buf[off + 4]!,
    streamId: buf.readUInt32BE(off + 5) & 0x7fffffff,
  };
}

/**
 * Splits bytes into whole frames. Returns the frames and the bytes of an incomplete last frame.
 * No size limit is applied: this is for looking at trusted bytes (tests, logs).
 */
export function splitFrames(buf: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let off = 0;
  while (buf.length - off >= FRAME_HEADER_SIZE) {
    const h = readFrameHeader(buf, off);
    if (buf.length - off - FRAME_HEADER_SIZE < h.length) break;
    const start = off + FRAME_HEADER_SIZE;
    frames.push({ ...h, payload: view(buf, start, start + h.length) });
    off = start + h.length;
  }
  return { frames, rest: buf.subarray(off) };
}

/**
 * The content of a DATA or HEADERS payload without the padding (and, for HEADERS, without the
 * priority fields): `[start, end)` in `payload`, or null if the pad length is not smaller than
 * what it pads (a PROTOCOL_ERROR, RFC 9113 sections 6.1 and 6.2).
 */
export function unpadded(type: number, flags: number, payload: Buffer): { start: number; end: number } | null {
  let start = 0;
  let end = payload.length;
  if (flags & Flag.PADDED) {
    if (end < 1) return null;
    const pad = payload[0]!;
    start = 1;
    end -= pad;
  }
  if (type === FrameType.HEADERS && flags & Flag.PRIORITY) start += 5;
  return end < start ? null : { start, end };
}

/** Priority fields (of a PRIORITY frame, or of HEADERS with the PRIORITY flag). */
export interface PriorityFields {
  exclusive: boolean;
  dependency: number;
  /** 1-256. */
  weight: number;
}

/** The 5 priority bytes at `buf[off..]`. */
export function readPriority(buf: Buffer, off: number): PriorityFields {
  const v = buf.readUInt32BE(off);
  return { exclusive: (v & 0x80000000) !== 0, dependency: v & 0x7fffffff, weight: buf[off + 4]! + 1 };
}

/** SETTINGS entries as `[id, value]` pairs; null if the length is not a multiple of 6. */
export function readSettings(payload: Buffer): Array<[number, number]> | null {
  if (payload.length % 6 !== 0) return null;
  const out: Array<[number, number]> = [];
  for (let off = 0; off < payload.length; off += 6)
    out.push([payload.readUInt16BE(off), payload.readUInt32BE(off + 2)]);
  return out;
}

/** GOAWAY fields; null if shorter than 8 bytes. `debug` is a view. */
export function readGoaway(payload: Buffer): { lastStreamId: number; errorCode: number; debug: Buffer } | null {
  if (payload.length < 8) return null;
  return {
    lastStreamId: payload.readUInt32BE(0) & 0x7fffffff,
    errorCode: payload.readUInt32BE(4),
    debug: payload.subarray(8),
  };
}
