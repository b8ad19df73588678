/**
 * Byte sources for the flow reader: files (sync and async), Buffers, Node streams and any
 * (async) iterable of byte chunks. Files are read into a fresh Buffer per read, which the
 * reader owns ({@link ownsChunks}): records are decoded in place, without copies. Chunks of
 * other sources may be reused by whoever made them; the record splitter copies what it keeps.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/**
 * Where flows come from: a file path (or `file:` URL), the bytes themselves, a readable stream
 * or any iterable / async iterable of byte chunks.
 */
export type FlowSource =
  string | URL | Uint8Array | NodeJS.ReadableStream | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>;

/**
 * Read size for files: large enough to amortize syscalls, small enough to stay cache friendly.
 * Flows read from a file are views of their read chunk, so this is also what one flow kept
 * alone keeps alive at most (besides its own record, if that is larger).
 */
export const DEFAULT_CHUNK_SIZE = 1 << 16;

export function sourcePath(source: FlowSource): string | undefined {
  if (typeof source === 'string') return source;
  if (source instanceof URL) return fileURLToPath(source);
  return undefined;
}

export function sourceName(source: FlowSource): string | undefined {
  return sourcePath(source);
}

function toBuffer(c: Uint8Array | string): Buffer {
  if (Buffer.isBuffer(c)) return c;
  if (typeof c === 'string') return Buffer.from(c, 'latin1');
  return Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}

/**
 * True if every chunk of `source` is a fresh Buffer nobody writes again (files), so that
 * decoded values may point into it.
 */
export function ownsChunks(source: FlowSource): boolean {
  return sourcePath(source) !== undefined;
}

function* fileChunksSync(path: string, chunkSize: number): Generator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const buf = Buffer.allocUnsafeSlow(chunkSize);
      const n = readSync(fd, buf, 0, chunkSize, null);
      if (n === 0) return;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

async function* fileChunks(path: string, chunkSize: number): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    for (;;) {
      const buf = Buffer.allocUnsafeSlow(chunkSize);
      const { bytesRead } = await fh.read(buf, 0, chunkSize, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** Synchronous chunks, for sources that allow it (files, bytes, sync iterables). */
export function syncChunks(source: FlowSource, chunkSize = DEFAULT_CHUNK_SIZE): Iterable<Buffer> {
  const path = sourcePath(source);
  if (path !== undefined) return fileChunksSync(path, chunkSize);
  if (source instanceof Uint8Array) return [toBuffer(source)];
  if (typeof (source as Iterable<Uint8Array>)[Symbol.iterator] === 'function') {
    return (function* () {
      for (const c of source as Iterable<Uint8Array>) yield toBuffer(c);
    })();
  }
  throw new TypeError(
    'cannot read this flow source synchronously (it is a stream or async iterable); iterate with `for await` instead',
  );
}

/** Asynchronous chunks, for every kind of source. */
export async function* asyncChunks(source: FlowSource, chunkSize = DEFAULT_CHUNK_SIZE): AsyncGenerator<Buffer> {
  const path = sourcePath(source);
  if (path !== undefined) {
    yield* fileChunks(path, chunkSize);
    return;
  }
  if (source instanceof Uint8Array) {
    yield toBuffer(source);
    return;
  }
  if (typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    for await (const c of source as AsyncIterable<Uint8Array | string>) yield toBuffer(c);
    return;
  }
  yield* syncChunks(source, chunkSize);
}
