/**
 * HPACK encoder (RFC 7541): fields in, header block bytes written into the caller's buffer.
 * Exact matches in the static or dynamic table become one index; other fields are literals,
 * Huffman-coded when that is shorter, added to the dynamic table unless they are sensitive or
 * unlikely to repeat. Names go out in lower case.
 * @internal
 */
import { Buffer } from 'node:buffer';
import { writeLatin1 } from '../../http1/chars.js';
import { DynamicTable } from './dynamic-table.js';
import { HeaderEntry } from './entry.js';
import { huffmanEncode, huffmanLength } from './huffman.js';
import { isNeverIndexed } from './sensitive.js';
import { STATIC_COUNT, STATIC_TABLE } from './static-table.js';

/** Where the encoder writes: `buf[pos..]`, with room made by the caller (see {@link fieldBound}). */
export interface ByteSink {
  buf: Buffer;
  pos: number;
}

/** Upper bound of the encoded size of one field (two 5-byte integers, one prefix byte, raw strings). */
export function fieldBound(nameLength: number, valueLength: number): number {
  return nameLength + valueLength + 11;
}

const LOWER = Uint8Array.from({ length: 256 }, (_, c) => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c));
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a of the lower-cased name. */
function hashName(name: Uint8Array): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ LOWER[name[i]!]!, FNV_PRIME);
  return h;
}

/**
 * Continues a name hash over the value: its length and at most 24 of its bytes (all of a short
 * value; for a long one, 16 spread over it and its last 8). Lookups verify the bytes, so a
 * collision only costs a missed index, and hashing stays O(1) for long cookies and user agents.
 */
function hashValue(h: number, value: Uint8Array, start: number, end: number): number {
  const len = end - start;
  h = Math.imul(h ^ (0x100 + len), FNV_PRIME);
  if (len <= 24) {
    for (let i = start; i < end; i++) h = Math.imul(h ^ value[i]!, FNV_PRIME);
    return h;
  }
  const step = len >>> 4;
  for (let i = start; i < end - 8; i += step) h = Math.imul(h ^ value[i]!, FNV_PRIME);
  for (let i = end - 8; i < end; i++) h = Math.imul(h ^ value[i]!, FNV_PRIME);
  return h;
}

function sameName(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (LOWER[a[i]!] !== b[i]) return false;
  return true;
}

function sameBytes(a: Buffer, b: Uint8Array, start: number, end: number): boolean {
  const n = a.length;
  if (n !== end - start) return false;
  // a native compare wins over a JS loop past a few dozen bytes
  if (n > 24 && start === 0 && b instanceof Buffer) return a.equals(b);
  for (let i = 0; i < n; i++) if (a[i] !== b[start + i]) return false;
  return true;
}

// Static lookups: hash -> index (a collision only costs compression, lookups verify the bytes).
const STATIC_BY_PAIR = new Map<number, number>();
const STATIC_BY_NAME = new Map<number, number>();
for (let i = STATIC_COUNT; i >= 1; i--) {
  const e = STATIC_TABLE[i]!;
  const nh = hashName(e.name);
  STATIC_BY_NAME.set(nh, i);
  if (e.value.length > 0) STATIC_BY_PAIR.set(hashValue(nh, e.value, 0, e.value.length), i);
}

/** Static entries by name Buffer and value string, for `fieldString`. */
const STATIC_STRINGS = new Map<Buffer, Map<string, number>>();
for (let i = 1; i <= STATIC_COUNT; i++) {
  const e = STATIC_TABLE[i]!;
  if (e.value.length === 0) continue;
  let m = STATIC_STRINGS.get(e.name);
  if (m === undefined) STATIC_STRINGS.set(e.name, (m = new Map()));
  m.set(e.valueString(), i);
}

/** Names whose values are not worth indexing (they rarely repeat), as nghttp2 decides. */
const NOT_INDEXED = new Set(
  [':path', 'age', 'content-length', 'etag', 'if-modified-since', 'if-none-match', 'location', 'set-cookie'].map((n) =>
    hashName(Buffer.from(n)),
  ),
);
const H_AUTHORIZATION = hashName(Buffer.from('authorization'));
const H_PROXY_AUTHORIZATION = hashName(Buffer.from('proxy-authorization'));
const H_COOKIE = hashName(Buffer.from('cookie'));

