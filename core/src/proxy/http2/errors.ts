/**
 * Coded errors of the HTTP/2 codec. Every error says what was wrong, on which stream, and which
 * RFC 9113 error code went (or goes) to the peer.
 */
import { ProtocolError } from '../protocol-error.js';
import { ErrorCode, errorCodeName } from './constants.js';

/** Stable codes of {@link Http2Error}; tests and the runtime branch on these, never on text. */
export const Http2ErrorCodes = {
  /** The client did not start with the HTTP/2 connection preface, or the first frame was not SETTINGS. */
  BAD_PREFACE: 'MITMTS_ERR_H2_BAD_PREFACE',
  /** A frame is larger than SETTINGS_MAX_FRAME_SIZE, or a fixed-size frame has the wrong length. */
  FRAME_SIZE: 'MITMTS_ERR_H2_FRAME_SIZE',
  /** A framing or state rule of RFC 9113 was broken (stream ids, frame order, flags, settings values). */
  PROTOCOL: 'MITMTS_ERR_H2_PROTOCOL',
  /** The peer sent more than its window allowed, or a window overflowed 2^31-1. */
  FLOW_CONTROL: 'MITMTS_ERR_H2_FLOW_CONTROL',
  /** DATA or HEADERS on a stream the peer had already ended. */
  STREAM_CLOSED: 'MITMTS_ERR_H2_STREAM_CLOSED',
  /** A header block that HPACK cannot decode (bad index, bad Huffman, table size over the limit). */
  COMPRESSION: 'MITMTS_ERR_H2_COMPRESSION',
  /** A decoded header list over `maxHeaderListSize` (HPACK bomb guard). */
  HEADER_LIST_TOO_LARGE: 'MITMTS_ERR_H2_HEADER_LIST_TOO_LARGE',
  /** A malformed message (RFC 9113 section 8.1.1): pseudo-header rules, connection-specific or invalid fields. */
  MALFORMED: 'MITMTS_ERR_H2_MALFORMED',
  /** `content-length` that disagrees with the DATA received (request smuggling guard). */
  CONTENT_LENGTH: 'MITMTS_ERR_H2_CONTENT_LENGTH',
  /** The peer opened more streams than our SETTINGS_MAX_CONCURRENT_STREAMS. */
  REFUSED_STREAM: 'MITMTS_ERR_H2_REFUSED_STREAM',
  /** A flood guard tripped (rapid reset, CONTINUATION, SETTINGS, PING, empty frames): bounded work, then GOAWAY. */
  FLOOD: 'MITMTS_ERR_H2_FLOOD',
  /** Headers handed to the codec cannot be sent (CR/LF/NUL, a connection-specific field, bad pseudo-headers). */
  BAD_OUTBOUND: 'MITMTS_ERR_H2_BAD_OUTBOUND',
  /** The codec's user sent something the stream's state does not allow (DATA before HEADERS, anything after END_STREAM). */
  STREAM_STATE: 'MITMTS_ERR_H2_STREAM_STATE',
  /** `openStream` while `canOpenStream()` is false (peer's limit reached, GOAWAY received, ids exhausted). */
  CANNOT_OPEN: 'MITMTS_ERR_H2_CANNOT_OPEN',
} as const;

/** One of the {@link Http2ErrorCodes} values. */
export type Http2ErrorCodeName = (typeof Http2ErrorCodes)[keyof typeof Http2ErrorCodes];

/**
 * A protocol error found by the HTTP/2 codec, or a misuse of its API.
 *
 * `streamId` 0 means a connection error: the codec has sent GOAWAY with `errorCode` and the
 * connection is dead. Otherwise a stream error: the codec has sent RST_STREAM with `errorCode`
 * on that stream and the others go on. Errors thrown by the sending methods (`BAD_OUTBOUND`,
 * `STREAM_STATE`, `CANNOT_OPEN`) sent nothing.
 */
export class Http2Error extends ProtocolError<Http2ErrorCodeName> {
  override readonly name = 'Http2Error';
  readonly protocol = 'http2';
  /** RFC 9113 error code sent in RST_STREAM / GOAWAY (see `ErrorCode`). */
  readonly errorCode: number;
  /** The stream concerned, or 0 for the whole connection. */
  readonly streamId: number;
  /** Name of the offending header field, if one is to blame. */
  readonly header: string | undefined;

  constructor(
    code: Http2ErrorCodeName,
    message: string,
    errorCode: number = ErrorCode.PROTOCOL_ERROR,
    streamId = 0,
    header?: string,
  ) {
    super(code, message);
    this.errorCode = errorCode;
    this.streamId = streamId;
    this.header = header;
  }

  /** Whether this error ended the whole connection. */
  get isConnectionError(): boolean {
    return this.streamId === 0;
  }

  /** `PROTOCOL_ERROR (0x1)`: the RFC name of `errorCode`. */
  get errorCodeName(): string {
    return errorCodeName(this.errorCode);
  }
}
