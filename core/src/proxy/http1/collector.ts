const EMPTY = Buffer.alloc(0);

/**
 * A buffered body as it arrives. With a declared length it is copied into one buffer of that
 * size (allocated at the first byte): the body exists once, never as chunks plus their
 * concatenation. Without one the chunks are kept and joined once at the end.
 */
export class BodyCollector {
  private chunks: Buffer[] = [];
  private whole: Buffer | null = null;
  private expected = -1;
  /** Bytes collected so far. */
  length = 0;

  /** The body will be `n` bytes (a Content-Length): collect it into one buffer of that size. */
  expect(n: number): void {
    if (this.length === 0) this.expected = n;
  }

  /**
   * Take one chunk. True when it was copied (the caller may reuse its buffer); false when the
   * collector keeps a reference to it.
   */
  add(chunk: Buffer): boolean {
    if (this.whole === null && this.length === 0 && this.expected > 0) this.whole = Buffer.allocUnsafe(this.expected);
    const w = this.whole;
    if (w !== null && this.length + chunk.length <= w.length) {
      chunk.copy(w, this.length);
      this.length += chunk.length;
      return true;
    }
    if (w !== null) {
      // More than declared (the parser never lets this happen): fall back to chunks.
      this.chunks.push(w.subarray(0, this.length));
      this.whole = null;
    }
    this.chunks.push(chunk);
    this.length += chunk.length;
    return false;
  }

  /** The whole body (a shared empty buffer for none); the collector starts over. */
  take(): Buffer {
    const w = this.whole;
    const c = this.chunks;
    const b =
      w !== null
        ? w.subarray(0, this.length)
        : this.length === 0
          ? EMPTY
          : c.length === 1
            ? c[0]!
            : Buffer.concat(c, this.length);
    this.reset();
    return b;
  }

  /** What was collected, as pieces (to stream it on); the collector starts over. */
  drain(): Buffer[] {
    const w = this.whole;
    const pieces = w === null ? this.chunks : this.length > 0 ? [w.subarray(0, this.length)] : [];
    this.reset();
    return pieces;
  }

  private reset(): void {
    this.chunks = [];
    this.whole = null;
    this.expected = -1;
    this.length = 0;
  }
}
