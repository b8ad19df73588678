/**
 * Frame serialization into slabs: frames are written back to back into a large Buffer and handed
 * out as views of it, so a batch of small frames costs one allocation per slab and one write. A
 * region once handed out is never written again. Large DATA payloads are not copied: they go
 * out as their own piece.
 */
import { Buffer } from 'node:buffer';
import { view } from '../http1/chars.js';
import { FRAME_HEADER_SIZE, Flag, FrameType } from './constants.js';

const SLAB_SIZE = 64 * 1024;
/** DATA payloads up to this size are copied into the slab (one write); larger ones go out as they are. */
const COPY_LIMIT = 2048;

export class FrameWriter {
  /** The current slab; bytes `[start, pos)` are written but not handed out yet. */
  buf: Buffer;
  pos = 0;
  private start = 0;
  private readonly pieces: Buffer[] = [];
  private piecesBytes = 0;

  constructor(slabSize = SLAB_SIZE) {
    this.buf = Buffer.allocUnsafe(slabSize);
  }

  /** Bytes written and not yet taken. */
  get pending(): number {
    return this.piecesBytes + this.pos - this.start;
  }

  /** Makes room for `n` contiguous bytes at `pos`. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.cut();
    this.buf = Buffer.allocUnsafe(Math.max(SLAB_SIZE, n));
    this.pos = 0;
    this.start = 0;
  }

  /** Hands every pending piece to `write`, in order. */
  drain(write: (data: Buffer) => void): void {
    this.cut();
    const pieces = this.pieces;
    if (pieces.length === 0) return;
    if (pieces.length === 1) {
      const p = pieces[0]!;
      pieces.length = 0;
      this.piecesBytes = 0;
      write(p);
      return;
    }
    const all = pieces.splice(0);
    this.piecesBytes = 0;
    for (let i = 0; i < all.length; i++) write(all[i]!);
  }

  /** Everything pending as one Buffer (tests, and callers that want one chunk). */
  take(): Buffer {
    this.cut();
    const all = this.pieces.splice(0);
    this.piecesBytes = 0;
    return all.length === 1 ? all[0]! : Buffer.concat(all);
  }

  /** Appends bytes as they are (no copy if large). */
  raw(data: Buffer): void {
    if (data.length <= COPY_LIMIT) {
      this.ensure(data.length);
      data.copy(this.buf, this.pos);
      this.pos += data.length;
    } else {
      this.cut();
      this.pieces.push(data);
      this.piecesBytes += data.length;
    }
  }

  /** A 9-byte frame header (RFC 9113 section 4.1). */
  header(length: number, type: number, flags: number, streamId: number): void {
    this.ensure(FRAME_HEADER_SIZE);
    const b = this.buf;
    let p = this.pos;
    b[p++] = (length >>> 16) & 0xff;
    b[p++] = (length >>> 8) & 0xff;
    b[p++] = length & 0xff;
    b[p++] = type;
    b[p++] = flags;
    b[p++] = (streamId >>> 24) & 0x7f;
    b[p++] = (streamId >>> 16) & 0xff;
    b[p++] = (streamId >>> 8) & 0xff;
    b[p++] = streamId & 0xff;
    this.pos = p;
  }

  /** Rewrites the 24-bit length of the frame header at `at` (a header written with a placeholder). */
  patchLength(at: number, length: number): void {
    this.buf[at] = (length >>> 16) & 0xff;
    this.buf[at + 1] = (length >>> 8) & 0xff;
    this.buf[at + 2] = length & 0xff;
  }

  /** A DATA frame; `padding` (0-255) adds the PADDED flag and that many zero bytes. */
  data(streamId: number, payload: Buffer, endStream: boolean, padding?: number): void {
    const padded = padding !== undefined;
    if (payload.length <= COPY_LIMIT) this.ensure(FRAME_HEADER_SIZE + 256 + payload.length);
    const flags = (endStream ? Flag.END_STREAM : 0) | (padded ? Flag.PADDED : 0);
    this.header(payload.length + (padded ? padding + 1 : 0), FrameType.DATA, flags, streamId);
    if (padded) this.u8(padding);
    this.raw(payload);
    if (padded) this.zeros(padding);
  }

