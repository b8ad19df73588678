import { TextDecoder } from 'node:util';
/**
 * Byte/string conversions shared by the flow model. Header names and values are latin1 views of
 * their bytes (every byte round-trips); other text fields (paths, authorities) are UTF-8 when the
 * bytes are valid UTF-8 and latin1 otherwise, so that reading a field never loses a byte.
 */

const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** True if every byte is < 0x80. */
export function isAscii(buf: Uint8Array): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i]! >= 0x80) return false;
  return true;
}

/** True if every UTF-16 unit of `s` is < 0x80. */
export function isAsciiString(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** True if every UTF-16 unit of `s` fits in one latin1 byte. */
export function isLatin1String(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/** Latin1 view of bytes: one char per byte. */
export function latin1(buf: Buffer): string {
  return (buf as LatinSliceable).latin1Slice(0, buf.length);
}

/**
 * Bytes for a header name or value given as a string: latin1 when every char fits in a byte
 * (so latin1 views round-trip), UTF-8 otherwise (as mitmproxy encodes str headers).
 */
export function headerBytes(v: Buffer | string): Buffer {
  if (typeof v !== 'string') return v;
  return Buffer.from(v, isLatin1String(v) ? 'latin1' : 'utf8');
}

/** Decode bytes as UTF-8 if valid, else latin1 (lossless either way). */
export function bytesToText(buf: Buffer): string {
  if (isAscii(buf)) return latin1(buf);
  try {
    return utf8Strict.decode(buf);
  } catch {
    return latin1(buf);
  }
}

/** Encode text as UTF-8 (the inverse of {@link bytesToText} for valid UTF-8 input). */
export function textToBytes(s: string): Buffer {
  return Buffer.from(s, isAsciiString(s) ? 'latin1' : 'utf8');
}

/** Strict UTF-8 decode; throws TypeError on invalid input. */
export function decodeUtf8Strict(buf: Uint8Array): string {
  return utf8Strict.decode(buf);
}

/** ASCII-only lowercase (like Python's bytes.lower()), leaving other chars unchanged. */
export function asciiLower(s: string): string {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) break;
  }
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c | 0x20) : s[i];
  }
  return out;
}

/**
 * Compare `buf` to `lowerName` (a latin1 string already ASCII-lowercased) ignoring ASCII case.
 * Allocation-free; used for header lookups on the hot path.
 */
export function equalsAsciiCI(buf: Buffer, lowerName: string): boolean {
  const n = buf.length;
  if (n !== lowerName.length) return false;
  for (let i = 0; i < n; i++) {
    let b = buf[i]!;
    if (b >= 0x41 && b <= 0x5a) b |= 0x20;
    if (b !== lowerName.charCodeAt(i)) return false;
  }
  return true;
}

/** Deep equality for serialized states (plain objects, arrays, Buffers, primitives). */
export function stateEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) {
    return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!stateEquals(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!stateEquals((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** Deep copy of a serialized state value (Buffers are copied, so the copy shares no memory). */
export function deepCopyState<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Buffer.isBuffer(v)) return Buffer.from(v) as T;
  if (Array.isArray(v)) return v.map(deepCopyState) as T;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined || typeof x === 'function') continue;
    out[k] = deepCopyState(x);
  }
  return out as T;
}

// Short values that repeat in every flow: methods, schemes, HTTP versions, reason phrases.
const COMMON_LATIN1 = [
  'GET',
  'POST',
  'PUT',
  'HEAD',
  'DELETE',
  'OPTIONS',
  'PATCH',
  'CONNECT',
  'TRACE',
  'http',
  'https',
  'HTTP/1.1',
  'HTTP/1.0',
  'HTTP/2.0',
  'HTTP/3',
  '',
  'OK',
  'Created',
  'Accepted',
  'No Content',
  'Partial Content',
  'Moved Permanently',
  'Found',
  'See Other',
  'Not Modified',
  'Temporary Redirect',
  'Permanent Redirect',
  'Bad Request',
  'Unauthorized',
  'Forbidden',
  'Not Found',
  'Method Not Allowed',
  'Conflict',
  'Too Many Requests',
  'Internal Server Error',
  'Bad Gateway',
  'Service Unavailable',
  'Gateway Timeout',
  'Switching Protocols',
];
const commonByLength: string[][] = [];
for (const s of COMMON_LATIN1) (commonByLength[s.length] ??= []).push(s);

/**
 * Latin1 view of a short field (method, scheme, HTTP version, reason). Common values come back
 * as shared constants, without decoding or allocating; anything else is decoded.
 */
export function latin1Of(buf: Buffer): string {
  const n = buf.length;
  const candidates = n < commonByLength.length ? commonByLength[n] : undefined;
  if (candidates !== undefined) {
    for (let c = 0; c < candidates.length; c++) {
      const s = candidates[c]!;
      let i = 0;
      while (i < n && buf[i] === s.charCodeAt(i)) i++;
      if (i === n) return s;
    }
  }
  return (buf as LatinSliceable).latin1Slice(0, n);
}

/** Node's Buffer#latin1Slice (present on every Buffer, untyped): toString('latin1') without argument checks. */
type LatinSliceable = Buffer & { latin1Slice(start: number, end: number): string };
