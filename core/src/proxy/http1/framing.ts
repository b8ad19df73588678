/**
 * Message framing (RFC 9112 section 6) and the request smuggling checks of mitmproxy's
 * `validate_inbound_headers`, decided once per head from what {@link FieldScan} collected.
 * @internal
 */
import type { Buffer } from 'node:buffer';
import { HTAB, SP, TOKEN, excerpt, latin1 } from './chars.js';
import { HeadError, type Http1ErrorCode, Http1ErrorCodes } from './errors.js';
import type { FieldScan } from './fields.js';
import type { BodyKind, Http1Version } from './types.js';

/** Largest Content-Length accepted: 15 digits (just under 1 PB), exact in a double. */
const MAX_CL_DIGITS = 15;

/** Transfer-coding lists accepted in strict mode, normalized (lower case, no whitespace). */
const KNOWN_CODINGS = new Set([
  'chunked',
  'compress,chunked',
  'deflate,chunked',
  'gzip,chunked',
  'compress',
  'deflate',
  'gzip',
  'identity',
]);

/** What the framing analysis decides; written into the head by the caller. */
export interface FramingResult {
  bodyKind: BodyKind;
  contentLength: number;
}

/**
 * Framing of a request: Transfer-Encoding ending in chunked, else Content-Length, else no body.
 * CONNECT never has a body.
 */
export function requestFraming(
  scan: FieldScan,
  version: Http1Version,
  method: string,
  strict: boolean,
  out: FramingResult,
): void {
  if (strict && scan.hostCount > 1) {
    throw new HeadError(
      Http1ErrorCodes.BAD_HOST,
      `Request has ${scan.hostCount} Host headers; exactly one is allowed (RFC 9112 section 3.2).`,
      -1,
      'Host',
    );
  }
  const cl = scan.contentLength.length === 0 ? -1 : contentLength(scan, strict);
  if (scan.transferEncoding.length !== 0) {
    const chunked = transferEncoding(scan, version, strict, true, 0);
    if (method === 'CONNECT') {
      throw new HeadError(
        Http1ErrorCodes.BAD_TRANSFER_ENCODING,
        'CONNECT request with a Transfer-Encoding header; CONNECT requests have no body.',
        -1,
        scan.teName,
      );
    }
    if (!chunked) {
      throw new HeadError(
        Http1ErrorCodes.BAD_TRANSFER_ENCODING,
        `Request Transfer-Encoding ${quoted(scan.transferEncoding)} does not end in "chunked", so the body length cannot be determined (RFC 9112 section 6.3).`,
        -1,
        scan.teName,
      );
    }
    out.bodyKind = 'chunked';
    out.contentLength = -1;
    return;
  }
  if (method === 'CONNECT' && cl > 0) {
    throw new HeadError(
      Http1ErrorCodes.BAD_CONTENT_LENGTH,
      `CONNECT request with Content-Length ${cl}; CONNECT requests have no body.`,
      -1,
      scan.clName,
    );
  }
  out.contentLength = cl;
  out.bodyKind = cl > 0 ? 'length' : 'none';
}

/**
 * Framing of a response to a `requestMethod` request: no body for HEAD, 1xx, 204 and 304; a
 * tunnel for 101 and for 2xx to CONNECT; chunked if Transfer-Encoding ends in chunked, read until
 * close if it does not; else Content-Length; else read until close.
 */
export function responseFraming(
  scan: FieldScan,
  version: Http1Version,
  status: number,
  requestMethod: string,
  strict: boolean,
  out: FramingResult,
): void {
  const cl = scan.contentLength.length === 0 ? -1 : contentLength(scan, strict);
  const chunked = scan.transferEncoding.length === 0 ? null : transferEncoding(scan, version, strict, false, status);
  out.contentLength = chunked === null ? cl : -1;
  if (status === 101 || (requestMethod === 'CONNECT' && status >= 200 && status < 300)) {
    out.bodyKind = 'tunnel';
  } else if (status < 200 || status === 204 || status === 304 || requestMethod === 'HEAD') {
    out.bodyKind = 'none';
  } else if (chunked !== null) {
    out.bodyKind = chunked ? 'chunked' : 'close';
  } else if (cl >= 0) {
    out.bodyKind = cl > 0 ? 'length' : 'none';
  } else {
    out.bodyKind = 'close';
  }
}

/** The single Content-Length value; repeated headers are an error (strict) or must agree (lax). */
function contentLength(scan: FieldScan, strict: boolean): number {
  const values = scan.contentLength;
  if (strict && values.length > 1) {
    throw new HeadError(
      Http1ErrorCodes.BAD_CONTENT_LENGTH,
      `${values.length} Content-Length headers (${quoted(values)}); exactly one is allowed, as a smuggling guard.`,
      -1,
      scan.clName,
    );
  }
  let result = -1;
  for (const v of values) {
    for (const n of strict ? [decimal(v, 0, v.length, true, scan.clName)] : list(v, scan.clName)) {
      if (result >= 0 && n !== result) {
        throw new HeadError(
          Http1ErrorCodes.BAD_CONTENT_LENGTH,
          `Conflicting Content-Length values ${quoted(values)}.`,
          -1,
          scan.clName,
        );
      }
      result = n;
    }
  }
  return result;
}

