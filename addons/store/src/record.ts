/**
 * A flow's stored form: its tnetstring record (exactly what a `.mitm` file holds for it),
 * zstd-compressed, with bodies over the threshold cut out into {@link BodyFiles} and named in
 * `ext` (`{"request": "<sha256>", "response": "<sha256>"}`). Unpacking restores the record byte
 * for byte, so exporting to `.mitm` is a copy.
 */
import { loadZstd } from './zstd.js';
import type { BodyFiles } from './bodies.js';
import { encodeBytes, replaceAt, valueAt } from './tnet.js';

/**
 * Records shorter than this are stored as they are. A small record is mostly keys, headers and
 * connection details: zstd at level 1 shrinks a 1.7 KiB plain-HTTP GET to 0.8 KiB, for 12-25 µs
 * of the writer thread's CPU (a sixth of its cost per flow), and every read pays 5-10 µs to
 * decompress it again. Larger records (TLS details with their certificates, bodies) shrink by
 * far more than a KiB and are compressed: stored raw, the bench's million HTTPS flows (3.5 KiB
 * records) took 4.3 GB instead of 1.35. Readers tell the two apart by the first bytes (a zstd
 * frame, or a tnetstring's digit).
 */
export const COMPRESS_MIN = 2048;
const CONTENT = Buffer.from('content', 'latin1');
const PATHS = {
  request: [Buffer.from('request', 'latin1'), CONTENT],
  response: [Buffer.from('response', 'latin1'), CONTENT],
} as const;
const EMPTY = encodeBytes(Buffer.alloc(0));
/** zstd level 1: the fastest; flow records still shrink to about half. */
export const COMPRESS_LEVEL = 1;

let compressor: import('zstd-napi').Compressor | null = null;
let decompressor: import('zstd-napi').Decompressor | null = null;

/** A record as stored: compressed unless short. (The writer thread does the same, with these constants.) */
export function compressRecord(record: Buffer): Buffer {
  if (record.length < COMPRESS_MIN) return record;
  if (compressor === null) {
    // One context, its parameters set once (zstd.compress sets a context up for every call).
    compressor = new (loadZstd().Compressor)();
    compressor.setParameters({ compressionLevel: COMPRESS_LEVEL });
  }
  return compressor.compress(record);
}
/** zstd frames start with 28 b5 2f fd; tnetstring records with a digit. */
const isZstd = (b: Buffer): boolean =>
  b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd;

/** Per side, a body (when writing) or its hash (as stored in `ext`). */
export type ExternalBodies<T = Buffer> = Partial<Record<'request' | 'response', T>>;

export class RecordCodec {
  constructor(
    private readonly bodies: BodyFiles,
    /** Bodies larger than this many bytes go to files. */
    readonly threshold: number,
  ) {}

  /**
   * A flow's record (its encoded state) with its large bodies stored as files: the record to
   * store (compress it with {@link compressRecord}) and `ext`. `cut`: bodies the caller already
   * emptied in the record; without it, bodies over the threshold are found in the record and
   * cut out here.
   */
  cut(record: Buffer, cut?: ExternalBodies): { record: Buffer; ext: string | null } {
    let ext: ExternalBodies<string> | null = null;
    for (const side of ['request', 'response'] as const) {
      let body = cut?.[side];
      if (body === undefined && cut === undefined && record.length > this.threshold) {
        const v = valueAt(record, PATHS[side]);
        // 0x2c ',': bytes (null content is '~').
        if (v !== null && v.type === 0x2c && v.payload.length > this.threshold) {
          body = v.payload;
          record = replaceAt(record, PATHS[side], EMPTY)!;
        }
      }
      if (body !== undefined) (ext ??= {})[side] = this.bodies.put(body);
    }
    return { record, ext: ext ? JSON.stringify(ext) : null };
  }

  /** The record a stored form came from. */
  unpack(blob: Buffer, ext: string | null): Buffer {
    // One context for every record (zstd.decompress sets one up per call).
    let record = isZstd(blob) ? (decompressor ??= new (loadZstd().Decompressor)()).decompress(blob) : blob;
    if (ext !== null) {
      const bodies = JSON.parse(ext) as ExternalBodies<string>;
      for (const side of ['request', 'response'] as const) {
        const hash = bodies[side];
        if (hash === undefined) continue;
        record = replaceAt(record, PATHS[side], encodeBytes(this.bodies.get(hash))) ?? record;
      }
    }
    return record;
  }
}
