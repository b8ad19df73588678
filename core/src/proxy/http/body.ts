import type { BodyWriter, HeaderPairs } from './sides.js';

/** A flow's stream function (`message.stream = fn`): each chunk in, zero or more chunks out. */
export type StreamFunction = (chunk: Buffer) => Buffer | Iterable<Buffer>;

const EMPTY = Buffer.alloc(0);

/** Sees each chunk that goes through (after the stream function), e.g. a per-chunk hook. */
export type ChunkTap = (chunk: Buffer) => void;

/**
 * Sits between a streamed body's producer and its receiver: runs the flow's stream function on
 * each chunk (and once more with an empty chunk at the end, to flush), keeps a copy of what went
 * through when asked (`store_streamed_bodies`; a live `text/event-stream` recorder), shows each
 * chunk to a tap if there is one, and passes backpressure both ways.
 */
export class BodyRelay implements BodyWriter {
  private readonly parts: Buffer[] | null;

  constructor(
    private readonly out: BodyWriter,
    private readonly fn: StreamFunction | null,
    keep: boolean,
    private readonly tap: ChunkTap | null = null,
  ) {
    this.parts = keep ? [] : null;
  }

  write(chunk: Buffer): boolean {
    const fn = this.fn;
    if (fn === null) return this.send(chunk);
    const r = fn(chunk);
    if (Buffer.isBuffer(r)) return this.send(r);
    let ok = true;
    for (const c of r) if (!this.send(c)) ok = false;
    return ok;
  }

  get retained(): boolean {
    return this.out.retained;
  }

  onDrain(resume: () => void): void {
    this.out.onDrain(resume);
  }

  end(trailers: HeaderPairs | null): void {
    if (this.fn !== null) this.write(EMPTY);
    this.out.end(trailers);
  }

  /** What went through (when keeping), else null. */
  kept(): Buffer | null {
    return this.parts === null ? null : Buffer.concat(this.parts);
  }

  private send(data: Buffer): boolean {
    if (data.length === 0) return true;
    // A copy: the data may sit in a read buffer that is reused for the next read.
    this.parts?.push(Buffer.from(data));
    this.tap?.(data);
    return this.out.write(data);
  }
}
