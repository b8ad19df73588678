/**
 * Head serialization: one Buffer per head, built from raw header pairs so that header order and
 * case go out exactly as received (or as an addon left them).
 */
import { Buffer } from 'node:buffer';
import { COLON, CR, LAX_NAME, LF, SP, TARGET, TOKEN, VALUE, describeByte, latin1, writeLatin1 } from './chars.js';
import { Http1Error, Http1ErrorCodes, type Http1Side } from './errors.js';

/** Header pairs to serialize: the parser's `RawHeaders` or a flow's `Headers.fields`. */
export type OutboundHeaders = ReadonlyArray<readonly [Buffer, Buffer]>;

/** What {@link serializeRequestHead} needs. A parsed {@link RequestHead} fits. */
export interface RequestHeadInit {
  method: string;
  /** Request-target as it goes on the wire (`/path?q`, `http://host/path`, `host:port`, `*`). */
  target: string;
  httpVersion: string;
  headers: OutboundHeaders;
}

/** What {@link serializeResponseHead} needs. A parsed {@link ResponseHead} fits. */
export interface ResponseHeadInit {
  httpVersion: string;
  statusCode: number;
  reason: string;
  headers: OutboundHeaders;
}

/** Options of the head serializers. */
export interface SerializeOptions {
  /**
   * Check every byte of the head (default true): method and names are tokens, the target has no
   * whitespace or control bytes, values and reason have no CR, LF, NUL or other control bytes.
   * Costs about a third of serialization; skip only for heads known to come from the parser
   * unchanged.
   */
  validate?: boolean;
  /**
   * Fields already checked (the parser's, for a head an addon then changed): a field that is the
   * same pair object as the next one of these is not checked again. Headers' mutating methods
   * share untouched pairs, so only the fields an addon set are checked.
   */
  checked?: OutboundHeaders;
}

const FIXED_HEADER_BYTES = 4; // ": " and CRLF

/** Serializes a request head: `METHOD SP target SP version CRLF *(name: value CRLF) CRLF`. */
export function serializeRequestHead(head: RequestHeadInit, options?: SerializeOptions): Buffer {
  const { method, target, httpVersion, headers } = head;
  const validate = options?.validate ?? true;
  if (validate) {
    checkString(method, TOKEN, 'request', 'method', false);
    checkString(target, TARGET, 'request', 'request-target', true);
    checkVersion(httpVersion, 'request');
  }
  const wide = !isLatin1(target);
  const targetBytes = wide ? Buffer.byteLength(target, 'utf8') : target.length;
  const size = method.length + targetBytes + httpVersion.length + 4 + headersSize(headers);
  const out = Buffer.allocUnsafe(size);
  let o = writeLatin1(out, method, 0);
  out[o++] = SP;
  o += wide ? out.write(target, o, 'utf8') : writeLatin1(out, target, o);
  out[o++] = SP;
  o += writeLatin1(out, httpVersion, o);
  out[o++] = CR;
  out[o++] = LF;
  writeHeaders(out, o, headers, validate, 'request', options?.checked);
  return out;
}

/** Serializes a response head: `version SP status SP reason CRLF *(name: value CRLF) CRLF`. */
export function serializeResponseHead(head: ResponseHeadInit, options?: SerializeOptions): Buffer {
  const { httpVersion, statusCode, reason, headers } = head;
  const validate = options?.validate ?? true;
  if (validate) {
    checkVersion(httpVersion, 'response');
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 999) {
      throw new Http1Error(
        Http1ErrorCodes.BAD_OUTBOUND,
        `Cannot send status code ${statusCode}: expected an integer from 100 to 999.`,
        'response',
      );
    }
    checkString(reason, VALUE, 'response', 'reason phrase', true, true);
  }
  const wide = !isLatin1(reason);
  const reasonBytes = wide ? Buffer.byteLength(reason, 'utf8') : reason.length;
  const size = httpVersion.length + 5 + reasonBytes + 2 + headersSize(headers);
  const out = Buffer.allocUnsafe(size);
  let o = writeLatin1(out, httpVersion, 0);
  out[o++] = SP;
  out[o++] = 0x30 + ((statusCode / 100) | 0);
  out[o++] = 0x30 + (((statusCode / 10) | 0) % 10);
  out[o++] = 0x30 + (statusCode % 10);
  out[o++] = SP;
  o += wide ? out.write(reason, o, 'utf8') : writeLatin1(out, reason, o);
  out[o++] = CR;
  out[o++] = LF;
  writeHeaders(out, o, headers, validate, 'response', options?.checked);
  return out;
}

