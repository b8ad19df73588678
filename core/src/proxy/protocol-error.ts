/** The codec that found a {@link ProtocolError}. */
export type ProtocolName = 'http1' | 'http2' | 'websocket' | 'dns' | 'socks5';

/**
 * Base of the codecs' coded errors ({@link Http1Error}, {@link Http2Error},
 * {@link WebSocketError}, {@link WebSocketHandshakeError}, {@link DnsWireError},
 * {@link Socks5Error}): a stable code, a message that says what was wrong and where, the codec
 * that found it and, for byte streams, the offset of the bad bytes. Each subclass adds what its
 * protocol answers with (an HTTP status, an RST_STREAM code, a close code).
 */
export abstract class ProtocolError<C extends string = string> extends Error {
  /** The codec that found the error. */
  abstract readonly protocol: ProtocolName;
  /** Stable `MITMTS_ERR_*` code: tests and the runtime branch on it, never on the text. */
  readonly code: C;
  /** Byte offset in the stream or message where the problem is, or -1 (unknown, or not byte-based). */
  readonly offset: number;

  constructor(code: C, message: string, offset = -1) {
    super(message);
    this.code = code;
    this.offset = offset;
  }
}