/** Calls `each(start, end)` for every comma-separated element of `v`, with OWS trimmed. */
function forEachElement(v: Buffer, each: (start: number, end: number) => void): void {
  let start = 0;
  for (let i = 0; i <= v.length; i++) {
    if (i === v.length || v[i] === 0x2c) {
      let s = start;
      let e = i;
      while (s < e && (v[s] === SP || v[s] === HTAB)) s++;
      while (e > s && (v[e - 1] === SP || v[e - 1] === HTAB)) e--;
      start = i + 1;
      each(s, e);
    }
  }
}

function list(v: Buffer, name: string): number[] {
  const out: number[] = [];
  forEachElement(v, (s, e) => out.push(decimal(v, s, e, false, name)));
  return out;
}

/** Parses `1*DIGIT`; strict also refuses leading zeros (as mitmproxy does: "010" is ambiguous). */
function decimal(v: Buffer, s: number, e: number, strict: boolean, name: string): number {
  let n = 0;
  const ok = e > s && e - s <= MAX_CL_DIGITS && !(strict && v[s] === 0x30 && e - s > 1);
  for (let i = s; ok && i < e; i++) {
    const d = v[i]! - 0x30;
    if (d < 0 || d > 9) return badLength(v, name);
    n = n * 10 + d;
  }
  return ok ? n : badLength(v, name);
}

function badLength(v: Buffer, name: string): never {
  throw new HeadError(
    Http1ErrorCodes.BAD_CONTENT_LENGTH,
    `Invalid Content-Length ${excerpt(v, 0, v.length)}: expected a decimal number without sign, spaces or leading zeros.`,
    -1,
    name,
  );
}

/**
 * Validates the Transfer-Encoding headers and returns whether chunked is the final coding.
 * `status` is 0 for requests.
 */
function transferEncoding(
  scan: FieldScan,
  version: Http1Version,
  strict: boolean,
  request: boolean,
  status: number,
): boolean {
  const values = scan.transferEncoding;
  const te = scan.teName;
  if (strict) {
    const fail = (msg: string, code: Http1ErrorCode = Http1ErrorCodes.BAD_TRANSFER_ENCODING): never => {
      throw new HeadError(code, msg, -1, te);
    };
    if (scan.contentLength.length !== 0) {
      throw new HeadError(
        Http1ErrorCodes.CONFLICTING_FRAMING,
        `Message has both Transfer-Encoding (${quoted(values)}) and Content-Length (${quoted(scan.contentLength)}); refusing it as a request smuggling attempt (RFC 9112 section 6.1).`,
        -1,
        te,
      );
    }
    if (values.length > 1)
      fail(
        `${values.length} Transfer-Encoding headers (${quoted(values)}); exactly one is allowed, as a smuggling guard.`,
      );
    if (version !== 'HTTP/1.1')
      fail(`Transfer-Encoding ${quoted(values)} on an ${version} message; Transfer-Encoding needs HTTP/1.1.`);
    if (!request && (status < 200 || status === 204))
      fail(`Transfer-Encoding on a ${status} response, which cannot have a body.`);
    const codings = tokens(values[0]!, true, te);
    const normalized = codings.join(',');
    if (!KNOWN_CODINGS.has(normalized)) {
      fail(
        `Unsupported Transfer-Encoding ${quoted(values)}; accepted: chunked, or gzip/deflate/compress optionally followed by chunked, or identity.`,
        request ? Http1ErrorCodes.UNSUPPORTED_TRANSFER_ENCODING : Http1ErrorCodes.BAD_TRANSFER_ENCODING,
      );
    }
    return codings[codings.length - 1] === 'chunked';
  }
  const codings: string[] = [];
  for (const v of values) codings.push(...tokens(v, false, te));
  const i = codings.indexOf('chunked');
  if (i >= 0 && i !== codings.length - 1) {
    throw new HeadError(
      Http1ErrorCodes.BAD_TRANSFER_ENCODING,
      `Transfer-Encoding ${quoted(values)} applies chunked before another coding; chunked must be last and only once.`,
      -1,
      te,
    );
  }
  return i >= 0;
}

/** Splits a coding list into lower-case tokens; empty elements are an error in strict mode. */
function tokens(v: Buffer, strict: boolean, name: string): string[] {
  const out: string[] = [];
  forEachElement(v, (s, e) => {
    if (s === e) {
      if (strict) {
        throw new HeadError(
          Http1ErrorCodes.BAD_TRANSFER_ENCODING,
          `Empty element in Transfer-Encoding ${excerpt(v, 0, v.length)}.`,
          -1,
          name,
        );
      }
      return;
    }
    for (let k = s; k < e; k++) {
      if (TOKEN[v[k]!] !== 1) {
        throw new HeadError(
          Http1ErrorCodes.BAD_TRANSFER_ENCODING,
          `Invalid transfer coding in Transfer-Encoding ${excerpt(v, 0, v.length)}.`,
          -1,
          name,
        );
      }
    }
    out.push(latin1(v, s, e).toLowerCase());
  });
  if (out.length === 0) {
    throw new HeadError(Http1ErrorCodes.BAD_TRANSFER_ENCODING, 'Empty Transfer-Encoding header.', -1, name);
  }
  return out;
}

function quoted(values: Buffer[]): string {
  return values.map((v) => excerpt(v, 0, v.length)).join(', ');
}
