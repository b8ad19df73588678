/**
 * Encoding tnetstrings: values are written back to front into one growing Buffer, so every
 * length prefix is known when it is written (no intermediate strings or per-value Buffers).
 * `ReverseWriter` and `put` are also the building blocks of the direct flow encoder
 * (flow-encoder.ts); `encode` is the public entry (re-exported by tnetstring.ts).
 */
import { pyFloatRepr } from './pyfloat.js';
import { TnetFloat } from './tnet-float.js';

/** Node's Buffer write methods without argument normalization (present on every Buffer, untyped). */
interface RawBuffer extends Buffer {
  utf8Write(s: string, offset: number, length: number): number;
  latin1Write(s: string, offset: number, length: number): number;
}

/**
 * Which values to write as floats. A schema node is `FLOAT` (numbers here are `^`), a dict
 * schema (`{ fields, order }`: per-key schemas and the canonical key order), a list schema
 * (`{ items }`) or a tuple schema (`{ tuple }`). Values outside the schema are written
 * generically: integral numbers as `#`, others as `^`.
 */
export type TnetSchema = typeof FLOAT | TnetDictSchema | TnetListSchema | TnetTupleSchema;
export const FLOAT = 'float' as const;
export interface TnetDictSchema {
  fields: { [key: string]: TnetSchema | undefined };
  /** Keys written first, in this order; other keys follow in insertion order. */
  order?: readonly string[];
}
export interface TnetListSchema {
  items: TnetSchema;
}
export interface TnetTupleSchema {
  tuple: ReadonlyArray<TnetSchema | undefined>;
}

/** Strings and byte values up to this length are copied by a loop, not by a native call. */
const SHORT = 64;

/** Back-to-front writer: data occupies `buf[pos..]`. Reusable: {@link reset} keeps the buffer. */
export class ReverseWriter {
  buf: Buffer;
  pos: number;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
    this.pos = size;
  }
  ensure(n: number): void {
    if (this.pos >= n) return;
    const used = this.buf.length - this.pos;
    let size = this.buf.length * 2;
    while (size - used < n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, size - used, this.pos);
    this.buf = next;
    this.pos = size - used;
  }
  /** Write an ASCII string (digits, literals). */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    this.pos -= n;
    const b = this.buf;
    const p = this.pos;
    for (let i = 0; i < n; i++) b[p + i] = s.charCodeAt(i);
  }
  /** Write a non-negative integer (a length) in decimal, without making a string of it. */
  uint(n: number): void {
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    this.ensure(digits);
    const b = this.buf;
    let p = this.pos;
    this.pos -= digits;
    do {
      b[--p] = 48 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
  }
  byte(c: number): void {
    this.ensure(1);
    this.buf[--this.pos] = c;
  }
  bytes(src: Uint8Array): void {
    const n = src.length;
    this.ensure(n);
    this.pos -= n;
    // A loop beats TypedArray#set's call overhead for the short values records are mostly made of.
    if (n > SHORT) this.buf.set(src, this.pos);
    else for (let i = 0, b = this.buf, p = this.pos; i < n; i++) b[p + i] = src[i]!;
  }
  utf8(s: string): number {
    const len = s.length;
    if (len <= SHORT && this.shortAscii(s)) return len;
    const n = Buffer.byteLength(s, 'utf8');
    this.ensure(n);
    this.pos -= n;
    if (n === len) (this.buf as RawBuffer).latin1Write(s, this.pos, n);
    else (this.buf as RawBuffer).utf8Write(s, this.pos, n);
    return n;
  }
  /** Write a short string if it is ASCII (then its UTF-8 and latin1 bytes are its char codes); false if it is not. */
  private shortAscii(s: string): boolean {
    const n = s.length;
    this.ensure(n);
    const b = this.buf;
    const p = this.pos - n;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return false;
      b[p + i] = c;
    }
    this.pos = p;
    return true;
  }

  /** Write a string whose characters are all below U+0100, one byte each; returns its length. */
  latin1(s: string): number {
    const n = s.length;
    if (n <= SHORT && this.shortAscii(s)) return n;
    this.ensure(n);
    this.pos -= n;
    (this.buf as RawBuffer).latin1Write(s, this.pos, n);
    return n;
  }
  /** Start over, keeping the buffer (what {@link result} returned is overwritten by later writes). */
  reset(): void {
    this.pos = this.buf.length;
  }
  /** Bytes written so far (stable across buffer growth, unlike `pos`). */
  get size(): number {
    return this.buf.length - this.pos;
  }
  /** Prefix `<len>:` in front of what was written since `mark` (a previous `size`). */
  prefix(mark: number): void {
    const len = this.size - mark;
    this.byte(58 /* ':' */);
    this.uint(len);
  }
  result(): Buffer {
    return this.buf.subarray(this.pos);
  }
}

/** A float (`^`), as Python's repr writes it (mitmproxy's tnetstring floats). */
export function putFloat(w: ReverseWriter, v: number): void {
  const ms = Math.round(v * 1000);
  if (ms > 0 && ms < MS_MAX && ms / 1000 === v) {
    millis(w, ms);
    return;
  }
  asciiValue(w, pyFloatRepr(v), 94 /* '^' */);
}