/** Encoder options. */
export interface HpackEncoderOptions {
  /** Use Huffman coding where it is shorter (default true). */
  huffman?: boolean;
  /** Largest dynamic table we use, whatever the peer allows (default 4096). */
  maxTableSize?: number;
}

export class HpackEncoder {
  readonly table: DynamicTable;
  private readonly byPair = new Map<number, HeaderEntry>();
  private readonly byName = new Map<number, HeaderEntry>();
  private readonly huffman: boolean;
  private readonly limit: number;
  /** Smallest size the table had since the last block, -1 when no update is due (section 4.2). */
  private minSizeSinceBlock = -1;
  private scratch = Buffer.allocUnsafe(256);
  /** Dynamic entries added by `fieldString`, by name Buffer and value string. */
  private readonly strings = new Map<Buffer, Map<string, HeaderEntry>>();

  constructor(options: HpackEncoderOptions = {}) {
    this.huffman = options.huffman ?? true;
    this.limit = options.maxTableSize ?? 4096;
    this.table = new DynamicTable(Math.min(4096, this.limit));
    // the peer's decoder starts at 4096 bytes: a smaller table must be announced in the first block
    if (this.limit < 4096) this.minSizeSinceBlock = this.limit;
    this.table.onEvict = (e) => {
      if (this.byPair.get(e.hash) === e) this.byPair.delete(e.hash);
      const nh = hashName(e.name);
      if (this.byName.get(nh) === e) this.byName.delete(nh);
    };
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE changed: use min(it, our limit) from the next block on. */
  setPeerTableSize(size: number): void {
    const next = Math.min(size, this.limit);
    if (next === this.table.maxSize && this.minSizeSinceBlock < 0) return;
    this.minSizeSinceBlock = this.minSizeSinceBlock < 0 ? next : Math.min(this.minSizeSinceBlock, next);
    this.table.resize(next);
  }

  /** Starts a header block: emits the pending table size updates. Needs 12 bytes of room. */
  beginBlock(out: ByteSink): void {
    if (this.minSizeSinceBlock < 0) return;
    if (this.minSizeSinceBlock < this.table.maxSize) integer(out, this.minSizeSinceBlock, 5, 0x20);
    integer(out, this.table.maxSize, 5, 0x20);
    this.minSizeSinceBlock = -1;
  }

  /**
   * Encodes one field. `value[start..end)` are the value bytes. `neverIndex` forces a
   * never-indexed literal. Needs `fieldBound(name.length, end - start)` bytes of room.
   */
  field(
    out: ByteSink,
    name: Buffer,
    value: Uint8Array,
    start: number,
    end: number,
    neverIndex: boolean,
  ): HeaderEntry | null {
    const nh = hashName(name);
    const ph = hashValue(nh, value, start, end);
    // exact matches: one index
    const si = STATIC_BY_PAIR.get(ph);
    if (si !== undefined) {
      const e = STATIC_TABLE[si]!;
      if (sameName(name, e.name) && sameBytes(e.value, value, start, end)) {
        integer(out, si, 7, 0x80);
        return null;
      }
    }
    const table = this.table;
    const de = this.byPair.get(ph);
    if (de !== undefined && sameName(name, de.name) && sameBytes(de.value, value, start, end)) {
      const i = table.indexOfSeq(de.seq);
      if (i >= 0) {
        integer(out, STATIC_COUNT + 1 + i, 7, 0x80);
        return null;
      }
    }
    // name index
    let nameIndex = 0;
    const sn = STATIC_BY_NAME.get(nh);
    if (sn !== undefined && sameName(name, STATIC_TABLE[sn]!.name)) {
      nameIndex = sn;
    } else {
      const dn = this.byName.get(nh);
      if (dn !== undefined && sameName(name, dn.name)) {
        const i = table.indexOfSeq(dn.seq);
        if (i >= 0) nameIndex = STATIC_COUNT + 1 + i;
      }
    }
    const len = end - start;
    if (
      neverIndex ||
      nh === H_AUTHORIZATION ||
      nh === H_PROXY_AUTHORIZATION ||
      (nh === H_COOKIE && len < 20) ||
      (value instanceof Buffer && start === 0 && end === value.length && isNeverIndexed(value))
    ) {
      integer(out, nameIndex, 4, 0x10);
    } else if (NOT_INDEXED.has(nh) || name.length + len + 32 > (table.maxSize * 3) / 4) {
      integer(out, nameIndex, 4, 0x00);
    } else {
      integer(out, nameIndex, 6, 0x40);
      const lname =
        nameIndex === 0
          ? lowerCopy(name)
          : nameIndex <= STATIC_COUNT
            ? STATIC_TABLE[nameIndex]!.name
            : table.get(nameIndex - STATIC_COUNT - 1)!.name;
      const v = Buffer.allocUnsafe(len);
      v.set(value.subarray(start, end));
      const entry = new HeaderEntry(lname, v);
      entry.hash = ph;
      table.add(entry);
      if (entry.seq >= 0) {
        this.byPair.set(ph, entry);
        this.byName.set(nh, entry);
      }
      if (nameIndex === 0) this.string(out, lname, 0, lname.length);
      this.string(out, value, start, end);
      return entry.seq >= 0 ? entry : null;
    }
    if (nameIndex === 0) this.lowerString(out, name);
    this.string(out, value, start, end);
    return null;
  }

  /**
   * Encodes a field whose value is a latin1 string (a pseudo-header). `name` must be one of the
   * static table's name Buffers (`staticName`) or another Buffer kept for the connection's
   * life: repeated values are found by string (the strings of decoded heads are the same objects
   * each time), without converting them to bytes again.
   */
  fieldString(out: ByteSink, name: Buffer, value: string, neverIndex: boolean): void {
    if (!neverIndex) {
      const si = STATIC_STRINGS.get(name)?.get(value);
      if (si !== undefined) return integer(out, si, 7, 0x80);
      const cache = this.strings.get(name);
      const hit = cache?.get(value);
      if (hit !== undefined) {
        const i = this.table.indexOfSeq(hit.seq);
        if (i >= 0) return integer(out, STATIC_COUNT + 1 + i, 7, 0x80);
        cache!.delete(value);
      }
    }
    if (this.scratch.length < value.length) this.scratch = Buffer.allocUnsafe(value.length * 2);
    const n = writeLatin1(this.scratch, value, 0);
    const added = this.field(out, name, this.scratch, 0, n, neverIndex);
    if (added === null) return;
    let cache = this.strings.get(name);
    if (cache === undefined) this.strings.set(name, (cache = new Map()));
    else if (cache.size >= 64) cache.clear();
    cache.set(value, added);
  }

  private lowerString(out: ByteSink, name: Buffer): void {
    for (let i = 0; i < name.length; i++) {
      const c = name[i]!;
      if (c >= 0x41 && c <= 0x5a) return this.string(out, lowerCopy(name), 0, name.length);
    }
    this.string(out, name, 0, name.length);
  }

  private string(out: ByteSink, src: Uint8Array, start: number, end: number): void {
    const len = end - start;
    if (this.huffman && len > 0) {
      const hl = huffmanLength(src, start, end);
      if (hl < len) {
        integer(out, hl, 7, 0x80);
        out.pos = huffmanEncode(src, start, end, out.buf, out.pos);
        return;
      }
    }
    integer(out, len, 7, 0x00);
    out.buf.set(src.subarray(start, end), out.pos);
    out.pos += len;
  }
}

function lowerCopy(name: Buffer): Buffer {
  const c = Buffer.allocUnsafe(name.length);
  for (let i = 0; i < name.length; i++) c[i] = LOWER[name[i]!]!;
  return c;
}

/** Writes `v` with an N-bit prefix, `first` holding the representation's high bits (section 5.1). */
export function integer(out: ByteSink, v: number, prefixBits: number, first: number): void {
  const buf = out.buf;
  const max = (1 << prefixBits) - 1;
  if (v < max) {
    buf[out.pos++] = first | v;
    return;
  }
  buf[out.pos++] = first | max;
  v -= max;
  while (v >= 128) {
    buf[out.pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[out.pos++] = v;
}
