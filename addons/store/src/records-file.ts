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
 * rewritten flow gets a new copy; the old bytes stay (the file only grows, like a `.mitm` file,
 * and bytes once written never change).
 */
import { closeSync, fdatasyncSync, fstatSync, openSync, readSync, writeSync, writevSync } from 'node:fs';
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
   * A write that fails (a full disk) leaves what it wrote: no row points at it, and the next
   * batch goes after it (bytes once written never change, so readers may read ahead).
   */
  append(records: readonly Uint8Array[]): number {
    const fd = (this.fd ??= openSync(this.path, 'a'));
    const at = fstatSync(fd).size;
    for (let i = 0; i < records.length; i += 1024) {
      const part = records.slice(i, i + 1024) as Uint8Array[];
      let written = writevSync(fd, part);
      // A short write (the disk filling up) is not an error by itself: the rest is written
      // record by record, which either completes or throws (ENOSPC), never returns with a gap.
      for (const r of part) {
        if (written >= r.length) written -= r.length;
        else {
          for (let at = written; at < r.length;) at += writeSync(fd, r, at, r.length - at);
          written = 0;
        }
      }
    }
    fdatasyncSync(fd);
    return at;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * Records read ahead in one positioned read once reads go from record to record: scans read
 * the records of rows in seq order (or its reverse), which lie one after the other in the file,
 * so one read of this many bytes serves a few hundred of them instead of a read per record.
 * Reads that skip around (a filter's few matches among a million rows) read the record alone.
 */
const WINDOW = 256 * 1024;

/**
 * Reads records by offset and length (positioned reads: a writer may be appending meanwhile),
 * through a read-ahead window when a record follows the one read before it: forward, or
 * backward when it ends where the previous one starts (a newest-first scan). A window is never
 * reused: records returned earlier stay valid.
 */
export class RecordsReader {
  private fd: number | null = null;
  private window: Buffer = Buffer.alloc(0);
  /** The file offset of `window[0]`. */
  private windowAt = 0;
  /** The previous record read: its start and end. */
  private lastAt = -1;
  private lastEnd = -1;

  constructor(readonly path: string) {}

  /** The `len` bytes at `at`; a FlowReadError naming the file if they are not all there. */
  read(at: number, len: number, seq: number): Buffer {
    const backward = at + len === this.lastAt;
    const sequential = backward || at === this.lastEnd;
    this.lastAt = at;
    this.lastEnd = at + len;
    const from = at - this.windowAt;
    if (from >= 0 && from + len <= this.window.length) return this.window.subarray(from, from + len);
    const size = sequential ? Math.max(len, WINDOW) : len;
    const start = backward ? Math.max(0, at + len - size) : at;
    const buf = Buffer.allocUnsafe(size);
    const got = this.fill(buf, start, seq);
    this.window = buf.subarray(0, got);
    this.windowAt = start;
    if (at + len > start + got)
      throw new FlowReadError(
        FlowReadErrorCode.CORRUPT,
        `${this.path}: the record of the flow stored as seq ${seq} (bytes ${at} to ${at + len}) is missing: the file ends at ${start + got}. It was cut short (copied while written, or damaged).`,
        { record: seq },
      );
    return this.window.subarray(at - start, at - start + len);
  }

  /** Read into `buf` from `start` until it is full or the file ends; returns the bytes read. */
  private fill(buf: Buffer, start: number, seq: number): number {
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
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    return got;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.window = Buffer.alloc(0);
  }
}
