import zlib from 'node:zlib';
import { zstd } from './zstd.js';

/** The content encodings mitmts can decode and encode (plus their aliases). */
export const CONTENT_ENCODINGS = ['identity', 'none', 'gzip', 'deflate', 'deflateraw', 'br', 'zstd'] as const;

/** Raised for an unknown content encoding or bytes that do not decode. */
export class ContentEncodingError extends Error {
  readonly code = 'MITMTS_ERR_CONTENT_ENCODING';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ContentEncodingError';
  }
}

function gunzip(buf: Buffer): Buffer {
  if (buf.length === 0) return Buffer.alloc(0);
  return zlib.gunzipSync(buf);
}

function inflate(buf: Buffer): Buffer {
  if (buf.length === 0) return Buffer.alloc(0);
  try {
    return zlib.inflateSync(buf);
  } catch {
    // Some servers send raw DEFLATE without the zlib header and checksum.
    return zlib.inflateRawSync(buf);
  }
}

function unbrotli(buf: Buffer): Buffer {
  if (buf.length === 0) return Buffer.alloc(0);
  return zlib.brotliDecompressSync(buf);
}

function unzstd(buf: Buffer): Buffer {
  if (buf.length === 0) return Buffer.alloc(0);
  return zstd().decompress(buf);
}

const decoders: Record<string, (b: Buffer) => Buffer> = {
  identity: (b) => b,
  none: (b) => b,
  gzip: gunzip,
  deflate: inflate,
  deflateraw: inflate,
  br: unbrotli,
  zstd: unzstd,
};

const encoders: Record<string, (b: Buffer) => Buffer> = {
  identity: (b) => b,
  none: (b) => b,
  gzip: (b) => zlib.gzipSync(b),
  deflate: (b) => zlib.deflateSync(b),
  deflateraw: (b) => zlib.deflateSync(b),
  br: (b) => zlib.brotliCompressSync(b),
  zstd: (b) => zstd().compress(b),
};

/** True if `encoding` (case-insensitive) is one mitmts can decode and encode. */
export function isSupportedEncoding(encoding: string): boolean {
  return Object.prototype.hasOwnProperty.call(decoders, encoding.toLowerCase());
}

/**
 * Decode `buf` per a Content-Encoding value: gzip, deflate (zlib or raw), br, zstd, identity.
 * @throws ContentEncodingError for an unknown encoding or corrupt data.
 */
export function decode(buf: Buffer, encoding: string): Buffer {
  const e = encoding.toLowerCase();
  const fn = decoders[e];
  if (!fn || !Object.prototype.hasOwnProperty.call(decoders, e)) {
    throw new ContentEncodingError(
      `Unknown content encoding '${encoding}': expected one of ${CONTENT_ENCODINGS.join(', ')}.`,
    );
  }
  try {
    return fn(buf);
  } catch (err) {
    throw new ContentEncodingError(
      `Cannot decode ${buf.length} bytes with content encoding '${encoding}': ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Encode `buf` with a content encoding (see {@link decode}).
 * @throws ContentEncodingError for an unknown encoding.
 */
export function encode(buf: Buffer, encoding: string): Buffer {
  const e = encoding.toLowerCase();
  const fn = encoders[e];
  if (!fn || !Object.prototype.hasOwnProperty.call(encoders, e)) {
    throw new ContentEncodingError(
      `Unknown content encoding '${encoding}': expected one of ${CONTENT_ENCODINGS.join(', ')}.`,
    );
  }
  try {
    return fn(buf);
  } catch (err) {
    throw new ContentEncodingError(`Cannot encode with content encoding '${encoding}': ${(err as Error).message}`, {
      cause: err,
    });
  }
}
