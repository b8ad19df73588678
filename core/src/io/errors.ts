/**
 * Coded errors of the file layer. Every error names what went wrong, where (byte offset,
 * record number, file) and what to do about it. Tests and callers branch on `code`.
 */

/** Stable error codes of {@link FlowReadError}. */
export const FlowReadErrorCode = {
  /** The input ends inside a flow record (a partly written or cut file). */
  TRUNCATED: 'MITMTS_ERR_FLOW_TRUNCATED',
  /** The bytes are not a valid tnetstring / flow record. */
  CORRUPT: 'MITMTS_ERR_FLOW_CORRUPT',
  /** The record's flow format version is unknown (newer than ours, or older than any converter). */
  VERSION: 'MITMTS_ERR_FLOW_VERSION',
  /** The record decodes but is not a valid flow state (missing key, wrong type). */
  INVALID: 'MITMTS_ERR_FLOW_INVALID',
  /** The file looked like HAR (starts with `{`) but could not be read as HAR. */
  HAR: 'MITMTS_ERR_FLOW_HAR',
} as const;

export type FlowReadErrorCode = (typeof FlowReadErrorCode)[keyof typeof FlowReadErrorCode];

export interface FlowReadErrorDetails {
  /** Absolute byte offset in the input where the problem was found (-1 when not applicable). */
  offset?: number;
  /** 0-based index of the flow record the problem is in, when known. */
  record?: number;
  /** File the input came from, when known. */
  file?: string;
  cause?: unknown;
}

/**
 * Raised when a flow file (or stream) cannot be read. Flows before the bad record have already
 * been yielded by the reader when this is thrown.
 */
export class FlowReadError extends Error {
  override readonly name = 'FlowReadError';
  readonly code: FlowReadErrorCode;
  /** Absolute byte offset of the problem in the input, or -1. */
  readonly offset: number;
  /** 0-based record index, or -1. */
  readonly record: number;
  /** Source file name, if known. */
  file: string | undefined;

  constructor(code: FlowReadErrorCode, message: string, details: FlowReadErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.offset = details.offset ?? -1;
    this.record = details.record ?? -1;
    this.file = details.file;
  }

  /** A copy of this error whose message is prefixed with the file name. */
  withFile(file: string): FlowReadError {
    if (this.file !== undefined) return this;
    const e = new FlowReadError(this.code, `${file}: ${this.message}`, {
      offset: this.offset,
      record: this.record,
      file,
      cause: this.cause,
    });
    return e;
  }
}

/**
 * Raised by the tnetstring decoder. `offset` is absolute in the buffer passed to the decoder;
 * `truncated` tells a cut input (more bytes would have helped) from a corrupt one.
 */
export class TnetstringError extends Error {
  override readonly name: string = 'TnetstringError';
  constructor(
    message: string,
    readonly offset: number,
    readonly truncated: boolean,
  ) {
    super(message);
  }
}

/**
 * A tnetstring nests lists and dicts deeper than {@link TnetstringDepthError.LIMIT} levels: no
 * flow comes near it (mitmproxy's own writer, recursive Python, stops at about 1,000), and
 * decoding deeper would exhaust the stack. A kind of corrupt input (`truncated` false).
 */
export class TnetstringDepthError extends TnetstringError {
  override readonly name = 'TnetstringDepthError';
  /** The most lists and dicts one value may nest. */
  static readonly LIMIT = 1000;
  readonly limit = TnetstringDepthError.LIMIT;
}
