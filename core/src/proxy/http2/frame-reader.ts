/**
 * Cuts received bytes into frames (RFC 9113 section 4). Frames that arrive whole are handed out
 * as views of the received chunk; a frame split across chunks is assembled in a buffer of its
 * own. DATA payloads are never assembled: they are handed out piece by piece as they arrive,
 * padding removed, so a large body is never copied here.
 * @internal
 */
import { Buffer } from 'node:buffer';
import { view } from '../http1/chars.js';
import { ErrorCode, FRAME_HEADER_SIZE, Flag, FrameType } from './constants.js';
import { Http2Error, Http2ErrorCodes } from './errors.js';

/** What the reader finds. Calls stop as soon as `stopped` is true. */
export interface FrameSink {
  /** True once the connection is dead: the reader drops the rest. */
  readonly stopped: boolean;
  /** A whole non-DATA frame. `payload` is a view; keep a copy to use it later. */
  frame(type: number, flags: number, streamId: number, payload: Buffer): void;
  /**
   * A DATA frame starts: `length` is the whole payload (flow control counts it), `padding` the
   * number of padding bytes (the pad length byte itself is the other +1 when PADDED).
   */
  dataStart(flags: number, streamId: number, length: number, padding: number): void;
  /** A piece of the current DATA frame's content; `last` on its final piece (once per frame, maybe empty). */
  data(chunk: Buffer, last: boolean): void;
}

const HEADER = 0;
const PAD_LENGTH = 1;
const DATA = 2;
const PADDING = 3;
const PAYLOAD = 4;

const EMPTY = Buffer.alloc(0);

export class FrameReader {
  /** Largest frame payload accepted (our SETTINGS_MAX_FRAME_SIZE). */
  maxFrameSize: number;
  private state = HEADER;
  private readonly hdr = Buffer.alloc(FRAME_HEADER_SIZE);
  private hdrFill = 0;
  private type = 0;
  private flags = 0;
  private streamId = 0;
  private length = 0;
  /** PAYLOAD: the assembly buffer and its fill; DATA/PADDING: bytes left. */
  private payload: Buffer = EMPTY;
  private fill = 0;
  private left = 0;
  private padding = 0;

  constructor(
    private readonly sink: FrameSink,
    maxFrameSize: number,
  ) {
    this.maxFrameSize = maxFrameSize;
  }

  /** Whether the reader is between frames (nothing partial buffered). */
  get idle(): boolean {
    return this.state === HEADER && this.hdrFill === 0;
  }

  /** Feeds `buf[pos..]`. Throws a connection {@link Http2Error} for an oversized frame. */
  push(buf: Buffer, pos: number): void {
    const sink = this.sink;
    const end = buf.length;
    while (pos < end && !sink.stopped) {
      switch (this.state) {
        case HEADER: {
          if (this.hdrFill === 0 && end - pos >= FRAME_HEADER_SIZE) {
            this.readHeader(buf, pos);
            pos += FRAME_HEADER_SIZE;
            // the common case: a whole non-DATA frame in this chunk
            if (this.type !== FrameType.DATA && end - pos >= this.length) {
              const len = this.length;
              this.state = HEADER;
              sink.frame(this.type, this.flags, this.streamId, view(buf, pos, pos + len));
              pos += len;
              continue;
            }
          } else {
            const n = Math.min(FRAME_HEADER_SIZE - this.hdrFill, end - pos);
            buf.copy(this.hdr, this.hdrFill, pos, pos + n);
            this.hdrFill += n;
            pos += n;
            if (this.hdrFill < FRAME_HEADER_SIZE) return;
            this.hdrFill = 0;
            this.readHeader(this.hdr, 0);
          }
          this.afterHeader();
          break;
        }
        case PAD_LENGTH: {
          const pad = buf[pos++]!;
          if (pad >= this.length) {
            throw new Http2Error(
              Http2ErrorCodes.PROTOCOL,
              `DATA frame on stream ${this.streamId}: pad length ${pad} leaves no room in a ${this.length}-byte payload`,
            );
          }
          this.startData(pad);
          break;
        }
        case DATA: {
          const n = Math.min(this.left, end - pos);
          this.left -= n;
          const last = this.left === 0;
          if (last) this.state = this.padding > 0 ? PADDING : HEADER;
          sink.data(view(buf, pos, pos + n), last);
          pos += n;
          if (last && this.padding > 0) this.left = this.padding;
          break;
        }
        case PADDING: {
          const n = Math.min(this.left, end - pos);
          this.left -= n;
          pos += n;
          if (this.left === 0) this.state = HEADER;
          break;
        }
        default: {
          // PAYLOAD: assembling a non-DATA frame split across chunks
          const n = Math.min(this.length - this.fill, end - pos);
          buf.copy(this.payload, this.fill, pos, pos + n);
          this.fill += n;
          pos += n;
          if (this.fill === this.length) {
            const p = this.payload;
            this.payload = EMPTY;
            this.state = HEADER;
            sink.frame(this.type, this.flags, this.streamId, p);
          }
        }
      }
    }
  }

  private readHeader(b: Buffer, p: number): void {
    this.length = (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
    this.type = b[p + 3]!;
    this.flags = b[p + 4]!;
    this.streamId = ((b[p + 5]! & 0x7f) << 24) | (b[p + 6]! << 16) | (b[p + 7]! << 8) | b[p + 8]!;
    if (this.length > this.maxFrameSize) {
      throw new Http2Error(
        Http2ErrorCodes.FRAME_SIZE,
        `a ${this.length}-byte frame (type ${this.type}, stream ${this.streamId}) is over our SETTINGS_MAX_FRAME_SIZE of ${this.maxFrameSize}`,
        ErrorCode.FRAME_SIZE_ERROR,
      );
    }
  }

  /** After a header read from the chunk or assembled: set up the payload state. */
  private afterHeader(): void {
    if (this.type === FrameType.DATA) {
      if (this.flags & Flag.PADDED) {
        if (this.length === 0)
          throw new Http2Error(
            Http2ErrorCodes.FRAME_SIZE,
            `padded DATA frame on stream ${this.streamId} without a pad length`,
            ErrorCode.FRAME_SIZE_ERROR,
          );
        this.state = PAD_LENGTH;
      } else {
        this.startData(-1);
      }
      return;
    }
    if (this.length === 0) {
      this.state = HEADER;
      this.sink.frame(this.type, this.flags, this.streamId, EMPTY);
      return;
    }
    this.payload = Buffer.allocUnsafe(this.length);
    this.fill = 0;
    this.state = PAYLOAD;
  }

  /** `pad` -1: not padded. */
  private startData(pad: number): void {
    const padding = pad < 0 ? 0 : pad;
    const content = this.length - padding - (pad < 0 ? 0 : 1);
    this.padding = padding;
    this.left = content;
    this.sink.dataStart(this.flags, this.streamId, this.length, padding);
    if (this.sink.stopped) return;
    if (content === 0) {
      this.state = padding > 0 ? PADDING : HEADER;
      this.left = padding;
      this.sink.data(EMPTY, true);
    } else {
      this.state = DATA;
    }
  }
}