/** Serialized size of header lines plus the final empty line. */
function headersSize(headers: OutboundHeaders): number {
  let size = 2;
  for (let i = 0; i < headers.length; i++) {
    const f = headers[i]!;
    size += f[0].length + f[1].length + FIXED_HEADER_BYTES;
  }
  return size;
}

function writeHeaders(
  out: Buffer,
  o: number,
  headers: OutboundHeaders,
  validate: boolean,
  side: Http1Side,
  checked: OutboundHeaders | undefined,
): void {
  let c = 0;
  for (let i = 0; i < headers.length; i++) {
    const f = headers[i]!;
    const name = f[0];
    const value = f[1];
    if (validate) {
      // `headers` may be `checked` with fields removed (hop-by-hop) or replaced: look ahead.
      let k = c;
      if (checked !== undefined) while (k < checked.length && checked[k] !== f) k++;
      if (checked !== undefined && k < checked.length) c = k + 1;
      else checkField(name, value, side);
    }
    out.set(name, o);
    o += name.length;
    out[o++] = COLON;
    out[o++] = SP;
    out.set(value, o);
    o += value.length;
    out[o++] = CR;
    out[o++] = LF;
  }
  out[o++] = CR;
  out[o] = LF;
}

/** Index of the first byte of `b` not in `allowed`, or -1. */
function firstInvalid(b: Buffer, allowed: Uint8Array): number {
  const n = b.length;
  for (let i = 0; i < n; i++) if (allowed[b[i]!] !== 1) return i;
  return -1;
}

/** Rejects header names that would end early or break the line, and values with control bytes. */
export function checkField(name: Buffer, value: Buffer, side: Http1Side): void {
  if (name.length !== 0 && firstInvalid(name, LAX_NAME) < 0 && firstInvalid(value, VALUE) < 0) return;
  const n = latin1(name, 0, name.length);
  if (name.length === 0) {
    throw new Http1Error(Http1ErrorCodes.BAD_OUTBOUND, 'Cannot send a header with an empty name.', side);
  }
  const i = firstInvalid(name, LAX_NAME);
  if (i >= 0) {
    throw new Http1Error(
      Http1ErrorCodes.BAD_OUTBOUND,
      `Cannot send header name "${n}": it contains ${describeByte(name[i])}.`,
      side,
      -1,
      n,
    );
  }
  const j = firstInvalid(value, VALUE);
  throw new Http1Error(
    Http1ErrorCodes.BAD_OUTBOUND,
    `Cannot send the value of header "${n}": it contains ${describeByte(value[j])} at index ${j}, which would corrupt or split the message.`,
    side,
    -1,
    n,
  );
}

/** Checks `s` against a byte class; chars above 0xff are allowed only if `wide` (sent as UTF-8). */
function checkString(
  s: string,
  allowed: Uint8Array,
  side: Http1Side,
  what: string,
  wide: boolean,
  mayBeEmpty = false,
): void {
  if (s.length === 0 && !mayBeEmpty) {
    throw new Http1Error(Http1ErrorCodes.BAD_OUTBOUND, `Cannot send an empty ${what}.`, side);
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x100 ? allowed[c] !== 1 : !wide) {
      throw new Http1Error(
        Http1ErrorCodes.BAD_OUTBOUND,
        `Cannot send ${what} ${JSON.stringify(s.length > 80 ? s.slice(0, 80) + '...' : s)}: it contains ${describeByte(c)} at index ${i}.`,
        side,
      );
    }
  }
}

function checkVersion(v: string, side: Http1Side): void {
  if (v !== 'HTTP/1.1' && v !== 'HTTP/1.0') {
    throw new Http1Error(
      Http1ErrorCodes.BAD_OUTBOUND,
      `Cannot send HTTP version ${JSON.stringify(v)} over HTTP/1; use HTTP/1.0 or HTTP/1.1.`,
      side,
    );
  }
}

const NON_LATIN1 = /[^\u0000-\u00ff]/;

/** Whether every char fits in one latin1 byte (else the string goes out as UTF-8). */
function isLatin1(s: string): boolean {
  return !NON_LATIN1.test(s);
}
