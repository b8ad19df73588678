/**
 * The HPACK dynamic table (RFC 7541 sections 2.3.2 and 4): a FIFO of entries bounded by size,
 * newest first for indexing, evicting the oldest to make room.
 * @internal
 */
import type { HeaderEntry } from './entry.js';

export class DynamicTable {
  /** Current size (sum of entry sizes). */
  size = 0;
  /** Entries currently held. */
  count = 0;
  /** Entries ever inserted: an entry's `seq` is the value this had when it was added. */
  inserted = 0;
  /** Called for every entry evicted (the encoder drops it from its lookup maps). */
  onEvict: ((entry: HeaderEntry) => void) | null = null;

  private ring: Array<HeaderEntry | undefined> = new Array<HeaderEntry | undefined>(16);
  private mask = 15;
  /** Ring position of the next insertion. */
  private head = 0;

  constructor(
    /** Current maximum size (changed by dynamic table size updates). */
    public maxSize: number,
  ) {}

  /** Entry `i` counting from the newest (0), or undefined past the end. */
  get(i: number): HeaderEntry | undefined {
    return i < this.count ? this.ring[(this.head - 1 - i) & this.mask] : undefined;
  }

  /**
   * Adds `entry` as the newest, evicting old entries until it fits. An entry larger than the
   * whole table empties the table and is not added (section 4.4).
   */
  add(entry: HeaderEntry): void {
    while (this.count > 0 && this.size + entry.size > this.maxSize) this.evictOldest();
    if (entry.size > this.maxSize) return;
    entry.seq = this.inserted++;
    if (this.count === this.ring.length) this.grow();
    this.ring[this.head] = entry;
    this.head = (this.head + 1) & this.mask;
    this.count++;
    this.size += entry.size;
  }

  /** Sets the maximum size, evicting what no longer fits (section 4.3). */
  resize(maxSize: number): void {
    this.maxSize = maxSize;
    while (this.count > 0 && this.size > maxSize) this.evictOldest();
  }

  /** Index (0 = newest) of the entry inserted as number `seq`, or -1 if it was evicted. */
  indexOfSeq(seq: number): number {
    const i = this.inserted - 1 - seq;
    return i < this.count ? i : -1;
  }

  private evictOldest(): void {
    const pos = (this.head - this.count) & this.mask;
    const e = this.ring[pos]!;
    this.ring[pos] = undefined;
    this.count--;
    this.size -= e.size;
    this.onEvict?.(e);
  }

  private grow(): void {
    const old = this.ring;
    const next = new Array<HeaderEntry | undefined>(old.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head - this.count + i) & this.mask];
    this.ring = next;
    this.mask = next.length - 1;
    this.head = this.count;
  }
}
