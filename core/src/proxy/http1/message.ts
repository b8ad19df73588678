/**
 * Whole buffered messages: head plus body (and trailers) in one Buffer, for one socket write.
 */
import { Buffer } from 'node:buffer';
import { encodeChunk, encodeLastChunk } from './chunked.js';
import { isChunked } from './raw-headers.js';
import {
  type OutboundHeaders,
  type RequestHeadInit,
  type ResponseHeadInit,
  type SerializeOptions,
  serializeRequestHead,
  serializeResponseHead,
} from './serialize.js';

/**
 * Body bytes as they go on the wire for these headers: chunk-encoded (one chunk plus the last
 * chunk with `trailers`) when Transfer-Encoding ends in chunked, else `body` unchanged. Framing
 * headers are the caller's: use {@link withContentLength} when a changed body goes out with
 * Content-Length.
 */
export function encodeBody(headers: OutboundHeaders, body: Buffer | null, trailers?: OutboundHeaders | null): Buffer[] {
  if (!isChunked(headers)) return body === null || body.length === 0 ? [] : [body];
  const pieces: Buffer[] = [];
  if (body !== null && body.length !== 0) pieces.push(encodeChunk(body));
  pieces.push(encodeLastChunk(trailers));
  return pieces;
}

/** A complete request (head, body, trailers) as one Buffer. See {@link encodeBody}. */
export function serializeRequest(
  head: RequestHeadInit,
  body: Buffer | null,
  trailers?: OutboundHeaders | null,
  options?: SerializeOptions,
): Buffer {
  const h = serializeRequestHead(head, options);
  return join(h, encodeBody(head.headers, body, trailers));
}

/**
 * A complete response as one Buffer. `requestMethod` matters: a response to HEAD (and 1xx, 204,
 * 304) goes out without body bytes whatever its headers say.
 */
export function serializeResponse(
  head: ResponseHeadInit,
  body: Buffer | null,
  requestMethod: string,
  trailers?: OutboundHeaders | null,
  options?: SerializeOptions,
): Buffer {
  const h = serializeResponseHead(head, options);
  const s = head.statusCode;
  if (requestMethod === 'HEAD' || s < 200 || s === 204 || s === 304) return h;
  return join(h, encodeBody(head.headers, body, trailers));
}

function join(head: Buffer, pieces: Buffer[]): Buffer {
  if (pieces.length === 0) return head;
  let size = head.length;
  for (const p of pieces) size += p.length;
  return Buffer.concat([head, ...pieces], size);
}
