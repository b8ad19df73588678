import type { BodyWriter, HeaderPairs } from './sides.js';

/** A flow's stream function (`message.stream = fn`): each chunk in, zero or more chunks out. */
export type StreamFunction = (chunk: Buffer) => Buffer | Iterable<Buffer>;

const EMPTY = Buffer.alloc(0);

/** Sees each chunk that goes through (after the stream function), e.g. a per-chunk hook. */
export type ChunkTap = (chunk: Buffer) => void;

/** How much of a body a {@link BodyRelay} keeps, and whom it tells once it keeps no more. */
export interface KeepLimit {
  readonly bytes: number;
  /** Called once, when the first byte past the limit goes through. */
  readonly reached: () => void;
}

/**
 * Sits between a streamed body's producer and its receiver: runs the flow's stream function on
 * each chunk (and once more with an empty chunk at the end, to flush), keeps a copy of what went
 * through when asked (`store_streamed_bodies`; a live `text/event-stream` recorder), shows each
 * chunk to a tap if there is one, and passes backpressure both ways.
 */
export class BodyRelay implements BodyWriter {
  private readonly parts: Buffer[] | null;
  /** Bytes kept so far. */
  private keptBytes = 0;
  /** Bytes that went through past the keep limit (not kept). */
  omitted = 0;

  constructor(
    private readonly out: BodyWriter,
    private readonly fn: StreamFunction | null,
    keep: boolean,
    private readonly tap: ChunkTap | null = null,
    /** Keep at most this much (the first bytes); null: everything. */
    private readonly limit: KeepLimit | null = null,
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

  /** Keep a copy (the data may sit in a read buffer that is reused for the next read), up to the limit. */
  private keep(data: Buffer): void {
    const limit = this.limit;
    if (limit === null) {
      this.parts!.push(Buffer.from(data));
      return;
    }
    const room = limit.bytes - this.keptBytes;
    if (room >= data.length) {
      this.parts!.push(Buffer.from(data));
      this.keptBytes += data.length;
      return;
    }
    if (room > 0) {
      this.parts!.push(Buffer.from(data.subarray(0, room)));
      this.keptBytes += room;
    }
    if (this.omitted === 0) limit.reached();
    this.omitted += data.length - Math.max(room, 0);
  }

  private send(data: Buffer): boolean {
    if (data.length === 0) return true;
    if (this.parts !== null) this.keep(data);
    this.tap?.(data);
    return this.out.write(data);
  }
}
