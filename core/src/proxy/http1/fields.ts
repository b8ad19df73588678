/**
 * Header field lines (RFC 9112 section 5): one pass over the bytes that splits, validates and
 * notes the framing headers. Used for heads and for trailer blocks.
 * @internal
 */
import type { Buffer } from 'node:buffer';
import {
  COLON,
  CR,
  FastBuffer,
  HTAB,
  LF,
  SP,
  VALUE,
  describeByte,
  equalsLower,
  excerpt,
  latin1,
  lower,
} from './chars.js';
import { HeadError, Http1ErrorCodes } from './errors.js';
import type { RawHeaders } from './types.js';

const L_HOST = lower('host');
const L_EXPECT = lower('expect');
const L_UPGRADE = lower('upgrade');
const L_CONNECTION = lower('connection');
const L_CONTENT_LENGTH = lower('content-length');
const L_TRANSFER_ENCODING = lower('transfer-encoding');
const L_CLOSE = lower('close');
const L_KEEP_ALIVE = lower('keep-alive');
const L_100_CONTINUE = lower('100-continue');

/**
 * The framing-relevant headers seen in a head, collected while splitting it. One instance per
 * parser, reset per head, so a head costs no extra allocation unless it has odd headers.
 */
export class FieldScan {
  /** Content-Length values, in order (almost always zero or one). */
  contentLength: Buffer[] = [];
  /** Transfer-Encoding values, in order. */
  transferEncoding: Buffer[] = [];
  /** Name of the first Transfer-Encoding / Content-Length header, as received, for messages. */
  teName = '';
  clName = '';
  close = false;
  keepAlive = false;
  connectionUpgrade = false;
  hasUpgrade = false;
  expectContinue = false;
  hostCount = 0;

  reset(): void {
    if (this.contentLength.length !== 0) this.contentLength = [];
    if (this.transferEncoding.length !== 0) this.transferEncoding = [];
    this.close = false;
    this.keepAlive = false;
    this.connectionUpgrade = false;
    this.hasUpgrade = false;
    this.expectContinue = false;
    this.hostCount = 0;
  }
}

/**
 * Splits the field lines in `buf[pos..limit)` (each ending in CRLF; `limit` is where the empty
 * line starts) into `out`. `names` is the byte class allowed in names ({@link TOKEN} when
 * strict). With `scan`, framing headers are recorded in it. `base` is subtracted from positions
 * in errors so that they are relative to the head.
 */
export function parseFields(
  buf: Buffer,
  pos: number,
  limit: number,
  names: Uint8Array,
  out: RawHeaders,
  scan: FieldScan | null,
  base: number,
): void {
  // views are built from the backing store directly: `buf.buffer`/`byteOffset` once per block
  const ab = buf.buffer;
  const bo = buf.byteOffset;
  while (pos < limit) {
    const lineStart = pos;
    let c = buf[pos];
    if (c === SP || c === HTAB) {
      throw new HeadError(
        Http1ErrorCodes.OBS_FOLD,
        out.length === 0
          ? `Whitespace before the first header line at byte ${pos - base}; this is rejected as a smuggling risk (RFC 9112 section 2.2).`
          : `Obsolete line folding (header line starting with whitespace) after header "${latin1(out[out.length - 1]![0], 0, out[out.length - 1]![0].length)}" at byte ${pos - base}; send the value on one line.`,
        pos - base,
      );
    }
    while (names[buf[pos]!] === 1) pos++;
    const nameEnd = pos;
    c = buf[pos];
    if (c !== COLON || nameEnd === lineStart) throw badName(buf, lineStart, pos, base);
    pos++;
    while ((c = buf[pos]) === SP || c === HTAB) pos++;
    const valueStart = pos;
    while (VALUE[buf[pos]!] === 1) pos++;
    if (buf[pos] !== CR || buf[pos + 1] !== LF) throw badValue(buf, lineStart, nameEnd, pos, base);
    let valueEnd = pos;
    while (valueEnd > valueStart && ((c = buf[valueEnd - 1]) === SP || c === HTAB)) valueEnd--;
    pos += 2;
    const name = new FastBuffer(ab, bo + lineStart, nameEnd - lineStart);
    const value = new FastBuffer(ab, bo + valueStart, valueEnd - valueStart);
    out.push([name, value]);
    if (scan !== null) note(scan, buf, lineStart, nameEnd - lineStart, value);
  }
}

