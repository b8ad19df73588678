/**
 * A flow's stored form: its tnetstring record (exactly what a `.mitm` file holds for it),
 * zstd-compressed, with bodies over the threshold cut out into {@link BodyFiles} and named in
 * `ext` (`{"request": "<sha256>", "response": "<sha256>"}`). Unpacking restores the record byte
 * for byte, so exporting to `.mitm` is a copy.
 */
import { compress, decompress } from 'zstd-napi';
import type { BodyFiles } from './bodies.js';
import { encodeBytes, replaceAt, valueAt } from './tnet.js';

/** Records shorter than this are stored as they are (compression would not pay). */
const COMPRESS_MIN = 128;
const CONTENT = Buffer.from('content', 'latin1');
const PATHS = { request: [Buffer.from('request', 'latin1'), CONTENT], response: [Buffer.from('response', 'latin1'), CONTENT] } as const;
const EMPTY = encodeBytes(Buffer.alloc(0));
/** zstd level 1: the fastest; flow records still shrink to about half. */
const LEVEL = { compressionLevel: 1 };
/** zstd frames start with 28 b5 2f fd; tnetstring records with a digit. */
const isZstd = (b: Buffer): boolean => b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd;

export type ExternalBodies = Partial<Record<'request' | 'response', string>>;

export class RecordCodec {
  constructor(
    private readonly bodies: BodyFiles,
    /** Bodies larger than this many bytes go to files. */
    readonly threshold: number,
  ) {}

  /** The stored form of a flow's record (its encoded state). */
  pack(record: Buffer): { blob: Buffer; ext: string | null } {
    let ext: ExternalBodies | null = null;
    if (record.length > this.threshold) {
      for (const side of ['request', 'response'] as const) {
        const body = valueAt(record, PATHS[side]);
        // 0x2c ',': bytes (null content is '~').
        if (body === null || body.type !== 0x2c || body.payload.length <= this.threshold) continue;
        const hash = this.bodies.put(body.payload);
        record = replaceAt(record, PATHS[side], EMPTY)!;
        (ext ??= {})[side] = hash;
      }
    }
    const blob = record.length >= COMPRESS_MIN ? compress(record, LEVEL) : record;
    return { blob, ext: ext ? JSON.stringify(ext) : null };
  }

  /** The record a stored form came from. */
  unpack(blob: Buffer, ext: string | null): Buffer {
    let record = isZstd(blob) ? decompress(blob) : blob;
    if (ext !== null) {
      const bodies = JSON.parse(ext) as ExternalBodies;
      for (const side of ['request', 'response'] as const) {
        const hash = bodies[side];
        if (hash === undefined) continue;
        record = replaceAt(record, PATHS[side], encodeBytes(this.bodies.get(hash))) ?? record;
      }
    }
    return record;
  }
}
