/**
 * The store's SQLite writes, in a worker thread. The proxy's thread encodes each batch and posts
 * it; the worker compresses the records and runs the transaction on its own connection, and with it
 * SQLite's WAL checkpoints, which fsync the database: on a busy disk a checkpoint takes from
 * milliseconds to most of a second, which must never stall the proxy. The worker is the only
 * writer, so its automatic checkpoints keep the WAL bounded.
 *
 * The worker's code is inline (`eval`) so that a single-file build needs no second file; it
 * loads the same better-sqlite3 the store loaded, by its resolved path. Its transaction is the
 * one `StoreDatabase.writeRecords` runs (the same statement, from schema.ts, and the same order:
 * the write lock, the batch's records appended to the records file and flushed, then the rows,
 * then the commit; see records-file.ts).
 */
import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import { storeError, type StoreError } from './errors.js';
import { COMPRESS_LEVEL, COMPRESS_MIN } from './record.js';
import { recordsPath } from './records-file.js';
import type { FlowRow } from '@mitmts/sdk/store';
import { COLUMNS, UPSERT_FLOW, WRITER_PRAGMAS } from './schema.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.sqlite);
const zstd = require(workerData.zstd);
// One compressor, its parameters set once (zstd.compress sets them up again for every record).
const compressor = new zstd.Compressor();
compressor.setParameters({ compressionLevel: workerData.level });
const compress = (r) => (r.length >= workerData.compressMin ? compressor.compress(r) : r);
const fail = (err) => ({ code: err && err.code, message: String((err && err.message) || err) });
// A batch as BatchBuilder packs it: per value a tag (0 null, 1 float64, 2 UTF-8 text, 3 bytes),
// then the value; a row ends after its ext (its record is the value before).
function unpack({ n, blob }) {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const rows = new Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const row = [];
    for (let c = 0; c < workerData.values; c++) {
      const t = b[at++];
      if (t === 0) row.push(null);
      else if (t === 1) {
        row.push(b.readDoubleLE(at));
        at += 8;
      } else {
        const len = b.readUInt32LE(at);
        at += 4;
        row.push(t === 2 ? b.toString('utf8', at, at + len) : b.subarray(at, at + len));
        at += len;
      }
    }
    rows[i] = row;
  }
  return rows;
}
let db, flows, begin, commit, fd;
try {
  db = new Database(workerData.path, { timeout: workerData.busyMs });
  for (const p of workerData.pragmas) db.pragma(p);
  flows = db.prepare(workerData.upsertFlow);
  begin = db.prepare('BEGIN IMMEDIATE');
  commit = db.prepare('COMMIT');
  fd = fs.openSync(workerData.records, 'a');
  parentPort.postMessage({ ready: true });
} catch (err) {
  parentPort.postMessage({ ready: false, error: fail(err) });
  return;
}
parentPort.on('message', (m) => {
  if (m === 'stop') {
    db.close();
    fs.closeSync(fd);
    parentPort.postMessage({ stopped: true });
    parentPort.close();
    return;
  }
  try {
    const rows = unpack(m);
    const stored = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) stored[i] = compress(rows[i][rows[i].length - 2]);
    begin.run();
    // The records first, flushed, so that no committed row points at bytes not on the disk.
    let at = fs.fstatSync(fd).size;
    for (let i = 0; i < rows.length; i += 1024) fs.writevSync(fd, stored.slice(i, i + 1024));
    fs.fdatasyncSync(fd);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      row.splice(row.length - 2, 1, at, stored[i].length);
      at += stored[i].length;
      flows.run(row);
    }
    commit.run();
    // The batch's memory goes back for the next batch (fresh memory costs page faults to fill).
    parentPort.postMessage({ id: m.id, blob: m.blob }, [m.blob.buffer]);
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    parentPort.postMessage({ id: m.id, error: fail(err), blob: m.blob }, [m.blob.buffer]);
  }
});
`;

interface Reply {
  readonly id?: number;
  readonly ready?: boolean;
  readonly stopped?: boolean;
  readonly error?: { code?: string; message: string };
  /** A batch's memory, handed back. */
  readonly blob?: Uint8Array;
}

/** An error from the worker, as the error it was there (code and message), mapped to a StoreError. */
function toStoreError(e: { code?: string; message: string }, path: string, doing: string): StoreError {
  return storeError(Object.assign(new Error(e.message), { code: e.code }), path, doing);
}

/** A batch as posted: its rows, values and records, in one buffer (the layout: {@link BatchBuilder}). */
interface PackedBatch {
  readonly n: number;
  readonly blob: Uint8Array;
}

/** Value tags in a packed batch. */
const NULL = 0;
const NUMBER = 1;
const TEXT = 2;
const BYTES = 3;
/** Strings up to this many characters are written by a loop when they are ASCII (no native call). */
const SHORT = 64;
/** Bytes a row's values take besides its strings and record, at most (tags, numbers, lengths). */
const ROW_FIXED = COLUMNS.length * 9 + 2 * 5;

/**
 * Rows (column values, then record and ext) packed into one buffer as they come, which is
 * transferred to the worker, not copied. Each value is a tag byte, then: nothing (null), a
 * float64 LE (number), or a uint32 LE length and that many bytes (text as UTF-8, or the
 * record). Nothing of a batch is a JavaScript object while it waits for its turn (up to 50 ms):
 * rows held as arrays of strings survived the proxy's young-generation collections, which
 * copied and promoted them (the store's largest cost on the proxy's thread, in GC time), and
 * structured cloning then copied them once more on each side. A row is written field by field
 * in {@link COLUMNS} order, each by its known type (no array of values, no type tests), and the
 * `ascii` column is found while its text columns are written.
 */
export class BatchBuilder {
  private rows = 0;
  private at = 0;
  // Not from Buffer's shared pool: this memory is handed over to the worker.
  private blob: Buffer;
  private view: DataView;

  /** False once a text written with `searched` set was not ASCII. */
  private ascii = true;

  /** `memory`: an earlier batch's, handed back by the worker (see {@link WriterThread.batch}). */
  constructor(memory?: ArrayBuffer) {
    this.blob = memory ? Buffer.from(memory) : Buffer.allocUnsafeSlow(64 * 1024);
    this.view = new DataView(this.blob.buffer, this.blob.byteOffset, this.blob.byteLength);
  }

  /** Rows added. */
  get size(): number {
    return this.rows;
  }

  /**
   * Add a flow's row, its record and `ext`; everything is copied now. The values are those of
   * schema.ts's `rowValues`, in its order (which the direct write path binds as an array);
   * addons/store/test/batch.test.ts compares the two column by column.
   */
  addRow(r: FlowRow, record: Uint8Array, ext: string | null): void {
    this.room(0);
    this.ascii = true;
    this.text(r.id, false);
    this.text(r.type, false);
    this.num(r.timestampCreated);
    this.numOrNull(r.timestampStart);
    this.numOrNull(r.timestampEnd);
    this.text(r.method, true);
    this.text(r.scheme, false);
    this.text(r.host, true);
    this.text(r.prettyHost, true);
    this.num(r.port);
    this.text(r.path, false);
    this.text(r.url, true);
    this.text(r.httpVersion, false);
    this.num(r.status ?? 0);
    this.num(r.hasResponse ? 1 : 0);
    this.text(r.requestContentType, true);
    this.text(r.responseContentType, true);
    this.num(r.requestSize);
    this.num(r.responseSize);
    this.num(r.websocket ? 1 : 0);
    this.text(r.marked, true);
    this.text(r.comment, true);
    this.textOrNull(r.error);
    this.textOrNull(r.isReplay);
    this.num(r.intercepted ? 1 : 0);
    this.num(r.tls ? 1 : 0);
    this.text(r.clientAddress, true);
    this.text(r.serverAddress, true);
    this.num(this.ascii ? 1 : 0);
    this.room(5 + record.length);
    this.blob[this.at++] = BYTES;
    this.view.setUint32(this.at, record.length, true);
    this.blob.set(record, this.at + 4);
    this.at += 4 + record.length;
    this.textOrNull(ext);
    this.rows++;
  }

  /**
   * Room for `n` more bytes, and for the row's numbers and tags after them: only texts and the
   * record make room; the fixed-size values of a row never need more than {@link ROW_FIXED}.
   */
  private room(n: number): void {
    const end = this.at + n + ROW_FIXED;
    if (end <= this.blob.length) return;
    let size = this.blob.length * 2;
    while (size < end) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.blob.copy(next, 0, 0, this.at);
    this.blob = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  private num(v: number): void {
    this.blob[this.at] = NUMBER;
    this.view.setFloat64(this.at + 1, v, true);
    this.at += 9;
  }

  private numOrNull(v: number | null): void {
    if (v === null) this.blob[this.at++] = NULL;
    else this.num(v);
  }

  private textOrNull(s: string | null): void {
    if (s === null) this.blob[this.at++] = NULL;
    else this.text(s, false);
  }

  /** A text value; `searched`: one of the columns the `ascii` flag covers. */
  private text(s: string, searched: boolean): void {
    const n = s.length;
    if (n <= SHORT) {
      this.room(5 + n);
      const b = this.blob;
      const p = this.at + 5;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[p + i] = c;
      }
      if (i === n) {
        b[this.at] = TEXT;
        this.view.setUint32(this.at + 1, n, true);
        this.at = p + n;
        return;
      }
    }
    if (searched && this.ascii) this.ascii = isAscii(s);
    const len = Buffer.byteLength(s, 'utf8');
    this.room(5 + len);
    this.blob[this.at] = TEXT;
    this.view.setUint32(this.at + 1, len, true);
    this.at += 5;
    this.at += this.blob.write(s, this.at, 'utf8');
  }

  /** The message to post. */
  packed(): PackedBatch {
    return { n: this.rows, blob: this.blob.subarray(0, this.at) };
  }
}

/** Every character below U+0080. */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Batch buffers kept for reuse, at most, and the largest kept (a batch of large records is not kept). */
const SPARE_BATCHES = 2;
const SPARE_MAX_BYTES = 8 << 20;

export class WriterThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: StoreError) => void }>();
  private readonly idle: Array<() => void> = [];
  /** Batches' memory handed back by the worker, for the next batches. */
  private readonly spare: ArrayBuffer[] = [];
  private stopped: Promise<void> = Promise.resolve();
  /** Why the worker could not open its connection (later writes fail with it). */
  private failure: StoreError | null = null;

  private constructor(
    private readonly path: string,
    private readonly WorkerClass: typeof Worker,
    private readonly ready: (r: Reply) => void = () => undefined,
  ) {}

  /** The worker, started on first use. */
  private run(): Worker {
    if (this.worker) return this.worker;
    const resolve = createRequire(import.meta.url).resolve;
    const worker = new this.WorkerClass(`(() => {${WORKER_SOURCE}})()`, {
      eval: true,
      workerData: {
        path: this.path,
        records: recordsPath(this.path),
        sqlite: resolve('better-sqlite3'),
        zstd: resolve('zstd-napi'),
        level: COMPRESS_LEVEL,
        compressMin: COMPRESS_MIN,
        busyMs: 2000,
        pragmas: WRITER_PRAGMAS,
        upsertFlow: UPSERT_FLOW,
        // Values per packed row: the columns, the record, ext.
        values: COLUMNS.length + 2,
      },
    });
    this.worker = worker;
    this.stopped = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (r: Reply) => {
      if (r.ready !== undefined) {
        // Batches posted before the connection failed get no answer: fail them here.
        if (!r.ready) this.fail(toStoreError(r.error!, this.path, 'open'));
        return this.ready(r);
      }
      if (r.id === undefined) return;
      if (r.blob && this.spare.length < SPARE_BATCHES && r.blob.buffer.byteLength <= SPARE_MAX_BYTES)
        this.spare.push(r.blob.buffer as ArrayBuffer);
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (r.error) p?.reject(toStoreError(r.error, this.path, 'write to'));
      else p?.resolve();
      if (this.pending.size === 0) for (const f of this.idle.splice(0)) f();
    });
    worker.on('error', (err) => this.fail(toStoreError(err, this.path, 'write to')));
    return worker;
  }

  private fail(err: StoreError): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const f of this.idle.splice(0)) f();
  }

  /** Start the worker and open its connection; throws StoreError if it cannot. */
  static async start(path: string): Promise<WriterThread> {
    // Loaded here: a proxy that never opens a store never loads worker_threads.
    const { Worker: WorkerClass } = await import('node:worker_threads');
    return new Promise((resolve, reject) => {
      const t: WriterThread = new WriterThread(path, WorkerClass, (r) =>
        r.ready ? resolve(t) : (void t.worker?.terminate(), reject(toStoreError(r.error!, path, 'open'))),
      );
      t.run();
    });
  }

  /**
   * A writer thread that starts its worker (a V8 isolate with SQLite loaded: ~9 MiB) with the
   * first batch, so an idle proxy with a store does not pay for it. The caller has checked that
   * the database opens; if the worker's connection still fails, the first batch fails with why.
   */
  static async lazy(path: string): Promise<WriterThread> {
    const { Worker: WorkerClass } = await import('node:worker_threads');
    return new WriterThread(path, WorkerClass);
  }

  /**
   * An empty batch, in the memory of a batch already written when there is one: a batch's
   * buffer is moved to the worker and back rather than allocated anew, because filling fresh
   * memory (a page fault per 4 KiB, and the copies while a new buffer grows to a batch's size)
   * cost the proxy's thread more than packing the rows (2.5 of 4 µs per row, measured on the
   * benchmark host).
   */
  batch(): BatchBuilder {
    return new BatchBuilder(this.spare.pop());
  }

  /** Batches posted and not yet committed (or failed). */
  get outstanding(): number {
    return this.pending.size;
  }

  /** Commit a batch of rows in one transaction. */
  write(batch: BatchBuilder): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const worker = this.run();
    const id = this.nextId++;
    const message = { id, ...batch.packed() };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // The records travel as one buffer, moved to the worker (not copied record by record).
      worker.postMessage(message, [message.blob.buffer as ArrayBuffer]);
    });
  }

  /** Resolves once every batch posted so far is committed or failed. */
  settled(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Wait for the posted batches, close the worker's connection, end the worker. */
  async stop(): Promise<void> {
    await this.settled();
    const worker = this.worker;
    if (!worker) return;
    if (this.failure) await worker.terminate();
    else worker.postMessage('stop');
    await this.stopped;
  }
}
