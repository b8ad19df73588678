/**
 * Reassembles data frames into messages for one direction (RFC 6455 section 5.4), keeping each
 * message's original frames so that an unchanged message can be forwarded byte for byte:
 * same fragment boundaries, same RSV bits, same compressed bytes, same masking keys.
 */
import { Buffer } from 'node:buffer';
import { WebSocketError, WebSocketErrorCodes as C } from './errors.js';
import { type Frame, Opcode, RSV1 } from './frame.js';
import { Utf8Validator, isValidUtf8 } from './utf8.js';

const EMPTY = Buffer.alloc(0);

/** A complete message as received. */
export interface AssembledMessage {
  /** {@link Opcode.TEXT} or {@link Opcode.BINARY}. */
  opcode: number;
  /** The first frame had RSV1 set: the payloads are permessage-deflate data. */
  compressed: boolean;
  /** The frames exactly as received, in order. */
  frames: Buffer[];
  /** The frames' unmasked payloads, in order (compressed data when {@link compressed}). */
  payloads: Buffer[];
  /** Sum of the payload lengths. */
  size: number;
}

/** Limits of one direction. */
export interface AssemblerLimits {
  /** Largest message (payload bytes on the wire), default 16 MiB. Larger ones fail with close 1009. */
  maxMessageSize?: number;
  /** Most frames in one message, default 65,536. More fail with close 1009. */
  maxFrames?: number;
}

/** Default {@link AssemblerLimits.maxMessageSize}: 16 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
/** Default {@link AssemblerLimits.maxFrames}. */
export const DEFAULT_MAX_FRAMES = 65_536;

/**
 * Collects the data frames of one direction into messages. Text messages that are not
 * compressed are checked for UTF-8 fragment by fragment (compressed ones can only be checked
 * once inflated, by the caller).
 */
export class MessageAssembler {
  /** Largest message size accepted (wire payload bytes). */
  readonly maxMessageSize: number;
  readonly maxFrames: number;
  private current: AssembledMessage | null = null;
  private readonly utf8 = new Utf8Validator();
  /** What {@link add} returns for a message of one frame (the common case), reused. */
  private readonly single: AssembledMessage & { frames: [Buffer]; payloads: [Buffer] };

  constructor(limits: AssemblerLimits = {}) {
    this.maxMessageSize = limits.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.maxFrames = limits.maxFrames ?? DEFAULT_MAX_FRAMES;
    this.single = { opcode: 0, compressed: false, frames: [EMPTY], payloads: [EMPTY], size: 0 };
  }

  /** Whether a fragmented message has started and not finished. */
  get inProgress(): boolean {
    return this.current !== null;
  }

  /**
   * Add a data frame (text, binary or continuation). Returns the message when `frame` ends it.
   * A message of one frame comes in an object that the next `add` reuses: use it (or copy what
   * it holds) before adding another frame. The frame's Buffers are kept, not its object.
   * @throws WebSocketError BAD_FRAGMENTATION, TOO_BIG or INVALID_UTF8.
   */
  add(frame: Frame): AssembledMessage | null {
    let m = this.current;
    if (m === null && frame.fin && frame.opcode !== Opcode.CONTINUATION) return this.one(frame);
    if (frame.opcode === Opcode.CONTINUATION) {
      if (m === null)
        throw new WebSocketError(
          C.BAD_FRAGMENTATION,
          'unexpected continuation frame',
          'a continuation frame arrived with no fragmented message in progress',
        );
      if (m.frames.length >= this.maxFrames) {
        throw new WebSocketError(
          C.TOO_BIG,
          'message too big',
          `a message of more than ${this.maxFrames} frames exceeds the frame limit`,
        );
      }
      m.frames.push(frame.raw);
      m.payloads.push(frame.payload);
      m.size += frame.payload.length;
    } else {
      if (m !== null) {
        throw new WebSocketError(
          C.BAD_FRAGMENTATION,
          'expected continuation frame',
          `a new data frame (opcode ${frame.opcode}) arrived inside a fragmented message`,
        );
      }
      m = {
        opcode: frame.opcode,
        compressed: (frame.rsv & RSV1) !== 0,
        frames: [frame.raw],
        payloads: [frame.payload],
        size: frame.payload.length,
      };
      if (m.opcode === Opcode.TEXT) this.utf8.reset();
    }
    if (m.size > this.wireLimit(m.compressed)) {
      this.current = null;
      throw new WebSocketError(
        C.TOO_BIG,
        'message too big',
        `a message of more than ${this.maxMessageSize} bytes exceeds the size limit`,
      );
    }
    if (m.opcode === Opcode.TEXT && !m.compressed && !this.utf8.push(frame.payload, frame.fin)) {
      this.current = null;
      throw new WebSocketError(C.INVALID_UTF8, 'invalid UTF-8 in text message', 'a text message is not valid UTF-8');
    }
    this.current = frame.fin ? null : m;
    return frame.fin ? m : null;
  }

  /** A whole message in one frame: no arrays or message object made. */
  private one(frame: Frame): AssembledMessage {
    const m = this.single;
    const payload = frame.payload;
    const compressed = (frame.rsv & RSV1) !== 0;
    if (payload.length > this.wireLimit(compressed)) {
      throw new WebSocketError(
        C.TOO_BIG,
        'message too big',
        `a message of more than ${this.maxMessageSize} bytes exceeds the size limit`,
      );
    }
    if (frame.opcode === Opcode.TEXT && !compressed && !isValidUtf8(payload)) {
      throw new WebSocketError(C.INVALID_UTF8, 'invalid UTF-8 in text message', 'a text message is not valid UTF-8');
    }
    m.opcode = frame.opcode;
    m.compressed = compressed;
    m.frames[0] = frame.raw;
    m.payloads[0] = payload;
    m.size = payload.length;
    return m;
  }

  /**
   * Largest wire size of a message: the size limit, plus DEFLATE's worst-case overhead for
   * compressed ones (5 bytes per 64 KiB stored block) so that an incompressible message of
   * exactly the limit still passes; its decoded size is checked against the limit itself.
   */
  wireLimit(compressed: boolean): number {
    return compressed ? this.maxMessageSize + Math.ceil(this.maxMessageSize / 8192) + 64 : this.maxMessageSize;
  }
}
