/**
 * Small helpers over raw header pairs for the runtime's framing decisions. Name matching is
 * ASCII case-insensitive; nothing here lower-cases or copies names it keeps.
 */
import { Buffer } from 'node:buffer';
import { HTAB, SP, equalsLower, latin1, lower } from './chars.js';
import type { OutboundHeaders } from './serialize.js';
import type { RawHeaders } from './types.js';

/** Index of the first header called `name` (any case), or -1. */
export function findHeader(headers: OutboundHeaders, name: string): number {
  const lit = lower(name);
  for (let i = 0; i < headers.length; i++) {
    const n = headers[i]![0];
    if (n.length === lit.length && equalsLower(n, 0, lit)) return i;
  }
  return -1;
}

/** Value of the first header called `name` (any case), latin1-decoded, or undefined. */
export function getHeader(headers: OutboundHeaders, name: string): string | undefined {
  const i = findHeader(headers, name);
  if (i < 0) return undefined;
  const v = headers[i]![1];
  return latin1(v, 0, v.length);
}

/** Values of every header called `name` (any case), latin1-decoded, in order. */
export function getHeaders(headers: OutboundHeaders, name: string): string[] {
  const lit = lower(name);
  const out: string[] = [];
  for (let i = 0; i < headers.length; i++) {
    const [n, v] = headers[i]!;
    if (n.length === lit.length && equalsLower(n, 0, lit)) out.push(latin1(v, 0, v.length));
  }
  return out;
}

const L_TE = lower('transfer-encoding');
const L_CL = lower('content-length');
const L_CHUNKED = lower('chunked');

/**
 * Whether these headers frame the body with chunked coding (the last Transfer-Encoding coding
 * is `chunked`), i.e. whether a body sent with them must be chunk-encoded.
 */
export function isChunked(headers: OutboundHeaders): boolean {
  let last: Buffer | undefined;
  for (let i = 0; i < headers.length; i++) {
    const n = headers[i]![0];
    if (n.length === 17 && equalsLower(n, 0, L_TE)) last = headers[i]![1];
  }
  if (last === undefined) return false;
  let e = last.length;
  while (e > 0 && (last[e - 1] === SP || last[e - 1] === HTAB)) e--;
  const s = e - 7;
  return (
    s >= 0 &&
    equalsLower(last, s, L_CHUNKED) &&
    (s === 0 || last[s - 1] === 0x2c || last[s - 1] === SP || last[s - 1] === HTAB)
  );
}

/**
 * Headers for sending a body of exactly `length` bytes with Content-Length framing: the first
 * Content-Length keeps its name (case) and position with the new value, other Content-Length
 * and all Transfer-Encoding headers are dropped, and a `Content-Length` is appended if there was
 * none. Returns a new array; the input is not changed.
 */
export function withContentLength(headers: OutboundHeaders, length: number): RawHeaders {
  const value = Buffer.from(String(length), 'latin1');
  const out: RawHeaders = [];
  let done = false;
  for (let i = 0; i < headers.length; i++) {
    const f = headers[i]!;
    const n = f[0];
    if (n.length === 14 && equalsLower(n, 0, L_CL)) {
      if (!done) out.push([n, value]);
      done = true;
    } else if (!(n.length === 17 && equalsLower(n, 0, L_TE))) {
      out.push([f[0], f[1]]);
    }
  }
  if (!done) out.push([Buffer.from('Content-Length', 'latin1'), value]);
  return out;
}

/**
 * Raw pairs from strings: names and values go out as latin1 when every char fits in a byte,
 * else as UTF-8.
 */
export function toRawHeaders(pairs: Iterable<readonly [string, string]>): RawHeaders {
  const out: RawHeaders = [];
  for (const [n, v] of pairs) out.push([encode(n), encode(v)]);
  return out;
}

function encode(s: string): Buffer {
  return Buffer.from(s, /[^\u0000-\u00ff]/.test(s) ? 'utf8' : 'latin1');
}
