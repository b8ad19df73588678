/**
 * Incremental frame reader for one direction of a WebSocket connection: push socket chunks in,
 * take whole frames out. Frame-local rules of RFC 6455 section 5 are checked here (reserved
 * opcodes, RSV bits, masking direction, control frame size and fragmentation, 64-bit length);
 * message-level rules (fragmentation order, sizes, UTF-8) are the {@link MessageAssembler}'s.
 */
import { Buffer } from 'node:buffer';
import { WebSocketError, WebSocketErrorCodes as C } from './errors.js';
import { type Frame, MAX_CONTROL_PAYLOAD, Opcode, isControl, xorMask } from './frame.js';

const EMPTY = Buffer.alloc(0);

/**
 * A frame as {@link FrameReader.readInto} leaves it: where its bytes are in the received data,
 * with no view made for them (a {@link Frame} has views).
 */
export interface FrameAt {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  /**
   * The received bytes that hold the whole frame, at `[start, end)`; its payload is at
   * `[dataStart, end)` (still masked in a masked frame: the key is the 4 bytes before it).
   */
  chunk: Buffer;
  start: number;
  dataStart: number;
  end: number;
  /** A masked frame's payload unmasked, once {@link payloadOf} made it (a copy); else null. */
  unmasked: Buffer | null;
}

/** A {@link FrameAt} to fill. */
export const emptyFrameAt = (): FrameAt => ({
  fin: false,
  rsv: 0,
  opcode: 0,
  masked: false,
  chunk: EMPTY,
  start: 0,
  dataStart: 0,
  end: 0,
  unmasked: null,
});

/** The frame's payload, unmasked: a view of an unmasked frame's, a copy (made once) of a masked frame's. */
export function payloadOf(f: FrameAt): Buffer {
  if (!f.masked) return f.chunk.subarray(f.dataStart, f.end);
  if (f.unmasked === null) {
    const c = f.chunk;
    const k = f.dataStart - 4;
    f.unmasked = Buffer.allocUnsafe(f.end - f.dataStart);
    xorMask(c, f.dataStart, f.end, c[k]!, c[k + 1]!, c[k + 2]!, c[k + 3]!, f.unmasked, 0);
  }
  return f.unmasked;
}

/** The frame exactly as received (a view). */
export const rawOf = (f: FrameAt): Buffer => f.chunk.subarray(f.start, f.end);

/** Rules for one direction. */
export interface FrameReaderOptions {
  /**
   * `true`: frames must be masked (they come from a client); `false`: frames must not be masked
   * (they come from a server). RFC 6455 section 5.1 makes both a protocol error.
   */
  masked: boolean;
  /** RSV bits a negotiated extension defines (permessage-deflate: {@link RSV1}); others are errors. Default 0. */
  allowedRsv?: number;
  /**
   * Largest payload of one frame, checked when its header arrives so an oversized frame is
   * refused before it is buffered (close 1009). Default: no limit (2^53 - 1).
   */
  maxPayload?: number;
}

/**
 * Reads frames from a byte stream. Whole frames are views into the pushed chunks when they
 * fit in one; a frame split across chunks is copied once, when all of it has arrived (never
 * chunk by chunk, so a large frame costs one copy).
 */
export class FrameReader {
  private readonly masked: boolean;
  private readonly allowedRsv: number;
  /** Largest accepted payload of one frame; settable between frames. */
  maxPayload: number;
  private buf: Buffer = EMPTY;
  private pos = 0;
  private pending: Buffer[] = [];
  private pendingSize = 0;
  /** Bytes consumed so far (the stream offset of the next frame). */
  private consumed = 0;

  constructor(options: FrameReaderOptions) {
    this.masked = options.masked;
    this.allowedRsv = options.allowedRsv ?? 0;
    this.maxPayload = options.maxPayload ?? Number.MAX_SAFE_INTEGER;
  }

  /** Bytes received and not yet returned as frames. */
  get bufferedBytes(): number {
    return this.buf.length - this.pos + this.pendingSize;
  }

  /** Stream offset of the next frame (bytes returned as frames so far). */
  get offset(): number {
    return this.consumed;
  }

  /** Add received bytes. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.pos === this.buf.length && this.pendingSize === 0) {
      this.buf = chunk;
      this.pos = 0;
    } else {
      this.pending.push(chunk);
      this.pendingSize += chunk.length;
    }
  }

  /** Everything buffered and not yet read as frames (e.g. to hand the stream to another layer). */
  takeRemaining(): Buffer {
    this.ensure(this.bufferedBytes);
    const rest = this.buf.subarray(this.pos);
    this.buf = EMPTY;
    this.pos = 0;
    return rest;
  }

