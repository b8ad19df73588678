/**
 * Reassembles data frames into messages for one direction (RFC 6455 section 5.4), keeping each
 * message's original frames so that an unchanged message can be forwarded byte for byte:
 * same fragment boundaries, same RSV bits, same compressed bytes, same masking keys.
 */
import type { Buffer } from 'node:buffer';
import { WebSocketError, WebSocketErrorCodes as C } from './errors.js';
import { type Frame, Opcode, RSV1 } from './frame.js';
import { Utf8Validator, isValidUtf8 } from './utf8.js';

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

  constructor(limits: AssemblerLimits = {}) {
    this.maxMessageSize = limits.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.maxFrames = limits.maxFrames ?? DEFAULT_MAX_FRAMES;
  }

  /** Whether a fragmented message has started and not finished. */
  get inProgress(): boolean {
    return this.current !== null;
  }

  /**
   * Add a data frame (text, binary or continuation). Returns the message when `frame` ends it.
   * @throws WebSocketError BAD_FRAGMENTATION, TOO_BIG or INVALID_UTF8.
   */
  add(frame: Frame): AssembledMessage | null {
    let m = this.current;
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
      throw this.tooBig();
    }
    if (m.opcode === Opcode.TEXT && !m.compressed && !this.utf8.push(frame.payload, frame.fin)) {
      this.current = null;
      throw invalidUtf8();
    }
    this.current = frame.fin ? null : m;
    return frame.fin ? m : null;
  }

  /**
   * Check a message that is one frame (FIN set, no fragmented message in progress), payload at
   * `bytes[from, to)`, as {@link add} would; for callers that take such frames past the assembler.
   * `ascii`: the caller saw only ASCII bytes (no UTF-8 check needed).
   * @throws WebSocketError TOO_BIG or INVALID_UTF8.
   */
  checkWhole(opcode: number, compressed: boolean, bytes: Buffer, from: number, to: number, ascii = false): void {
    if (to - from > this.wireLimit(compressed)) {
      throw this.tooBig();
    }
    if (opcode === Opcode.TEXT && !compressed && !ascii && !isValidUtf8(bytes, from, to)) {
      throw invalidUtf8();
    }
  }

  private tooBig(): WebSocketError {
    return new WebSocketError(
      C.TOO_BIG,
      'message too big',
      `a message of more than ${this.maxMessageSize} bytes exceeds the size limit`,
    );
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

const invalidUtf8 = (): WebSocketError =>
  new WebSocketError(C.INVALID_UTF8, 'invalid UTF-8 in text message', 'a text message is not valid UTF-8');
