/**
 * Coded errors of the WebSocket codec. A frame or message error carries the close code the proxy
 * sends when it fails the connection (RFC 6455 section 7.4.1); a handshake error says which
 * header of which message is wrong.
 */
import { ProtocolError } from '../protocol-error.js';

/** Close codes the codec sends or checks (RFC 6455 section 7.4.1, IANA registry). */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  /** Never on the wire: "the close frame had no code". */
  NO_STATUS: 1005,
  /** Never on the wire: "the connection ended without a close frame". */
  ABNORMAL: 1006,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  MANDATORY_EXTENSION: 1010,
  INTERNAL_ERROR: 1011,
} as const;

/** Stable codes of {@link WebSocketError}; tests and the runtime branch on these, never on text. */
export const WebSocketErrorCodes = {
  /** Opcode 3-7 or 11-15. Close 1002. */
  RESERVED_OPCODE: 'MITMTS_ERR_WS_RESERVED_OPCODE',
  /** An RSV bit set that no negotiated extension defines (or RSV1 on a continuation/control frame). Close 1002. */
  RESERVED_BITS: 'MITMTS_ERR_WS_RESERVED_BITS',
  /** A client frame without mask, or a server frame with one. Close 1002. */
  MASK: 'MITMTS_ERR_WS_MASK',
  /** A 64-bit payload length with the most significant bit set. Close 1002. */
  BAD_LENGTH: 'MITMTS_ERR_WS_BAD_LENGTH',
  /** A control frame with more than 125 bytes of payload, or fragmented. Close 1002. */
  BAD_CONTROL_FRAME: 'MITMTS_ERR_WS_BAD_CONTROL_FRAME',
  /** A continuation frame with no message started, or a new data frame inside a fragmented message. Close 1002. */
  BAD_FRAGMENTATION: 'MITMTS_ERR_WS_BAD_FRAGMENTATION',
  /** A close frame with a 1-byte payload or a code that may not be sent. Close 1002. */
  BAD_CLOSE: 'MITMTS_ERR_WS_BAD_CLOSE',
  /** A text message or close reason that is not UTF-8. Close 1007. */
  INVALID_UTF8: 'MITMTS_ERR_WS_INVALID_UTF8',
  /** A compressed message that does not inflate. Close 1007. */
  BAD_COMPRESSION: 'MITMTS_ERR_WS_BAD_COMPRESSION',
  /** A message larger than the size limit or made of more frames than the frame limit. Close 1009. */
  TOO_BIG: 'MITMTS_ERR_WS_TOO_BIG',
  /** Data after the peer's own close frame. Close 1002. */
  AFTER_CLOSE: 'MITMTS_ERR_WS_AFTER_CLOSE',
} as const;

/** One of the {@link WebSocketErrorCodes} values. */
export type WebSocketErrorCode = (typeof WebSocketErrorCodes)[keyof typeof WebSocketErrorCodes];

const CLOSE_CODE: Record<WebSocketErrorCode, number> = {
  MITMTS_ERR_WS_RESERVED_OPCODE: CloseCode.PROTOCOL_ERROR,
  MITMTS_ERR_WS_RESERVED_BITS: CloseCode.PROTOCOL_ERROR,
  MITMTS_ERR_WS_MASK: CloseCode.PROTOCOL_ERROR,
  MITMTS_ERR_WS_BAD_LENGTH: CloseCode.PROTOCOL_ERROR,
  MITMTS_ERR_WS_BAD_CONTROL_FRAME: CloseCode.PROTOCOL_ERROR,
  MITMTS_ERR_WS_BAD_FRAGMENTATION: CloseCode.PROTOCOL_ERROR,
  MITMTS_ERR_WS_BAD_CLOSE: CloseCode.PROTOCOL_ERROR,
  MITMTS_ERR_WS_INVALID_UTF8: CloseCode.INVALID_PAYLOAD,
  MITMTS_ERR_WS_BAD_COMPRESSION: CloseCode.INVALID_PAYLOAD,
  MITMTS_ERR_WS_TOO_BIG: CloseCode.MESSAGE_TOO_BIG,
  MITMTS_ERR_WS_AFTER_CLOSE: CloseCode.PROTOCOL_ERROR,
};

/** Which peer sent the bytes an error was found in. */
export type WebSocketSide = 'client' | 'server';

/**
 * A protocol error in one direction of a WebSocket connection. `closeCode` and `closeReason`
 * are what the proxy sends in its close frames when it fails the connection; the reason is short
 * (a close frame's payload is at most 125 bytes), the message says what and where in full.
 */
export class WebSocketError extends ProtocolError<WebSocketErrorCode> {
  override readonly name = 'WebSocketError';
  readonly protocol = 'websocket';
  /** Close code to fail the connection with (1002, 1007 or 1009). */
  readonly closeCode: number;
  /** Short close reason for the close frame (ASCII, <= 123 bytes). */
  readonly closeReason: string;
  /** The peer whose bytes were bad, when known. */
  side: WebSocketSide | undefined;
  /** Byte offset in that direction's stream where the bad frame starts, or -1 (the relay fills it in). */
  declare offset: number;

  constructor(code: WebSocketErrorCode, closeReason: string, detail: string, offset = -1) {
    super(code, detail ? `${closeReason}: ${detail}` : closeReason, offset);
    this.closeCode = CLOSE_CODE[code];
    this.closeReason = closeReason.slice(0, 123);
    this.side = undefined;
  }

  /** The message with the side and offset, for logs. */
  describe(): string {
    const where = this.side ? ` from the ${this.side}` : '';
    const at = this.offset >= 0 ? ` (frame at byte ${this.offset})` : '';
    return `WebSocket protocol error${where}${at}: ${this.message}`;
  }
}

/** Stable codes of {@link WebSocketHandshakeError}. */
export const WebSocketHandshakeErrorCodes = {
  /** The upgrade request is not a valid WebSocket opening handshake (RFC 6455 section 4.2.1). */
  BAD_REQUEST: 'MITMTS_ERR_WS_HANDSHAKE_REQUEST',
  /** The server's 101 answer is not a valid WebSocket handshake answer (RFC 6455 section 4.1). */
  BAD_RESPONSE: 'MITMTS_ERR_WS_HANDSHAKE_RESPONSE',
  /** `Sec-WebSocket-Extensions` is malformed or the agreed parameters are not allowed (RFC 7692 section 7.1). */
  BAD_EXTENSION: 'MITMTS_ERR_WS_HANDSHAKE_EXTENSION',
} as const;

/** One of the {@link WebSocketHandshakeErrorCodes} values. */
export type WebSocketHandshakeErrorCode =
  (typeof WebSocketHandshakeErrorCodes)[keyof typeof WebSocketHandshakeErrorCodes];

/** A WebSocket opening handshake that cannot be used; `header` names the field at fault. */
export class WebSocketHandshakeError extends ProtocolError<WebSocketHandshakeErrorCode> {
  override readonly name = 'WebSocketHandshakeError';
  readonly protocol = 'websocket';
  /** The header field at fault, when one is. */
  readonly header: string | undefined;

  constructor(code: WebSocketHandshakeErrorCode, message: string, header?: string) {
    super(code, message);
    this.header = header;
  }
}
