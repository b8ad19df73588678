/**
 * Chunked transfer coding for outgoing bodies (RFC 9112 section 7.1).
 */
import { Buffer } from 'node:buffer';
import { CR, LF, writeLatin1 } from './chars.js';
import { type OutboundHeaders, checkField } from './serialize.js';

/** CRLF that closes every chunk's data. */
export const CHUNK_END: Buffer = Buffer.from('\r\n', 'latin1');
/** The last chunk without trailers: `0\r\n\r\n`. */
export const LAST_CHUNK: Buffer = Buffer.from('0\r\n\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);

/** The size line of a chunk of `size` bytes: hex size and CRLF. */
export function chunkHeader(size: number): Buffer {
  return Buffer.from(size.toString(16) + '\r\n', 'latin1');
}

/**
 * One chunk as a single Buffer (size line, data, CRLF), copying `data`. An empty `data` gives an
 * empty Buffer, because a zero-size chunk would end the body. For large streamed chunks prefer
 * {@link chunkPieces} and a corked socket (no copy).
 */
export function encodeChunk(data: Buffer): Buffer {
  if (data.length === 0) return EMPTY;
  const hex = data.length.toString(16);
  const out = Buffer.allocUnsafe(hex.length + data.length + 4);
  let o = writeLatin1(out, hex, 0);
  out[o++] = CR;
  out[o++] = LF;
  out.set(data, o);
  o += data.length;
  out[o++] = CR;
  out[o] = LF;
  return out;
}

/** One chunk as `[size line, data, CRLF]` for vectored writes; `[]` for empty data. */
export function chunkPieces(data: Buffer): Buffer[] {
  return data.length === 0 ? [] : [chunkHeader(data.length), data, CHUNK_END];
}

/** The last chunk, with trailer fields if any: `0\r\n` + `name: value\r\n`... + `\r\n`. */
export function encodeLastChunk(trailers?: OutboundHeaders | null): Buffer {
  if (trailers == null || trailers.length === 0) return LAST_CHUNK;
  let size = 5;
  for (const [n, v] of trailers) size += n.length + v.length + 4;
  const out = Buffer.allocUnsafe(size);
  out[0] = 0x30;
  out[1] = CR;
  out[2] = LF;
  let o = 3;
  for (const [n, v] of trailers) {
    checkField(n, v, 'request');
    out.set(n, o);
    o += n.length;
    out[o++] = 0x3a;
    out[o++] = 0x20;
    out.set(v, o);
    o += v.length;
    out[o++] = CR;
    out[o++] = LF;
  }
  out[o++] = CR;
  out[o] = LF;
  return out;
}