/** A value whose payload is ASCII text (a number's digits), with its type byte. */
function asciiValue(w: ReverseWriter, s: string, type: number): void {
  w.byte(type);
  w.ascii(s);
  w.byte(58 /* ':' */);
  w.uint(s.length);
}

/** Below this many ms (2^43, year 2248), a double's neighbours are far closer than 0.001 apart. */
const MS_MAX = 2 ** 43;

/**
 * A float that is a whole number of milliseconds (a timestamp from `Date.now() / 1000`: most
 * of a flow's), as Python's repr writes it, digit by digit: `1765148000.12`, `1765148000.0`.
 * The decimal with at most three decimals is the shortest that reads back as the same double
 * (any other with three decimals or fewer is 0.001 or more away, far beyond half a step
 * between doubles of this size), so it is the repr. Made without `String(v)`, whose
 * shortest-digits search was the flow encoder's costliest step in the proxy.
 */
function millis(w: ReverseWriter, ms: number): void {
  w.byte(94 /* '^' */);
  const mark = w.size;
  let frac = ms % 1000;
  if (frac === 0) {
    w.byte(48 /* '0' */);
  } else {
    let digits = 3;
    while (frac % 10 === 0) {
      frac /= 10;
      digits--;
    }
    for (let i = 0; i < digits; i++) {
      w.byte(48 + (frac % 10));
      frac = Math.floor(frac / 10);
    }
  }
  w.byte(46 /* '.' */);
  w.uint(Math.floor(ms / 1000));
  const len = w.size - mark;
  w.byte(58 /* ':' */);
  w.uint(len);
}

function intString(v: number): string {
  return Math.abs(v) < 1e21 ? String(v) : BigInt(v).toString();
}

/** Write `v` (with `schema` saying which numbers are floats) in front of what `w` holds. */
export function put(w: ReverseWriter, v: unknown, schema: TnetSchema | undefined): void {
  if (v === null || v === undefined) {
    w.ascii('0:~');
    return;
  }
  switch (typeof v) {
    case 'boolean':
      w.ascii(v ? '4:true!' : '5:false!');
      return;
    case 'number': {
      if (schema === FLOAT || !Number.isInteger(v)) {
        putFloat(w, v);
        return;
      }
      asciiValue(w, intString(v), 35 /* '#' */);
      return;
    }
    case 'bigint':
      asciiValue(w, v.toString(), 35 /* '#' */);
      return;
    case 'string': {
      w.byte(59 /* ';' */);
      const n = w.utf8(v);
      w.byte(58 /* ':' */);
      w.uint(n);
      return;
    }
    case 'object':
      break;
    default:
      throw new TypeError(`cannot encode a ${typeof v} as tnetstring`);
  }
  if (v instanceof Uint8Array) {
    w.byte(44 /* ',' */);
    w.bytes(v);
    w.byte(58 /* ':' */);
    w.uint(v.length);
    return;
  }
  if (v instanceof TnetFloat) {
    put(w, v.value, FLOAT);
    return;
  }
  w.byte(Array.isArray(v) ? 93 /* ']' */ : 125 /* '}' */);
  const mark = w.size;
  if (Array.isArray(v)) {
    const items = schema !== undefined && schema !== FLOAT && 'items' in schema ? schema.items : undefined;
    const tuple = schema !== undefined && schema !== FLOAT && 'tuple' in schema ? schema.tuple : undefined;
    for (let i = v.length - 1; i >= 0; i--) put(w, v[i], items ?? tuple?.[i]);
  } else {
    const obj = v as { [key: string]: unknown };
    const dict = schema !== undefined && schema !== FLOAT && 'fields' in schema ? schema : undefined;
    const order = dict?.order;
    // Entries are written back to front, so the file holds them in reverse order of the
    // object (or schema) order: exactly what mitmproxy's writer produces for its dicts.
    if (order === undefined) {
      for (const k in obj) putEntry(w, k, obj[k], dict);
    } else {
      let written = 0;
      for (let i = 0; i < order.length; i++) {
        const k = order[i]!;
        if (Object.prototype.hasOwnProperty.call(obj, k)) {
          putEntry(w, k, obj[k], dict);
          written++;
        }
      }
      // Keys beyond the schema's order are rare (states have exactly the schema's keys): look
      // for them only when there are some, not with a scan of the order per key.
      if (written !== Object.keys(obj).length)
        for (const k in obj) if (!order.includes(k)) putEntry(w, k, obj[k], dict);
    }
  }
  w.prefix(mark);
}

function putEntry(w: ReverseWriter, key: string, value: unknown, dict: TnetDictSchema | undefined): void {
  put(w, value, dict?.fields[key]);
  put(w, key, undefined);
}

/**
 * Encode a value. Numbers are written as `#` when integral and `^` otherwise, unless `schema`
 * marks them as floats; `TnetFloat` forces `^`. Objects are dicts with text keys; `undefined`
 * is written as null.
 */
export function encode(value: unknown, schema?: TnetSchema): Buffer {
  const w = new ReverseWriter(4096);
  put(w, value, schema);
  return w.result();
}
