/**
 * HTTP/2 codec of the proxy runtime (RFC 9113, HPACK RFC 7541): socket-free connections for
 * both roles, with streams, flow control that follows the reader, header validation and flood
 * guards. See {@link Http2Connection} and README.md.
 */
export { Http2Connection } from './connection.js';
export { Http2Error, Http2ErrorCodes, type Http2ErrorCodeName } from './errors.js';
export { ErrorCode, Flag, FrameType, PREFACE, SettingId, errorCodeName } from './constants.js';
export {
  Http2Head,
  type FloodLimits,
  type Http2Handler,
  type Http2Options,
  type Http2RequestInit,
  type Http2ResponseInit,
  type Http2Role,
  type Http2Settings,
  type RateLimit,
  type ResetCause,
} from './types.js';
export { DEFAULT_FLOOD_LIMITS } from './flood.js';
export { FrameWriter } from './frame-writer.js';
export {
  readFrameHeader,
  readGoaway,
  readPriority,
  readSettings,
  splitFrames,
  unpadded,
  type Frame,
  type FrameHeader,
  type PriorityFields,
} from './frames.js';
export type { RawHeaders } from '../http1/types.js';
export type { OutboundHeaders } from '../http1/serialize.js';
