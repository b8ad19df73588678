/**
 * Start lines and whole heads: turns one complete head block into a {@link RequestHead} or
 * {@link ResponseHead}. Pure functions over a Buffer range; errors are {@link HeadError}s with
 * offsets relative to the head.
 * @internal
 */
import type { Buffer } from 'node:buffer';
import { CR, LAX_NAME, LF, SP, TARGET, TOKEN, VALUE, describeByte, excerpt, latin1 } from './chars.js';
import { HeadError, Http1ErrorCodes } from './errors.js';
import { FieldScan, parseFields } from './fields.js';
import { type FramingResult, requestFraming, responseFraming } from './framing.js';
import { parseTarget } from './target.js';
import type { Http1Version, RawHeaders, RequestHead, ResponseHead } from './types.js';

/** `buf[i..i+7)` is `HTTP/1.` */
function isHttp1Prefix(buf: Buffer, i: number): boolean {
  return (
    buf[i] === 0x48 &&
    buf[i + 1] === 0x54 &&
    buf[i + 2] === 0x54 &&
    buf[i + 3] === 0x50 &&
    buf[i + 4] === 0x2f &&
    buf[i + 5] === 0x31 &&
    buf[i + 6] === 0x2e
  );
}

/**
 * Reads `HTTP/1.0` or `HTTP/1.1` at `i`; another well-formed `HTTP/x.y` raises 505, anything
 * else raises `code`.
 */
function version(
  buf: Buffer,
  i: number,
  code: typeof Http1ErrorCodes.BAD_REQUEST_LINE | typeof Http1ErrorCodes.BAD_STATUS_LINE,
  base: number,
  what: string,
): Http1Version {
  if (isHttp1Prefix(buf, i)) {
    if (buf[i + 7] === 0x31) return 'HTTP/1.1';
    if (buf[i + 7] === 0x30) return 'HTTP/1.0';
  }
  const d = (k: number): boolean => buf[i + k]! >= 0x30 && buf[i + k]! <= 0x39;
  const shown = excerpt(buf, i, Math.min(buf.indexOf(CR, i), i + 16));
  if (
    buf[i] === 0x48 &&
    buf[i + 1] === 0x54 &&
    buf[i + 2] === 0x54 &&
    buf[i + 3] === 0x50 &&
    buf[i + 4] === 0x2f &&
    d(5) &&
    buf[i + 6] === 0x2e &&
    d(7)
  ) {
    throw new HeadError(
      Http1ErrorCodes.UNSUPPORTED_VERSION,
      `HTTP version ${shown} is not supported over HTTP/1 framing; use HTTP/1.0 or HTTP/1.1.`,
      i - base,
    );
  }
  throw new HeadError(
    code,
    `Invalid HTTP version ${shown} in the ${what} at byte ${i - base}; expected HTTP/1.0 or HTTP/1.1.`,
    i - base,
  );
}

/** Common methods as constant strings, so parsing them allocates nothing. */
function method(buf: Buffer, s: number, e: number): string {
  const c = buf[s];
  switch (e - s) {
    case 3:
      if (c === 0x47 && buf[s + 1] === 0x45 && buf[s + 2] === 0x54) return 'GET';
      if (c === 0x50 && buf[s + 1] === 0x55 && buf[s + 2] === 0x54) return 'PUT';
      break;
    case 4:
      if (c === 0x50 && buf[s + 1] === 0x4f && buf[s + 2] === 0x53 && buf[s + 3] === 0x54) return 'POST';
      if (c === 0x48 && buf[s + 1] === 0x45 && buf[s + 2] === 0x41 && buf[s + 3] === 0x44) return 'HEAD';
      break;
  }
  return latin1(buf, s, e);
}

const framing: FramingResult = { bodyKind: 'none', contentLength: -1 };

/**
 * Parses a request head in `buf[start..end)`, where `end` is just past the terminating empty
 * line. `scan` is the parser's scratch object.
 */
export function parseRequestHead(
  buf: Buffer,
  start: number,
  end: number,
  strict: boolean,
  scan: FieldScan,
): RequestHead {
  // request-line = method SP request-target SP HTTP-version CRLF
  let pos = start;
  while (TOKEN[buf[pos]!] === 1) pos++;
  if (pos === start || buf[pos] !== SP) throw badRequestLine(buf, start, pos, 'method');
  const m = method(buf, start, pos);
  const targetStart = ++pos;
  while (TARGET[buf[pos]!] === 1) pos++;
  if (pos === targetStart || buf[pos] !== SP) throw badRequestLine(buf, start, pos, 'request-target');
  const target = pos - targetStart === 1 && buf[targetStart] === 0x2f ? '/' : latin1(buf, targetStart, pos);
  pos++;
  const httpVersion = version(buf, pos, Http1ErrorCodes.BAD_REQUEST_LINE, start, 'request line');
  pos += 8;
  if (buf[pos] !== CR || buf[pos + 1] !== LF) throw badRequestLine(buf, start, pos, 'line end');
  pos += 2;

  const headers: RawHeaders = [];
  scan.reset();
  parseFields(buf, pos, end - 2, strict ? TOKEN : LAX_NAME, headers, scan, start);
  requestFraming(scan, httpVersion, m, strict, framing);
  const http11 = httpVersion === 'HTTP/1.1';
  const head: RequestHead = {
    method: m,
    target,
    form: 'origin',
    scheme: '',
    authority: '',
    host: '',
    port: 0,
    path: '',
    httpVersion,
    headers,
    bodyKind: framing.bodyKind,
    contentLength: framing.contentLength,
    keepAlive: http11 ? !scan.close : scan.keepAlive && !scan.close,
    upgrade: http11 && scan.connectionUpgrade && scan.hasUpgrade,
    expectContinue: http11 && scan.expectContinue,
    headSize: end - start,
  };
  parseTarget(m, target, targetStart - start, head);
  return head;
}

