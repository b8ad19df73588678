import type { Writable } from 'node:stream';
import type { BodyWriter } from '../http/sides.js';
import { encodeChunk, encodeLastChunk } from './chunked.js';
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
