/**
 * Wire constants of HTTP/2 (RFC 9113): frame types, flags, error codes, setting identifiers,
 * the connection preface and the protocol's fixed limits.
 */
import { Buffer } from 'node:buffer';

/** Frame types (RFC 9113 section 6). Other values are extension frames, which are ignored. */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags. `ACK` shares its bit with `END_STREAM` (SETTINGS and PING vs DATA and HEADERS). */
export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** Error codes of RST_STREAM and GOAWAY (RFC 9113 section 7). */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

const ERROR_NAMES = Object.fromEntries(Object.entries(ErrorCode).map(([k, v]) => [v, k])) as Record<number, string>;

/** `PROTOCOL_ERROR (0x1)`, or `unknown error 0x2a` for codes outside RFC 9113. */
export function errorCodeName(code: number): string {
  const name = ERROR_NAMES[code];
  return name === undefined ? `unknown error 0x${code.toString(16)}` : `${name} (0x${code.toString(16)})`;
}

/** SETTINGS identifiers (RFC 9113 section 6.5.2, RFC 8441 section 3). */
export const SettingId = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  ENABLE_CONNECT_PROTOCOL: 0x8,
} as const;

/** The client connection preface: `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (RFC 9113 section 3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Size of a frame header. */
export const FRAME_HEADER_SIZE = 9;
/** Largest flow-control window (2^31 - 1). */
export const MAX_WINDOW = 0x7fffffff;
/** Initial window of streams and of the connection before SETTINGS change it. */
export const DEFAULT_WINDOW = 65535;
/** SETTINGS_MAX_FRAME_SIZE bounds: the default (and minimum), and the maximum (2^24 - 1). */
export const MIN_MAX_FRAME_SIZE = 16384;
export const MAX_MAX_FRAME_SIZE = 0xffffff;
/** Default SETTINGS_HEADER_TABLE_SIZE. */
export const DEFAULT_HEADER_TABLE_SIZE = 4096;
/** Largest stream identifier (2^31 - 1). */
export const MAX_STREAM_ID = 0x7fffffff;
