/**
 * HPACK decoder (RFC 7541): header block bytes in, fields out to a sink, one call per field.
 * Literal strings are views into the block where they are not Huffman-coded; Huffman strings are
 * decoded into a slab; table entries are copies (a view would keep a whole socket chunk alive).
 * @internal
 */
import { Buffer } from 'node:buffer';
import { view } from '../../http1/chars.js';
import { ErrorCode } from '../constants.js';
import { Http2Error, Http2ErrorCodes } from '../errors.js';
import { DynamicTable } from './dynamic-table.js';
import { HeaderEntry } from './entry.js';
import { huffmanDecode, huffmanDecodedBound } from './huffman.js';
import { markNeverIndexed } from './sensitive.js';
import { STATIC_COUNT, STATIC_TABLE } from './static-table.js';

/** Field flags passed to {@link HeaderSink.field}. */
export const FieldFlag = {
  /** Sent as a never-indexed literal (RFC 7541 section 6.2.3). */
  NEVER_INDEXED: 1,
} as const;

/** Receives decoded fields in block order. */
export interface HeaderSink {
  /**
   * One field. `entry` is the table entry the field is (indexed representation) or was just
   * added as (literal with incremental indexing), else null; its Buffers are shared, never
   * mutate them.
   */
  field(name: Buffer, value: Buffer, entry: HeaderEntry | null, flags: number): void;
}

const SLAB_SIZE = 8192;

export class HpackDecoder {
  /** The dynamic table; its size limit is our SETTINGS_HEADER_TABLE_SIZE. */
  readonly table: DynamicTable;
  private slab: Buffer = Buffer.allocUnsafe(SLAB_SIZE);
  private slabPos = 0;
  // decode() position, a field so the helpers need no closures or tuple returns
  private pos = 0;
  private buf: Buffer = Buffer.alloc(0);
  private end = 0;

  /**
   * @param maxTableSize our SETTINGS_HEADER_TABLE_SIZE: the largest size update the peer may send
   * @param maxListSize largest decoded header list (RFC 9113 section 6.5.2 sizes: name + value + 32 per field)
   */
  constructor(
    private maxTableSize: number,
    public maxListSize: number,
  ) {
    this.table = new DynamicTable(maxTableSize);
  }

  /**
   * Decodes the block `buf[start..end)` into `sink`. Returns false if the decoded list grew over
   * `maxListSize`: the sink then got only the fields before the limit, and the rest of the block
   * was still decoded for the table's sake (work stays bounded by the block's length). Throws a
   * COMPRESSION_ERROR {@link Http2Error} for an undecodable block; the decoder is then unusable.
   */
  decode(buf: Buffer, start: number, end: number, sink: HeaderSink): boolean {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    let listSize = 0;
    let within = true;
    let sizeUpdateAllowed = true;
    const table = this.table;
    while (this.pos < end) {
      const b = buf[this.pos]!;
      let name: Buffer;
      let value: Buffer;
      let entry: HeaderEntry | null;
      let flags = 0;
      if (b & 0x80) {
        // indexed field (section 6.1)
        entry = this.entry(this.integer(7));
        name = entry.name;
        value = entry.value;
      } else if (b & 0x40) {
        // literal with incremental indexing (section 6.2.1)
        const idx = this.integer(6);
        name = idx === 0 ? copy(this.string()) : this.entry(idx).name;
        value = copy(this.string());
        entry = new HeaderEntry(name, value);
        table.add(entry);
      } else if (b & 0x20) {
        // dynamic table size update (section 6.3): only at the start of a block
        if (!sizeUpdateAllowed) throw fail('a dynamic table size update after the first field of a header block');
        const size = this.integer(5);
        if (size > this.maxTableSize)
          throw fail(
            `a dynamic table size update to ${size} bytes, over our SETTINGS_HEADER_TABLE_SIZE of ${this.maxTableSize}`,
          );
        table.resize(size);
        continue;
      } else {
        // literal without indexing (0000) or never indexed (0001) (sections 6.2.2, 6.2.3)
        const idx = this.integer(4);
        name = idx === 0 ? this.string() : this.entry(idx).name;
        value = this.string();
        entry = null;
        if (b & 0x10) {
          flags = FieldFlag.NEVER_INDEXED;
          markNeverIndexed(value);
        }
      }
      sizeUpdateAllowed = false;
      if (within) {
        listSize += name.length + value.length + 32;
        if (listSize > this.maxListSize) within = false;
        else sink.field(name, value, entry, flags);
      }
    }
    this.buf = EMPTY;
    return within;
  }

  /** Sets our SETTINGS_HEADER_TABLE_SIZE (the limit for the peer's size updates). */
  setMaxTableSize(size: number): void {
    this.maxTableSize = size;
    if (this.table.maxSize > size) this.table.resize(size);
  }

  private entry(index: number): HeaderEntry {
    if (index === 0) throw fail('index 0 in an indexed field');
    if (index <= STATIC_COUNT) return STATIC_TABLE[index]!;
    const e = this.table.get(index - STATIC_COUNT - 1);
    if (e === undefined)
      throw fail(
        `index ${index} past the end of the tables (${STATIC_COUNT} static + ${this.table.count} dynamic entries)`,
      );
    return e;
  }

  /** An integer with an N-bit prefix (section 5.1) at `pos`; moves `pos` past it. */
  private integer(prefixBits: number): number {
    const buf = this.buf;
    const max = (1 << prefixBits) - 1;
    let v = buf[this.pos++]! & max;
    if (v < max) return v;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw fail('a truncated integer');
      const b = buf[this.pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) throw fail('an integer over 2^28');
    }
    return v;
  }

  /** A string literal (section 5.2) at `pos`: a view into the block, or Huffman-decoded. */
  private string(): Buffer {
    if (this.pos >= this.end) throw fail('a missing string literal');
    const huffman = (this.buf[this.pos]! & 0x80) !== 0;
    const len = this.integer(7);
    const start = this.pos;
    if (len > this.end - start)
      throw fail(`a string literal of ${len} bytes with ${this.end - start} left in the block`);
    this.pos = start + len;
    if (!huffman) return view(this.buf, start, start + len);
    const bound = huffmanDecodedBound(len);
    if (this.slabPos + bound > this.slab.length) {
      this.slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, bound));
      this.slabPos = 0;
    }
    const from = this.slabPos;
    const to = huffmanDecode(this.buf, start, start + len, this.slab, from);
    if (to < 0) throw fail('an invalid Huffman-coded string (EOS, or bad padding)');
    this.slabPos = to;
    return view(this.slab, from, to);
  }
}

const EMPTY = Buffer.alloc(0);

function copy(b: Buffer): Buffer {
  const c = Buffer.allocUnsafe(b.length);
  b.copy(c, 0, 0, b.length);
  return c;
}

function fail(what: string): Http2Error {
  return new Http2Error(
    Http2ErrorCodes.COMPRESSION,
    `HPACK: the header block has ${what}`,
    ErrorCode.COMPRESSION_ERROR,
  );
}
