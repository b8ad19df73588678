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
import { UPSERT_FLOW, WRITER_PRAGMAS } from './schema.js';

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
  let end = -1;
  try {
    const { n, cols, values, lengths, blob, ext } = m;
    const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    const stored = new Array(n);
    for (let i = 0, at = 0; i < n; i++) stored[i] = compress(bytes.subarray(at, (at += lengths[i])));
    begin.run();
    // The records first, flushed, so that no committed row points at bytes not on the disk.
    let at = (end = fs.fstatSync(fd).size);
    for (let i = 0; i < n; i += 1024) fs.writevSync(fd, stored.slice(i, i + 1024));
    fs.fdatasyncSync(fd);
    for (let i = 0; i < n; i++) {
      const row = values.slice(i * cols, (i + 1) * cols);
      row.push(at, stored[i].length, ext[i]);
      at += stored[i].length;
      flows.run(row);
    }
    commit.run();
    parentPort.postMessage({ id: m.id });
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    // A failed append (a full disk) is cut back; a tail no row points at would be harmless.
    if (end >= 0) try { fs.ftruncateSync(fd, end); } catch {}
    parentPort.postMessage({ id: m.id, error: fail(err) });
  }
});
`;

interface Reply {
  readonly id?: number;
  readonly ready?: boolean;
  readonly stopped?: boolean;
  readonly error?: { code?: string; message: string };
}

/** An error from the worker, as the error it was there (code and message), mapped to a StoreError. */
function toStoreError(e: { code?: string; message: string }, path: string, doing: string): StoreError {
  return storeError(Object.assign(new Error(e.message), { code: e.code }), path, doing);
}

/** A batch as posted: the column values of every row in one flat array, the records in one buffer. */
interface PackedBatch {
  readonly n: number;
  readonly cols: number;
  readonly values: unknown[];
  readonly lengths: number[];
  readonly blob: Uint8Array;
  readonly ext: Array<string | null>;
}

/**
 * Rows (column values, then record and ext) gathered into one message: structured cloning copies
 * a flat array of numbers and strings cheaply, while a Buffer per record costs a copy of its
 * whole backing store each; the records are copied into one buffer of their own as they come
 * (a record may be a view of the encoder's reused buffer), and that buffer is transferred.
 */
export class BatchBuilder {
  private readonly values: unknown[] = [];
  private readonly lengths: number[] = [];
  private readonly ext: Array<string | null> = [];
  private cols = 0;
  private bytes = 0;
  // Not from Buffer's shared pool: this memory is handed over to the worker.
  private blob = Buffer.allocUnsafeSlow(64 * 1024);

  /** Rows added. */
  get size(): number {
    return this.lengths.length;
  }

  /** Add a row (`StoreDatabase.rows` or `packed` output); its record is copied now. */
  add(row: readonly unknown[]): void {
    const cols = (this.cols = row.length - 2);
    for (let c = 0; c < cols; c++) this.values.push(row[c]);
    const record = row[cols] as Buffer;
    const end = this.bytes + record.length;
    if (end > this.blob.length) {
      let n = this.blob.length * 2;
      while (n < end) n *= 2;
      const next = Buffer.allocUnsafeSlow(n);
      this.blob.copy(next, 0, 0, this.bytes);
      this.blob = next;
    }
    this.blob.set(record, this.bytes);
    this.bytes = end;
    this.lengths.push(record.length);
    this.ext.push(row[cols + 1] as string | null);
  }

  /** The message to post. */
  packed(): PackedBatch {
    const { values, lengths, ext } = this;
    return { n: lengths.length, cols: this.cols, values, lengths, blob: this.blob.subarray(0, this.bytes), ext };
  }
}

export class WriterThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: StoreError) => void }>();
  private readonly idle: Array<() => void> = [];
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