/** Parses a response head to a `requestMethod` request in `buf[start..end)`. */
export function parseResponseHead(
  buf: Buffer,
  start: number,
  end: number,
  strict: boolean,
  scan: FieldScan,
  requestMethod: string,
): ResponseHead {
  // status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF
  const httpVersion = version(buf, start, Http1ErrorCodes.BAD_STATUS_LINE, start, 'status line');
  let pos = start + 8;
  const d0 = buf[pos + 1]! - 0x30;
  const d1 = buf[pos + 2]! - 0x30;
  const d2 = buf[pos + 3]! - 0x30;
  if (buf[pos] !== SP || d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) {
    throw badStatusLine(buf, start, pos, 'status code (three digits after one space)');
  }
  const statusCode = d0 * 100 + d1 * 10 + d2;
  pos += 4;
  let reason = '';
  if (buf[pos] === SP) {
    const reasonStart = ++pos;
    while (VALUE[buf[pos]!] === 1) pos++;
    reason =
      pos - reasonStart === 2 && buf[reasonStart] === 0x4f && buf[reasonStart + 1] === 0x4b
        ? 'OK'
        : latin1(buf, reasonStart, pos);
  }
  if (buf[pos] !== CR || buf[pos + 1] !== LF) throw badStatusLine(buf, start, pos, 'reason phrase or line end');
  pos += 2;

  const headers: RawHeaders = [];
  scan.reset();
  parseFields(buf, pos, end - 2, strict ? TOKEN : LAX_NAME, headers, scan, start);
  responseFraming(scan, httpVersion, statusCode, requestMethod, strict, framing);
  const kind = framing.bodyKind;
  return {
    httpVersion,
    statusCode,
    reason,
    headers,
    bodyKind: kind,
    contentLength: framing.contentLength,
    keepAlive:
      kind !== 'close' &&
      kind !== 'tunnel' &&
      (httpVersion === 'HTTP/1.1' ? !scan.close : scan.keepAlive && !scan.close),
    upgrade: statusCode === 101,
    expectContinue: false,
    headSize: end - start,
  };
}

/** Parses a trailer block `buf[start..end)` (field lines and the empty line). */
export function parseTrailerBlock(buf: Buffer, start: number, end: number, strict: boolean): RawHeaders {
  const out: RawHeaders = [];
  parseFields(buf, start, end - 2, strict ? TOKEN : LAX_NAME, out, null, start);
  return out;
}

function badRequestLine(buf: Buffer, start: number, pos: number, what: string): HeadError {
  const c = buf[pos];
  const line = excerpt(buf, start, Math.max(buf.indexOf(LF, start) + 1, pos + 1), 80);
  if (c === LF || (c === CR && buf[pos + 1] !== LF)) {
    return new HeadError(
      Http1ErrorCodes.BAD_LINE_ENDING,
      `Line ending without CRLF (${describeByte(c)}) at byte ${pos - start} in request line ${line}.`,
      pos - start,
    );
  }
  if (what === 'request-target' && c === CR) {
    return new HeadError(
      Http1ErrorCodes.BAD_REQUEST_LINE,
      `Request line ${line} has no HTTP version; HTTP/0.9 is not supported.`,
      pos - start,
    );
  }
  return new HeadError(
    Http1ErrorCodes.BAD_REQUEST_LINE,
    `Invalid ${what} in request line ${line}: unexpected ${describeByte(c)} at byte ${pos - start}. Expected "METHOD SP target SP HTTP/1.1".`,
    pos - start,
  );
}

function badStatusLine(buf: Buffer, start: number, pos: number, what: string): HeadError {
  const line = excerpt(buf, start, Math.max(buf.indexOf(LF, start) + 1, pos + 1), 80);
  return new HeadError(
    Http1ErrorCodes.BAD_STATUS_LINE,
    `Invalid ${what} in status line ${line} at byte ${pos - start}. Expected "HTTP/1.1 SP 3DIGIT SP reason".`,
    pos - start,
  );
}
