/**
 * The records file beside a store (`FILE.records`): the flows' stored records (their tnetstring
 * state, zstd compressed from 2 KiB on) appended one batch at a time, each row of the database
 * pointing at its record by offset and length. SQLite then only inserts the ~300-byte rows: a
 * record in a table was written twice (WAL, then the checkpoint's copy) inside a b-tree page,
 * and cost the writer thread a third of its time per flow (docs/flow-store.md).
 *
 * Order, so that a row never points at bytes that are not there: a batch's records are written
 * and flushed to the disk (fdatasync) before the transaction holding its rows commits, inside
 * that transaction (the database's write lock also serializes the appends of two writers). A
 * rewritten flow gets a new copy; the old bytes stay (the file only grows, like a `.mitm` file).
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, writevSync } from 'node:fs';
import { FlowReadError, FlowReadErrorCode } from '@mitmts/sdk/store';

/** The records file of the store at `path`. */
export const recordsPath = (path: string): string => `${path}.records`;

/** Append-only writes: a batch of records at the end, returning where the first one starts. */
export class RecordsAppender {
  private fd: number | null = null;

  constructor(readonly path: string) {}

  /**
   * Write `records` at the end of the file, one after the other, and flush them to the disk.
   * Returns the offset of the first. Call inside the write transaction, before its rows commit.
   * If the write fails (a full disk), the file is cut back to where it was.
   */
  append(records: readonly Uint8Array[]): number {
    const fd = (this.fd ??= openSync(this.path, 'a'));
    const at = fstatSync(fd).size;
    try {
      for (let i = 0; i < records.length; i += 1024) writevSync(fd, records.slice(i, i + 1024) as Uint8Array[]);
      fdatasyncSync(fd);
    } catch (err) {
      try {
        ftruncateSync(fd, at);
      } catch {
        // The write error is what matters; a tail no row points at is harmless.
      }
      throw err;
    }
    return at;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Reads records by offset and length (positioned reads: a writer may be appending meanwhile). */
export class RecordsReader {
  private fd: number | null = null;

  constructor(readonly path: string) {}

  /** The `len` bytes at `at`; a FlowReadError naming the file if they are not all there. */
  read(at: number, len: number, seq: number): Buffer {
    let fd = this.fd;
    if (fd === null) {
      try {
        fd = this.fd = openSync(this.path, 'r');
      } catch (err) {
        throw new FlowReadError(
          FlowReadErrorCode.CORRUPT,
          `${this.path}: the records file of this store cannot be opened (${(err as Error).message}); it holds the flows' contents and must stay beside the database (keep or copy both).`,
          { record: seq, cause: err },
        );
      }
    }
    const out = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const n = readSync(fd, out, got, len - got, at + got);
      if (n === 0) break;
      got += n;
    }
    if (got < len)
      throw new FlowReadError(
        FlowReadErrorCode.CORRUPT,
        `${this.path}: the record of the flow stored as seq ${seq} (bytes ${at} to ${at + len}) is missing: the file ends at ${at + got}. It was cut short (copied while written, or damaged).`,
        { record: seq },
      );
    return out;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