/** Records `name: value` in `scan` if it is one of the headers that decide framing. */
function note(scan: FieldScan, buf: Buffer, n: number, len: number, value: Buffer): void {
  switch (len) {
    case 4:
      if (equalsLower(buf, n, L_HOST)) scan.hostCount++;
      return;
    case 6:
      if (equalsLower(buf, n, L_EXPECT) && value.length === 12 && equalsLower(value, 0, L_100_CONTINUE)) {
        scan.expectContinue = true;
      }
      return;
    case 7:
      if (equalsLower(buf, n, L_UPGRADE) && value.length !== 0) scan.hasUpgrade = true;
      return;
    case 10:
      if (equalsLower(buf, n, L_CONNECTION)) connectionTokens(scan, value);
      return;
    case 14:
      if (equalsLower(buf, n, L_CONTENT_LENGTH)) {
        if (scan.contentLength.length === 0) scan.clName = latin1(buf, n, n + len);
        scan.contentLength.push(value);
      }
      return;
    case 17:
      if (equalsLower(buf, n, L_TRANSFER_ENCODING)) {
        if (scan.transferEncoding.length === 0) scan.teName = latin1(buf, n, n + len);
        scan.transferEncoding.push(value);
      }
      return;
  }
}

/** Reads the `close`, `keep-alive` and `upgrade` options of a Connection header value. */
function connectionTokens(scan: FieldScan, v: Buffer): void {
  const end = v.length;
  let i = 0;
  while (i < end) {
    let c: number | undefined;
    while (i < end && ((c = v[i]) === SP || c === HTAB || c === 0x2c)) i++;
    const start = i;
    while (i < end && (c = v[i]) !== 0x2c && c !== SP && c !== HTAB) i++;
    const len = i - start;
    if (len === 5 && equalsLower(v, start, L_CLOSE)) scan.close = true;
    else if (len === 10 && equalsLower(v, start, L_KEEP_ALIVE)) scan.keepAlive = true;
    else if (len === 7 && equalsLower(v, start, L_UPGRADE)) scan.connectionUpgrade = true;
  }
}

function badName(buf: Buffer, lineStart: number, pos: number, base: number): HeadError {
  const c = buf[pos];
  const at = pos - base;
  const line = excerpt(buf, lineStart, lineEnd(buf, pos));
  if (c === LF || (c === CR && buf[pos + 1] !== LF)) {
    return new HeadError(
      Http1ErrorCodes.BAD_LINE_ENDING,
      `Line ending without CRLF (${describeByte(c)}) at byte ${at} in header line ${line}.`,
      at,
    );
  }
  if (pos === lineStart && c === COLON) {
    return new HeadError(Http1ErrorCodes.BAD_HEADER, `Empty header name at byte ${at}: ${line}.`, at);
  }
  if (c === CR) {
    return new HeadError(
      Http1ErrorCodes.BAD_HEADER,
      `Header line without a colon at byte ${lineStart - base}: ${line}.`,
      lineStart - base,
    );
  }
  if (c === SP || c === HTAB) {
    return new HeadError(
      Http1ErrorCodes.BAD_HEADER,
      `Whitespace between header name and colon at byte ${at}: ${line}; this is rejected as a smuggling risk (RFC 9112 section 5.1).`,
      at,
      latin1(buf, lineStart, pos),
    );
  }
  return new HeadError(
    Http1ErrorCodes.BAD_HEADER,
    `Invalid character ${describeByte(c)} in header name at byte ${at}: ${line}. Names must be tokens (letters, digits, !#$%&'*+-.^_\`|~).`,
    at,
  );
}

function badValue(buf: Buffer, lineStart: number, nameEnd: number, pos: number, base: number): HeadError {
  const c = buf[pos];
  const at = pos - base;
  const name = latin1(buf, lineStart, nameEnd);
  if (c === LF || c === CR) {
    return new HeadError(
      Http1ErrorCodes.BAD_LINE_ENDING,
      `Line ending without CRLF (${describeByte(c)}${c === CR ? ' not followed by LF' : ' without CR'}) at byte ${at} in header "${name}".`,
      at,
      name,
    );
  }
  return new HeadError(
    Http1ErrorCodes.BAD_HEADER,
    `Invalid character ${describeByte(c)} in the value of header "${name}" at byte ${at}: ${excerpt(buf, lineStart, lineEnd(buf, pos))}.`,
    at,
    name,
  );
}

function lineEnd(buf: Buffer, from: number): number {
  const i = buf.indexOf(LF, from);
  return i < 0 ? buf.length : i + 1;
}
