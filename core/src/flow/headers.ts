import type { HeadersState } from './state.js';
import { asciiLower, equalsAsciiCI, headerBytes, isLatin1String } from './bytes.js';

/** A header name or value as accepted by {@link Headers} methods. */
export type HeaderInput = Buffer | string;

/** Anything {@link Headers} can be built from. */
export type HeadersInit =
  Headers | Iterable<readonly [HeaderInput, HeaderInput]> | Record<string, HeaderInput | HeaderInput[]>;

const keyCache = new Map<string, string>();

/** Lookup key for a header name: ASCII-lowercased latin1 view of its bytes. */
function keyOf(name: HeaderInput): string {
  if (typeof name !== 'string') return asciiLower(str(name));
  let key = keyCache.get(name);
  if (key === undefined) {
    key = asciiLower(isLatin1String(name) ? name : Buffer.from(name, 'utf8').toString('latin1'));
    if (keyCache.size >= 1024) keyCache.clear();
    keyCache.set(name, key);
  }
  return key;
}

type Latin1Sliceable = Buffer & { latin1Slice?: (start: number, end: number) => string };
const fastLatin1 = typeof (Buffer.prototype as Latin1Sliceable).latin1Slice === 'function';

/** Where {@link Headers.toString} assembles header blocks (reused: decoding copies out). */
let blockScratch = Buffer.allocUnsafeSlow(4096);

/** Latin1 view of a header name or value (Buffer#latin1Slice skips toString's argument checks). */
function str(b: Buffer): string {
  return fastLatin1 ? (b as Latin1Sliceable).latin1Slice!(0, b.length) : b.toString('latin1');
}

/**
 * HTTP headers: a case-insensitive multidict that keeps field order and the original case of
 * names, as mitmproxy's `Headers`. The raw fields (`[name, value]` Buffer pairs, exactly what goes
 * on the wire) are in {@link Headers.fields}; the string API decodes bytes as latin1 so that any
 * byte round-trips, and encodes strings as latin1 (or UTF-8 for characters beyond U+00FF).
 *
 * ```ts
 * const h = new Headers([['Host', 'example.com'], ['Accept', 'text/html'], ['accept', 'application/xml']]);
 * h.get('accept');       // 'text/html, application/xml' (folded)
 * h.getAll('ACCEPT');    // ['text/html', 'application/xml']
 * h.set('Accept', 'x');  // replaces in place, keeps position and the first field's name case
 * ```
 */
export class Headers {
  /**
   * The raw header fields in wire order. The proxy runtime forwards these byte-exact. Mutating
   * methods never change the array in place: they assign a new array (sharing untouched pairs),
   * so `headers.fields === fieldsAsParsed` tells the runtime that nothing changed through the API.
   */
  fields: Array<[Buffer, Buffer]>;

  constructor(fields?: Iterable<readonly [HeaderInput, HeaderInput]> | Headers | null) {
    if (fields instanceof Headers) {
      this.fields = fields.fields.slice();
      return;
    }
    const out: Array<[Buffer, Buffer]> = [];
    if (fields) for (const [k, v] of fields) out.push([headerBytes(k), headerBytes(v)]);
    this.fields = out;
  }

  /** Adopt an array of raw fields without copying (for the proxy runtime's hot path). */
  static fromRaw(fields: Array<[Buffer, Buffer]>): Headers {
    const h = Object.create(Headers.prototype) as Headers;
    h.fields = fields;
    return h;
  }

  /** Build headers from an object; array values become repeated fields. */
  static fromObject(obj: Record<string, HeaderInput | HeaderInput[]>): Headers {
    const h = new Headers();
    for (const [k, v] of Object.entries(obj)) {
      if (Array.isArray(v)) for (const x of v) h.add(k, x);
      else h.add(k, v);
    }
    return h;
  }

