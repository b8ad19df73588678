/**
 * HTTP/1.x codec of the proxy runtime: incremental, socket-free parsers for both directions and
 * serializers that keep header order and case. See {@link RequestParser}, {@link ResponseParser},
 * {@link serializeRequestHead}, {@link serializeResponseHead}.
 */
export { RequestParser } from './request-parser.js';
export { ResponseParser } from './response-parser.js';
export type { Http1Parser } from './parser.js';
export { Http1Error, Http1ErrorCodes, type Http1ErrorCode, type Http1Side } from './errors.js';
export type {
  BodyKind,
  Framing,
  Http1Handler,
  Http1ParserOptions,
  Http1Version,
  RawHeaders,
  RequestHead,
  ResponseHandler,
  ResponseHead,
  TargetForm,
  TargetParts,
} from './types.js';
export {
  serializeRequestHead,
  serializeResponseHead,
  type OutboundHeaders,
  type RequestHeadInit,
  type ResponseHeadInit,
  type SerializeOptions,
} from './serialize.js';
export { CHUNK_END, LAST_CHUNK, chunkHeader, chunkPieces, encodeChunk, encodeLastChunk } from './chunked.js';
export { encodeBody, serializeRequest, serializeResponse } from './message.js';
export { findHeader, getHeader, isChunked, toRawHeaders, withContentLength } from './raw-headers.js';
