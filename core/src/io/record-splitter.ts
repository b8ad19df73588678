/**
 * Splits a byte stream into top-level tnetstring records without decoding them: it reads each
 * record's length prefix and waits until the whole record has arrived. Each record is copied
 * into its own Buffer, so decoded values (zero-copy views) keep only their own record alive
 * and the read buffer can be reused. Memory stays bounded by the largest record.
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

export class RecordSplitter {
  /** Absolute offset of the first byte not yet emitted as part of a record. */
  private offset = 0;
  private index = 0;
  /** Bytes of an incomplete record, as received (not yet concatenated). */
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** Full length of the pending record once its prefix is known, else -1. */
  private need = -1;

  /** Records completed by `chunk`, in order. `chunk` may be reused by the caller afterwards. */
  *push(chunk: Buffer): Generator<RawRecord> {
    let buf = chunk;
    if (this.pendingLength > 0) {
      if (this.need !== -1 && this.pendingLength + chunk.length < this.need) {
        // Still inside a large record: keep collecting without concatenating.
        this.pending.push(Buffer.from(chunk));
        this.pendingLength += chunk.length;
        return;
      }
      buf = Buffer.concat([...this.pending, chunk]);
      this.pending = [];
      this.pendingLength = 0;
      this.need = -1;
    }
    let pos = 0;
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
      const bytes = Buffer.allocUnsafe(len);
      buf.copy(bytes, 0, pos, pos + len);
      yield { bytes, offset: this.offset, index: this.index++ };
      this.offset += len;
      pos += len;
    }
    if (pos < end) {
      this.pending.push(Buffer.from(buf.subarray(pos)));
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