  /** Coerce any accepted input into a Headers instance (Headers are returned as-is). */
  static from(init?: HeadersInit | null): Headers {
    if (!init) return new Headers();
    if (init instanceof Headers) return init;
    if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
      return new Headers(init as Iterable<readonly [HeaderInput, HeaderInput]>);
    }
    return Headers.fromObject(init as Record<string, HeaderInput | HeaderInput[]>);
  }

  /**
   * Headers from their state. With `adopt` the state's field array becomes {@link fields}
   * instead of being copied: only for a state nobody uses afterwards.
   */
  static fromState(state: HeadersState, adopt = false): Headers {
    return Headers.fromRaw(adopt ? state : state.map(([k, v]) => [k, v]));
  }

  getState(): HeadersState {
    return this.fields.map(([k, v]) => [k, v]);
  }

  setState(state: HeadersState): void {
    this.fields = state.map(([k, v]) => [k, v]);
  }

  /** The value for `name`, with repeated fields folded into one string joined by `", "`. */
  get(name: HeaderInput): string | undefined {
    const key = keyOf(name);
    const fields = this.fields;
    let out: string | undefined;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (equalsAsciiCI(f[0], key)) out = out === undefined ? str(f[1]) : out + ', ' + str(f[1]);
    }
    return out;
  }

  /** All values for `name`, unfolded (use for Set-Cookie and Cookie). */
  getAll(name: HeaderInput): string[] {
    const key = keyOf(name);
    const out: string[] = [];
    for (const [k, v] of this.fields) if (equalsAsciiCI(k, key)) out.push(str(v));
    return out;
  }

  /** All raw values for `name`. */
  getAllRaw(name: HeaderInput): Buffer[] {
    const key = keyOf(name);
    const out: Buffer[] = [];
    for (const [k, v] of this.fields) if (equalsAsciiCI(k, key)) out.push(v);
    return out;
  }

  has(name: HeaderInput): boolean {
    const key = keyOf(name);
    const fields = this.fields;
    for (let i = 0; i < fields.length; i++) if (equalsAsciiCI(fields[i]![0], key)) return true;
    return false;
  }

  /** Set `name` to one value (or several, see {@link setAll}), replacing existing fields in place. */
  set(name: HeaderInput, value: HeaderInput | HeaderInput[]): this {
    if (Array.isArray(value)) return this.setAll(name, value);
    // One value (the common case): replace the first field in place of a copy, drop the others.
    const key = keyOf(name);
    const fields = this.fields;
    const out: Array<[Buffer, Buffer]> = [];
    let done = false;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (!equalsAsciiCI(f[0], key)) out.push(f);
      else if (!done) {
        out.push([f[0], headerBytes(value)]);
        done = true;
      }
    }
    if (!done) out.push([headerBytes(name), headerBytes(value)]);
    this.fields = out;
    return this;
  }

  /**
   * Replace all values of `name`: existing fields are overwritten in order (keeping their
   * position and name case), surplus old fields are removed, extra new values are appended.
   */
  setAll(name: HeaderInput, values: Iterable<HeaderInput>): this {
    const key = keyOf(name);
    const vals = Array.from(values, headerBytes);
    const out: Array<[Buffer, Buffer]> = [];
    let i = 0;
    for (const f of this.fields) {
      if (equalsAsciiCI(f[0], key)) {
        if (i < vals.length) out.push([f[0], vals[i++]!]);
      } else {
        out.push(f);
      }
    }
    if (i < vals.length) {
      const nameBytes = headerBytes(name);
      for (; i < vals.length; i++) out.push([nameBytes, vals[i]!]);
    }
    this.fields = out;
    return this;
  }

  /** Append a field at the end. */
  add(name: HeaderInput, value: HeaderInput): this {
    const out = this.fields.slice();
    out.push([headerBytes(name), headerBytes(value)]);
    this.fields = out;
    return this;
  }

  /** Insert a field at `index` (Python list-insert semantics for out-of-range indices). */
  insert(index: number, name: HeaderInput, value: HeaderInput): this {
    const n = this.fields.length;
    const i = index < 0 ? Math.max(0, n + index) : Math.min(index, n);
    const out = this.fields.slice();
    out.splice(i, 0, [headerBytes(name), headerBytes(value)]);
    this.fields = out;
    return this;
  }

  /** Remove every field named `name`; returns whether any existed. */
  delete(name: HeaderInput): boolean {
    const key = keyOf(name);
    const before = this.fields.length;
    this.fields = this.fields.filter(([k]) => !equalsAsciiCI(k, key));
    return this.fields.length !== before;
  }

  /** Remove `name` and return its folded value (or `fallback` if absent). */
  pop(name: HeaderInput): string | undefined;
  pop<T>(name: HeaderInput, fallback: T): string | T;
  pop<T>(name: HeaderInput, fallback?: T): string | T | undefined {
    const v = this.get(name);
    if (v === undefined) return fallback;
    this.delete(name);
    return v;
  }

  /** Set `name` only if absent; returns the (possibly existing) folded value. */
  setDefault(name: HeaderInput, value: HeaderInput): string {
    const v = this.get(name);
    if (v !== undefined) return v;
    this.add(name, value);
    return typeof value === 'string' ? value : str(value);
  }

  /** Distinct names in first-seen order and original case. */
  keys(): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const [k] of this.fields) {
      const key = asciiLower(str(k));
      if (!seen.has(key)) {
        seen.add(key);
        out.push(str(k));
      }
    }
    return out;
  }

  /** Folded values, one per distinct name (or every value with `multi`). */
  values(multi = false): string[] {
    return this.items(multi).map(([, v]) => v);
  }

  /**
   * `[name, value]` pairs: one per distinct name with folded values, or with `multi` every
   * field as it is.
   */
  items(multi = false): Array<[string, string]> {
    if (multi) return this.fields.map(([k, v]) => [str(k), str(v)]);
    return this.keys().map((k) => [k, this.get(k)!]);
  }

  [Symbol.iterator](): IterableIterator<string> {
    return this.keys()[Symbol.iterator]();
  }

  /** Number of distinct header names. */
  get size(): number {
    const seen = new Set<string>();
    for (const [k] of this.fields) seen.add(asciiLower(str(k)));
    return seen.size;
  }

  /**
   * The HTTP/1 header block: `name: value\r\n` per field (empty string if no fields), as a
   * latin1 string. (Filters match `~h` against it: the block is assembled as bytes and decoded
   * once, which gives the regex a flat string.)
   */
  toString(): string {
    const fields = this.fields;
    if (fields.length === 0) return '';
    let n = 0;
    for (let i = 0; i < fields.length; i++) n += fields[i]![0].length + fields[i]![1].length + 4;
    if (n > blockScratch.length) blockScratch = Buffer.allocUnsafeSlow(Math.max(n, blockScratch.length * 2));
    const out = blockScratch;
    let o = 0;
    for (let i = 0; i < fields.length; i++) {
      const [k, v] = fields[i]!;
      out.set(k, o);
      o += k.length;
      out[o++] = 0x3a; // ':'
      out[o++] = 0x20;
      out.set(v, o);
      o += v.length;
      out[o++] = 0x0d;
      out[o++] = 0x0a;
    }
    return fastLatin1 ? (out as Latin1Sliceable).latin1Slice!(0, n) : out.toString('latin1', 0, n);
  }

  /** The header block as bytes, like mitmproxy's `bytes(headers)`. */
  toBuffer(): Buffer {
    const parts: Buffer[] = [];
    const sep = Buffer.from(': ');
    const crlf = Buffer.from('\r\n');
    for (const [k, v] of this.fields) parts.push(k, sep, v, crlf);
    return Buffer.concat(parts);
  }

  /** A copy with its own field array (Buffers are shared; they are treated as immutable). */
  copy(): Headers {
    return Headers.fromRaw(this.fields.map(([k, v]) => [k, v]));
  }

  /** True if both have the same fields in the same order, byte for byte. */
  equals(other: Headers): boolean {
    if (other.fields.length !== this.fields.length) return false;
    return this.fields.every(([k, v], i) => k.equals(other.fields[i]![0]) && v.equals(other.fields[i]![1]));
  }

  toJSON(): Array<[string, string]> {
    return this.items(true);
  }
}
