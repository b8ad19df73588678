/**
 * Splits a byte stream into top-level tnetstring records without decoding them: it reads each
 * record's length prefix and waits until the whole record has arrived. Memory stays bounded by
 * the largest record.
 *
 * Decoded values are zero-copy views of a record's bytes, so what a record's Buffer points into
 * decides what a kept flow keeps alive:
 * - chunks the caller *owns* (fresh for every push, never written again: the file sources) are
 *   not copied at all; a record is a view of its chunk, and a kept flow holds that chunk (the
 *   read size, 64 KiB by default) or its own record if that is larger;
 * - other chunks (caller's Buffers, iterables that may reuse their buffer) are copied: small
 *   records into shared 64 KiB slabs, large ones into their own Buffer.
 * Only a record that straddles two chunks is assembled by copying its pieces.
 */
import { FlowReadError, FlowReadErrorCode, TnetstringError } from './errors.js';
import { measure } from './tnetstring.js';

export interface RawRecord {
  /** The record's bytes (prefix, payload and type tag). */
  bytes: Buffer;
  /** Absolute byte offset of the record in the input. */
  offset: number;
  /** 0-based record index. */
  index: number;
}

/** Size of the slabs that copied records share. */
const SLAB_SIZE = 1 << 16;
/** Records above this size get their own Buffer instead of a slab slice. */
const SLAB_MAX_RECORD = SLAB_SIZE >> 2;

export class RecordSplitter {
  /** Absolute offset of the first byte not yet emitted as part of a record. */
  private offset = 0;
  private index = 0;
  /** Bytes of an incomplete record, as received (owned: never written again). */
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** Full length of the pending record once its prefix is known, else -1. */
  private need = -1;
  private slab: Buffer = Buffer.alloc(0);
  private slabUsed = 0;

  /**
   * Records completed by `chunk`, in order. With `owned` the caller guarantees that `chunk` is
   * never written again, and records may be views of it; otherwise `chunk` may be reused by the
   * caller afterwards.
   */
  *push(chunk: Buffer, owned = false): Generator<RawRecord> {
    let buf = chunk;
    let bufOwned = owned;
    let pos = 0;
    if (this.pendingLength > 0) {
      if (this.need === -1) {
        // The previous chunk ended inside a length prefix (a few bytes): join and start over.
        buf = Buffer.concat([...this.pending, chunk]);
        bufOwned = true;
        this.clearPending();
      } else {
        const missing = this.need - this.pendingLength;
        if (chunk.length < missing) {
          // Still inside a large record: keep collecting without concatenating.
          this.pending.push(owned ? chunk : Buffer.from(chunk));
          this.pendingLength += chunk.length;
          return;
        }
        // Assemble just the straddling record; the rest of the chunk is read in place.
        const need = this.need;
        const bytes = Buffer.concat([...this.pending, chunk.subarray(0, missing)], need);
        this.clearPending();
        yield { bytes, offset: this.offset, index: this.index++ };
        this.offset += need;
        pos = missing;
      }
    }
    const end = buf.length;
    while (pos < end) {
      let len: number;
      try {
        len = measure(buf, pos, end, this.offset - pos);
      } catch (e) {
        throw this.corrupt(e);
      }
      if (len === -1 || pos + len > end) {
        this.need = len;
        break;
      }
      const bytes = bufOwned ? buf.subarray(pos, pos + len) : this.copy(buf, pos, len);
      yield { bytes, offset: this.offset, index: this.index++ };
      this.offset += len;
      pos += len;
    }
    if (pos < end) {
      this.pending.push(bufOwned ? buf.subarray(pos) : Buffer.from(buf.subarray(pos)));
      this.pendingLength = end - pos;
    }
  }

  /** Call at the end of input: throws a truncated error if a record was cut. */
  end(): void {
    if (this.pendingLength === 0) return;
    const have = this.pendingLength;
    const what =
      this.need === -1
        ? `the input ends inside its length prefix (${have} byte${have === 1 ? '' : 's'})`
        : `it declares ${this.need} bytes but the input ends after ${have}`;
    throw new FlowReadError(
      FlowReadErrorCode.TRUNCATED,
      `flow record #${this.index + 1} at byte ${this.offset} is cut short: ${what}. ` +
        `The ${this.index} complete flow${this.index === 1 ? '' : 's'} before it were read. ` +
        `The file was probably still being written or was truncated; truncate it at byte ${this.offset} to drop the partial record.`,
      { offset: this.offset, record: this.index },
    );
  }

  private clearPending(): void {
    this.pending = [];
    this.pendingLength = 0;
    this.need = -1;
  }

  /** A copy of `buf[pos, pos + len)` in memory the splitter owns. */
  private copy(buf: Buffer, pos: number, len: number): Buffer {
    if (len > SLAB_MAX_RECORD) {
      const own = Buffer.allocUnsafeSlow(len);
      buf.copy(own, 0, pos, pos + len);
      return own;
    }
    if (this.slabUsed + len > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
      this.slabUsed = 0;
    }
    const at = this.slabUsed;
    buf.copy(this.slab, at, pos, pos + len);
    this.slabUsed = at + len;
    return this.slab.subarray(at, at + len);
  }

  private corrupt(e: unknown): FlowReadError {
    if (!(e instanceof TnetstringError)) throw e;
    return new FlowReadError(
      FlowReadErrorCode.CORRUPT,
      `flow record #${this.index + 1} at byte ${this.offset} is not a tnetstring: ${e.message}. ` +
        `This is not a mitmproxy flow file, or it is damaged at byte ${e.offset}.`,
      { offset: e.offset, record: this.index, cause: e },
    );
  }
}
