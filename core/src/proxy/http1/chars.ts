/**
 * Byte classes and tiny byte helpers shared by the HTTP/1 parser and serializer.
 * Lookup tables are indexed by byte value: 1 = allowed, 0 = not allowed.
 * @internal
 */
import { Buffer } from 'node:buffer';

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;

/** `\r\n\r\n`, the end of a head or trailer block. */
export const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

function table(allowed: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = allowed(c) ? 1 : 0;
  return t;
}

const isAlnum = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** RFC 9110 `tchar`: what a method or a header name may contain. */
export const TOKEN = table((c) => isAlnum(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));

/**
 * Header names accepted when strict validation is off: anything visible except `:`, so that a
 * name still ends at the first colon and cannot smuggle whitespace or line breaks.
 */
export const LAX_NAME = table((c) => c > 0x20 && c !== 0x7f && c !== COLON);

/** RFC 9110 `field-vchar` plus SP and HTAB: what a header value may contain. No CR, LF, NUL, DEL. */
export const VALUE = table((c) => c === HTAB || (c >= 0x20 && c !== 0x7f));

/** What a request-target may contain: visible ASCII and (tolerated) bytes >= 0x80. */
export const TARGET = table((c) => c > 0x20 && c !== 0x7f);

/** Characters of a host (reg-name, IPv4, or a bracketed IPv6 literal's inside). */
export const HOST = table((c) => isAlnum(c) || "-._~%!$&'()*+,;=[]:".includes(String.fromCharCode(c)));

/** Value of a hex digit, or -1. */
export const HEX = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let c = 0; c < 10; c++) t[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c;
    t[0x61 + c] = 10 + c;
  }
  return t;
})();

const lowerCache = new Map<string, Uint8Array>();

/** Lower-case ASCII bytes of a literal, for {@link equalsLower} (cached per literal). */
export function lower(literal: string): Uint8Array {
  // Callers pass header-name literals on hot paths: build each byte table once.
  let v = lowerCache.get(literal);
  if (v === undefined) {
    v = Uint8Array.from(Buffer.from(literal.toLowerCase(), 'latin1'));
    if (lowerCache.size < 512) lowerCache.set(literal, v);
  }
  return v;
}

/**
 * Whether `buf[start..start+lit.length)` equals `lit` ignoring ASCII case. `lit` must be lower
 * case letters, digits and `-`; the caller checks the length. `| 0x20` only folds letters onto
 * letters for such literals, so no other byte can compare equal.
 */
export function equalsLower(buf: Uint8Array, start: number, lit: Uint8Array): boolean {
  for (let i = 0; i < lit.length; i++) {
    if ((buf[start + i]! | 0x20) !== lit[i]) return false;
  }
  return true;
}

type FastBufferCtor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer;

/**
 * Node's internal Buffer class (`Buffer[Symbol.species]`). Constructing a view with it costs a
 * third of `buf.subarray()` (which goes through the species lookup on every call).
 */
export const FastBuffer = (Buffer as unknown as { [Symbol.species]: FastBufferCtor })[Symbol.species];

/** A Buffer viewing `buf[start..end)` without copying. */
export function view(buf: Buffer, start: number, end: number): Buffer {
  return new FastBuffer(buf.buffer, buf.byteOffset + start, end - start);
}

type Latin1Slicer = { latin1Slice?: (start: number, end: number) => string };
const hasLatin1Slice = typeof (Buffer.prototype as unknown as Latin1Slicer).latin1Slice === 'function';

/** `buf[start..end)` decoded as latin1 (every byte maps to one char, so it round-trips). */
export function latin1(buf: Buffer, start: number, end: number): string {
  return hasLatin1Slice
    ? (buf as unknown as Required<Latin1Slicer>).latin1Slice(start, end)
    : buf.toString('latin1', start, end);
}

/** A short, printable, quoted excerpt of bytes for error messages. */
export function excerpt(buf: Uint8Array, start: number, end: number, max = 40): string {
  const stop = Math.min(end, start + max);
  let s = '';
  for (let i = start; i < stop; i++) {
    const c = buf[i]!;
    if (c === 0x5c) s += '\\\\';
    else if (c === 0x22) s += '\\"';
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else if (c === CR) s += '\\r';
    else if (c === LF) s += '\\n';
    else if (c === HTAB) s += '\\t';
    else s += '\\x' + c.toString(16).padStart(2, '0');
  }
  return '"' + s + (end > stop ? '...' : '') + '"';
}

/** How a single byte reads in an error message: `0x0a (LF)`. */
export function describeByte(c: number | undefined): string {
  if (c === undefined) return 'end of data';
  const names: Record<number, string> = { 0: 'NUL', 9: 'HTAB', 10: 'LF', 13: 'CR', 32: 'SP', 127: 'DEL' };
  const hex = '0x' + c.toString(16).padStart(2, '0');
  const name = names[c] ?? (c > 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : undefined);
  return name === undefined ? hex : `${hex} (${name})`;
}

type Latin1Writer = { latin1Write?: (s: string, offset: number) => number };
const hasLatin1Write = typeof (Buffer.prototype as unknown as Latin1Writer).latin1Write === 'function';

/** Writes `s` (chars <= 0xff) as latin1 at `offset`; returns the number of bytes written. */
export function writeLatin1(buf: Buffer, s: string, offset: number): number {
  return hasLatin1Write
    ? (buf as unknown as Required<Latin1Writer>).latin1Write(s, offset)
    : buf.write(s, offset, 'latin1');
}
