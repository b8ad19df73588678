import type { Writable } from 'node:stream';
import type { BodyWriter } from '../http/sides.js';
import { CHUNK_END, chunkHeader, encodeChunk, encodeLastChunk } from './chunked.js';
import type { RawHeaders } from './types.js';

/**
 * A streamed HTTP/1 body onto a socket (a request body to the server, a response body to the
 * client): as it is, or in chunked coding with the trailers in the last chunk.
 */
export class Http1BodyWriter implements BodyWriter {
  constructor(
    private readonly out: Writable,
    private readonly chunked: boolean,
  ) {}

  write(chunk: Buffer): boolean {
    return this.out.write(this.chunked ? encodeChunk(chunk) : chunk);
  }

  get retained(): boolean {
    return this.out.writableLength > 0;
  }

  onDrain(resume: () => void): void {
    this.out.once('drain', resume);
  }

  end(trailers: RawHeaders | null): void {
    if (this.chunked) this.out.write(encodeLastChunk(trailers));
  }
}

/**
 * A head and a whole body in one corked write (one `writev`), without copying the body: as it
 * is, or as one chunk and the last chunk with the trailers. `body` null or empty: no body bytes
 * (a chunked message still gets its last chunk unless `bodiless`).
 */
export function writeMessage(
  out: Writable,
  head: Buffer,
  body: Buffer | null,
  chunked: boolean,
  trailers: RawHeaders | null,
  bodiless = false,
): void {
  const n = body === null ? 0 : body.length;
  if (bodiless || (n === 0 && !chunked)) {
    out.write(head);
    return;
  }
  out.cork();
  out.write(head);
  if (chunked) {
    if (n > 0) {
      out.write(chunkHeader(n));
      out.write(body);
      out.write(CHUNK_END);
    }
    out.write(encodeLastChunk(trailers));
  } else {
    out.write(body);
  }
  out.uncork();
}
