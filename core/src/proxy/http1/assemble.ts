/**
 * A request or response of a flow as HTTP/1 bytes (mitmproxy's `assemble_request` and
 * `assemble_response`): what `export raw` writes and what a client would have sent.
 */
import type { Buffer } from 'node:buffer';
import type { Request } from '../../flow/request.js';
import type { Response } from '../../flow/response.js';
import { serializeRequest, serializeResponse } from './message.js';

/** The request target as the request's first line had it (origin, absolute or authority form). */
function target(r: Request): string {
  switch (r.firstLineFormat) {
    case 'authority':
      return `${r.host}:${r.port}`;
    case 'absolute':
      return r.url;
    default:
      return r.path;
  }
}

/**
 * The request as HTTP/1 bytes: head, raw content (the body as it came over the wire, still
 * content-encoded), trailers when the body is chunked. Headers are written as they are, without
 * validation.
 */
export function assembleRequest(r: Request): Buffer {
  const head = { method: r.method, target: target(r), httpVersion: r.httpVersion, headers: r.headers.fields };
  return serializeRequest(head, r.rawContent, r.trailers?.fields ?? null, { validate: false });
}

/** The response as HTTP/1 bytes, like {@link assembleRequest}. */
export function assembleResponse(r: Response): Buffer {
  const head = { httpVersion: r.httpVersion, statusCode: r.statusCode, reason: r.reason, headers: r.headers.fields };
  return serializeResponse(head, r.rawContent, 'GET', r.trailers?.fields ?? null, { validate: false });
}