  /**
   * A HEADERS frame carrying the block fragment `fragment` as it is (the connection encodes
   * blocks in place; this is for raw frames). `padding` adds PADDED and that many zero bytes,
   * `priority` the PRIORITY flag and fields (weight 1-256).
   */
  headers(
    streamId: number,
    fragment: Buffer,
    flags: number,
    options: { padding?: number; priority?: { dependency: number; weight: number; exclusive: boolean } } = {},
  ): void {
    const pad = options.padding;
    const prio = options.priority;
    const f = flags | (pad !== undefined ? Flag.PADDED : 0) | (prio ? Flag.PRIORITY : 0);
    this.header(fragment.length + (pad !== undefined ? pad + 1 : 0) + (prio ? 5 : 0), FrameType.HEADERS, f, streamId);
    if (pad !== undefined) this.u8(pad);
    if (prio) {
      this.u32((prio.exclusive ? 0x80000000 : 0) + prio.dependency);
      this.u8(prio.weight - 1);
    }
    this.raw(fragment);
    if (pad !== undefined) this.zeros(pad);
  }

  /** A CONTINUATION frame. */
  continuation(streamId: number, fragment: Buffer, endHeaders: boolean): void {
    this.header(fragment.length, FrameType.CONTINUATION, endHeaders ? Flag.END_HEADERS : 0, streamId);
    this.raw(fragment);
  }

  /** A PUSH_PROMISE frame (we never push; for tests of the refusal). */
  pushPromise(streamId: number, promisedId: number, fragment: Buffer, endHeaders: boolean): void {
    this.header(4 + fragment.length, FrameType.PUSH_PROMISE, endHeaders ? Flag.END_HEADERS : 0, streamId);
    this.u32(promisedId);
    this.raw(fragment);
  }

  /** A PRIORITY frame. */
  priority(streamId: number, dependency: number, weight: number, exclusive = false): void {
    this.ensure(FRAME_HEADER_SIZE + 5);
    this.header(5, FrameType.PRIORITY, 0, streamId);
    this.u32((exclusive ? 0x80000000 : 0) + dependency);
    this.u8(weight - 1);
  }

  /** A RST_STREAM frame. */
  rstStream(streamId: number, errorCode: number): void {
    this.ensure(FRAME_HEADER_SIZE + 4);
    this.header(4, FrameType.RST_STREAM, 0, streamId);
    this.u32(errorCode);
  }

  /** A SETTINGS frame with `[id, value]` entries, or an empty ACK. */
  settings(entries: ReadonlyArray<readonly [number, number]>, ack = false): void {
    this.header(ack ? 0 : entries.length * 6, FrameType.SETTINGS, ack ? Flag.ACK : 0, 0);
    if (ack) return;
    for (const [id, value] of entries) {
      this.u16(id);
      this.u32(value);
    }
  }

  /** A PING frame with an 8-byte payload. */
  ping(payload: Buffer, ack = false): void {
    this.ensure(FRAME_HEADER_SIZE + 8);
    this.header(8, FrameType.PING, ack ? Flag.ACK : 0, 0);
    this.raw(payload.subarray(0, 8));
  }

  /** A GOAWAY frame. */
  goaway(lastStreamId: number, errorCode: number, debug?: Buffer): void {
    this.header(8 + (debug?.length ?? 0), FrameType.GOAWAY, 0, 0);
    this.u32(lastStreamId);
    this.u32(errorCode);
    if (debug) this.raw(debug);
  }

  /** A WINDOW_UPDATE frame. */
  windowUpdate(streamId: number, increment: number): void {
    this.ensure(FRAME_HEADER_SIZE + 4);
    this.header(4, FrameType.WINDOW_UPDATE, 0, streamId);
    this.u32(increment);
  }

  /** Any frame from its parts (unknown types, deliberately malformed frames in tests). */
  frame(type: number, flags: number, streamId: number, payload: Buffer): void {
    this.header(payload.length, type, flags, streamId);
    this.raw(payload);
  }

  private u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  private u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  private u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  private zeros(n: number): void {
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  private cut(): void {
    if (this.pos > this.start) {
      this.pieces.push(view(this.buf, this.start, this.pos));
      this.piecesBytes += this.pos - this.start;
      this.start = this.pos;
    }
  }
}
