/**
 * Close frame payloads (RFC 6455 section 5.5.1): empty, or a 2-byte code followed by a UTF-8
 * reason; 125 bytes at most.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { CloseCode, WebSocketError, WebSocketErrorCodes as C } from './errors.js';
import { MAX_CONTROL_PAYLOAD, Opcode, serializeFrame } from './frame.js';

/**
 * Whether `code` may appear in a close frame: 1000-1003, 1007-1014 (defined or registered), and
 * 3000-4999 (libraries, applications). 1004-1006 and 1015 are reserved or only for reporting.
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** A parsed close payload. */
export interface ClosePayload {
  /** The code, or {@link CloseCode.NO_STATUS} (1005) when the frame had none. */
  code: number;
  /** The reason, '' when there was none. */
  reason: string;
}

/**
 * Parse a close frame's (unmasked) payload.
 * @throws WebSocketError BAD_CLOSE for a 1-byte payload or a code that may not be sent,
 * INVALID_UTF8 for a reason that is not UTF-8.
 */
export function parseClosePayload(payload: Buffer): ClosePayload {
  if (payload.length === 0) return { code: CloseCode.NO_STATUS, reason: '' };
  if (payload.length === 1)
    throw new WebSocketError(
      C.BAD_CLOSE,
      'invalid close frame',
      'a close payload of 1 byte has no room for the 2-byte code',
    );
  const code = payload.readUInt16BE(0);
  if (!isValidCloseCode(code))
    throw new WebSocketError(C.BAD_CLOSE, 'invalid close code', `close code ${code} may not be sent`);
  const reason = payload.subarray(2);
  if (!isUtf8(reason))
    throw new WebSocketError(C.INVALID_UTF8, 'invalid close reason', 'the close reason is not UTF-8');
  return { code, reason: reason.toString('utf8') };
}

/**
 * A close frame's payload. The reason is cut (on a character boundary) to fit in 123 bytes.
 * @throws RangeError for a code that may not be sent.
 */
export function closePayload(code: number, reason = ''): Buffer {
  if (!isValidCloseCode(code))
    throw new RangeError(`Close code ${code} may not be sent (use 1000-1003, 1007-1014 or 3000-4999).`);
  let r = Buffer.from(reason, 'utf8');
  if (r.length > MAX_CONTROL_PAYLOAD - 2) {
    let end = MAX_CONTROL_PAYLOAD - 2;
    while (end > 0 && (r[end]! & 0xc0) === 0x80) end--;
    r = r.subarray(0, end);
  }
  const out = Buffer.allocUnsafe(2 + r.length);
  out.writeUInt16BE(code, 0);
  r.copy(out, 2);
  return out;
}

/** A whole close frame; `mask` for frames sent to a server. */
export function serializeClose(code: number, reason: string, mask: boolean): Buffer {
  return serializeFrame({ opcode: Opcode.CLOSE, payload: closePayload(code, reason), mask });
}