  /** Make `n` bytes from `pos` contiguous in `buf`, if that many are buffered. */
  private ensure(n: number): boolean {
    const have = this.buf.length - this.pos;
    if (have >= n) return true;
    if (have + this.pendingSize < n) return false;
    const parts = have > 0 ? [this.buf.subarray(this.pos), ...this.pending] : this.pending;
    this.buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have + this.pendingSize);
    this.pos = 0;
    this.pending = [];
    this.pendingSize = 0;
    return true;
  }

  /**
   * The next whole frame, or null until more bytes arrive.
   * @throws WebSocketError on a frame that breaks RFC 6455; the reader is unusable afterwards.
   */
  read(): Frame | null {
    const f = emptyFrameAt();
    if (!this.readInto(f)) return null;
    return { fin: f.fin, rsv: f.rsv, opcode: f.opcode, masked: f.masked, payload: payloadOf(f), raw: rawOf(f) };
  }

  /**
   * {@link read} into a frame object the caller owns and reuses, with no Buffer made for the
   * frame's bytes (the relay's hot path): a masked payload stays masked in place until
   * {@link payloadOf} (or the caller) unmasks it. Returns false, leaving `out` as it was, until a
   * whole frame has arrived.
   * @throws WebSocketError as {@link read}.
   */
  readInto(out: FrameAt): boolean {
    if (!this.ensure(2)) return false;
    const buf = this.buf;
    const p = this.pos;
    const b0 = buf[p]!;
    const b1 = buf[p + 1]!;
    const opcode = b0 & 0x0f;
    const rsv = (b0 >> 4) & 0x7;
    const fin = (b0 & 0x80) !== 0;
    const masked = (b1 & 0x80) !== 0;
    let len = b1 & 0x7f;
    this.check(opcode, rsv, fin, masked, len);
    let head = 2;
    if (len === 126) head = 4;
    else if (len === 127) head = 10;
    const keyLen = masked ? 4 : 0;
    if (!this.ensure(head + keyLen)) return false;
    const b = this.buf;
    const q = this.pos;
    if (len === 126) len = b.readUInt16BE(q + 2);
    else if (len === 127) {
      const hi = b.readUInt32BE(q + 2);
      if (hi & 0x80000000)
        throw this.error(
          C.BAD_LENGTH,
          'invalid frame length',
          'the most significant bit of a 64-bit payload length must be 0',
        );
      len = hi * 0x100000000 + b.readUInt32BE(q + 6);
    }
    if (len > this.maxPayload) {
      throw this.error(
        C.TOO_BIG,
        'message too big',
        `a frame of ${len} bytes exceeds the limit of ${this.maxPayload} bytes`,
      );
    }
    const total = head + keyLen + len;
    if (!this.ensure(total)) return false;
    const f = this.buf;
    const start = this.pos;
    const dataStart = start + head + keyLen;
    const end = start + total;
    out.fin = fin;
    out.rsv = rsv;
    out.opcode = opcode;
    out.masked = masked;
    out.chunk = f;
    out.start = start;
    out.dataStart = dataStart;
    out.end = end;
    out.unmasked = null;
    this.pos = end;
    this.consumed += total;
    return true;
  }

  private check(opcode: number, rsv: number, fin: boolean, masked: boolean, len7: number): void {
    if ((opcode > Opcode.BINARY && opcode < Opcode.CLOSE) || opcode > Opcode.PONG) {
      throw this.error(C.RESERVED_OPCODE, 'reserved opcode', `opcode ${opcode} is reserved`);
    }
    if (masked !== this.masked) {
      throw this.error(
        C.MASK,
        this.masked ? 'unmasked frame from client' : 'masked frame from server',
        this.masked ? 'frames sent by a client must be masked' : 'frames sent by a server must not be masked',
      );
    }
    if (rsv & ~this.allowedRsv) {
      throw this.error(
        C.RESERVED_BITS,
        'reserved bits set',
        `RSV bits 0b${rsv.toString(2).padStart(3, '0')} are set but no negotiated extension defines them`,
      );
    }
    if (isControl(opcode)) {
      if (!fin)
        throw this.error(
          C.BAD_CONTROL_FRAME,
          'fragmented control frame',
          `control frame (opcode ${opcode}) without FIN`,
        );
      if (len7 > MAX_CONTROL_PAYLOAD) {
        throw this.error(
          C.BAD_CONTROL_FRAME,
          'control frame too long',
          `control frame (opcode ${opcode}) payloads are at most 125 bytes`,
        );
      }
      if (rsv) throw this.error(C.RESERVED_BITS, 'reserved bits set', `RSV bits on a control frame (opcode ${opcode})`);
    } else if (opcode === Opcode.CONTINUATION && rsv) {
      throw this.error(
        C.RESERVED_BITS,
        'reserved bits set',
        'RSV bits on a continuation frame (permessage-deflate sets RSV1 on the first frame only)',
      );
    }
  }

  private error(code: (typeof C)[keyof typeof C], reason: string, detail: string): WebSocketError {
    return new WebSocketError(code, reason, detail, this.consumed);
  }
}
