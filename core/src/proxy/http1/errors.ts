/**
 * Coded errors of the HTTP/1 codec. Every error names what was wrong and where, and carries the
 * HTTP status the proxy should answer with.
 */
import { ProtocolError } from '../protocol-error.js';

/** Stable codes of {@link Http1Error}; tests and the runtime branch on these, never on text. */
export const Http1ErrorCodes = {
  /** Request line is not `METHOD SP request-target SP HTTP-version`. 400. */
  BAD_REQUEST_LINE: 'MITMTS_ERR_HTTP_BAD_REQUEST_LINE',
  /** Status line is not `HTTP-version SP 3DIGIT [SP reason]`. 502. */
  BAD_STATUS_LINE: 'MITMTS_ERR_HTTP_BAD_STATUS_LINE',
  /** Request-target is malformed or does not fit the method (CONNECT needs `host:port`). 400. */
  BAD_TARGET: 'MITMTS_ERR_HTTP_BAD_TARGET',
  /** Well-formed version other than HTTP/1.0 and HTTP/1.1. 505. */
  UNSUPPORTED_VERSION: 'MITMTS_ERR_HTTP_UNSUPPORTED_VERSION',
  /** Header line without colon, invalid name or value byte, whitespace before the colon. 400. */
  BAD_HEADER: 'MITMTS_ERR_HTTP_BAD_HEADER',
  /** Obsolete line folding (a header line starting with SP or HTAB). 400. */
  OBS_FOLD: 'MITMTS_ERR_HTTP_OBS_FOLD',
  /** A line ends in a bare LF or a CR is not followed by LF. 400. */
  BAD_LINE_ENDING: 'MITMTS_ERR_HTTP_BAD_LINE_ENDING',
  /** Head or trailer block larger than `maxHeadSize`. 431. */
  HEAD_TOO_LARGE: 'MITMTS_ERR_HTTP_HEAD_TOO_LARGE',
  /** Request line alone larger than `maxHeadSize`. 414. */
  URI_TOO_LONG: 'MITMTS_ERR_HTTP_URI_TOO_LONG',
  /** Content-Length is not a plain decimal number, or several differ. 400. */
  BAD_CONTENT_LENGTH: 'MITMTS_ERR_HTTP_BAD_CONTENT_LENGTH',
  /** Transfer-Encoding is malformed, repeated, on HTTP/1.0, or does not end in chunked on a request. 400. */
  BAD_TRANSFER_ENCODING: 'MITMTS_ERR_HTTP_BAD_TRANSFER_ENCODING',
  /** Transfer-Encoding names a coding we do not know. 501. */
  UNSUPPORTED_TRANSFER_ENCODING: 'MITMTS_ERR_HTTP_UNSUPPORTED_TRANSFER_ENCODING',
  /** Both Content-Length and Transfer-Encoding (request smuggling guard). 400. */
  CONFLICTING_FRAMING: 'MITMTS_ERR_HTTP_CONFLICTING_FRAMING',
  /** Several Host headers. 400. */
  BAD_HOST: 'MITMTS_ERR_HTTP_BAD_HOST',
  /** Malformed chunk size line, chunk terminator or chunk extension. 400. */
  BAD_CHUNK: 'MITMTS_ERR_HTTP_BAD_CHUNK',
  /** Body larger than `bodySizeLimit`. 413. */
  BODY_TOO_LARGE: 'MITMTS_ERR_HTTP_BODY_TOO_LARGE',
  /** The peer closed the connection in the middle of a message. 400. */
  INCOMPLETE: 'MITMTS_ERR_HTTP_INCOMPLETE',
  /** The server closed the connection before sending a response head. 502. */
  NO_RESPONSE: 'MITMTS_ERR_HTTP_NO_RESPONSE',
  /**
   * A head to be sent is invalid (e.g. an addon put CR/LF in a header value, a space in the
   * path): serializing it would corrupt or split the message. 500 (502 for a response).
   */
  BAD_OUTBOUND: 'MITMTS_ERR_HTTP_BAD_OUTBOUND',
} as const;

/** One of the {@link Http1ErrorCodes} values. */
export type Http1ErrorCode = (typeof Http1ErrorCodes)[keyof typeof Http1ErrorCodes];

const REQUEST_STATUS: Record<Http1ErrorCode, number> = {
  MITMTS_ERR_HTTP_BAD_REQUEST_LINE: 400,
  MITMTS_ERR_HTTP_BAD_STATUS_LINE: 502,
  MITMTS_ERR_HTTP_BAD_TARGET: 400,
  MITMTS_ERR_HTTP_UNSUPPORTED_VERSION: 505,
  MITMTS_ERR_HTTP_BAD_HEADER: 400,
  MITMTS_ERR_HTTP_OBS_FOLD: 400,
  MITMTS_ERR_HTTP_BAD_LINE_ENDING: 400,
  MITMTS_ERR_HTTP_HEAD_TOO_LARGE: 431,
  MITMTS_ERR_HTTP_URI_TOO_LONG: 414,
  MITMTS_ERR_HTTP_BAD_CONTENT_LENGTH: 400,
  MITMTS_ERR_HTTP_BAD_TRANSFER_ENCODING: 400,
  MITMTS_ERR_HTTP_UNSUPPORTED_TRANSFER_ENCODING: 501,
  MITMTS_ERR_HTTP_CONFLICTING_FRAMING: 400,
  MITMTS_ERR_HTTP_BAD_HOST: 400,
  MITMTS_ERR_HTTP_BAD_CHUNK: 400,
  MITMTS_ERR_HTTP_BODY_TOO_LARGE: 413,
  MITMTS_ERR_HTTP_INCOMPLETE: 400,
  MITMTS_ERR_HTTP_NO_RESPONSE: 502,
  MITMTS_ERR_HTTP_BAD_OUTBOUND: 500,
};

/** Which stream an error was found in: what the client sent, or what the server sent. */
export type Http1Side = 'request' | 'response';

/**
 * A protocol error found by the HTTP/1 codec.
 *
 * `status` is what the proxy answers the client with: the code's status (400, 413, 414, 431,
 * 501, 505) for errors in a request, 502 Bad Gateway for errors in a server's response (except
 * 413 for a response body over `body_size_limit`). After an error the parser is dead; the
 * runtime answers (if it can) and closes that connection only.
 */
export class Http1Error extends ProtocolError<Http1ErrorCode> {
  override readonly name = 'Http1Error';
  readonly protocol = 'http1';
  /** HTTP status to answer the client with. */
  readonly status: number;
  /** Whether the bad bytes came from the client (request) or the server (response). */
  readonly side: Http1Side;
  /** Name of the offending header, as received, if a header is to blame. */
  readonly header: string | undefined;

  constructor(code: Http1ErrorCode, message: string, side: Http1Side, offset = -1, header?: string) {
    super(code, message, offset);
    this.side = side;
    this.header = header;
    this.status = side === 'request' || code === Http1ErrorCodes.BODY_TOO_LARGE ? REQUEST_STATUS[code] : 502;
  }
}

/**
 * Thrown inside head parsing with an offset relative to the head; the parser rethrows it as an
 * {@link Http1Error} with the side and the absolute stream offset filled in.
 * @internal
 */
export class HeadError {
  constructor(
    readonly code: Http1ErrorCode,
    readonly message: string,
    readonly offset: number,
    readonly header?: string,
  ) {}
}
