/**
 * The store's SQLite writes, in a worker thread. The proxy's thread encodes each batch and posts
 * it; the worker compresses the records and runs the transaction on its own connection, and with it
 * SQLite's WAL checkpoints, which fsync the database: on a busy disk a checkpoint takes from
 * milliseconds to most of a second, which must never stall the proxy. The worker is the only
 * writer, so its automatic checkpoints keep the WAL bounded.
 *
 * The worker's code is inline (`eval`) so that a single-file build needs no second file; it
 * loads the same better-sqlite3 the store loaded, by its resolved path. Its transaction is the
 * one `StoreDatabase.writeRecords` runs (the same statements, from schema.ts).
 */
import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import { storeError, type StoreError } from './errors.js';
import { COMPRESS_LEVEL, COMPRESS_MIN } from './record.js';
import { UPSERT_FLOW, UPSERT_RECORD } from './schema.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const zstd = require(workerData.zstd);
const level = { compressionLevel: workerData.level };
const compress = (r) => (r.length >= workerData.compressMin ? zstd.compress(r, level) : r);
const fail = (err) => ({ code: err && err.code, message: String((err && err.message) || err) });
let db, flows, records, begin, commit;
try {
  db = new Database(workerData.path, { timeout: workerData.busyMs });
  db.pragma('synchronous = NORMAL');
  db.pragma('journal_size_limit = 67108864');
  flows = db.prepare(workerData.upsertFlow).pluck();
  records = db.prepare(workerData.upsertRecord);
  begin = db.prepare('BEGIN');
  commit = db.prepare('COMMIT');
  parentPort.postMessage({ ready: true });
} catch (err) {
  parentPort.postMessage({ ready: false, error: fail(err) });
  return;
}
parentPort.on('message', (m) => {
  if (m === 'stop') {
    db.close();
    parentPort.postMessage({ stopped: true });
    parentPort.close();
    return;
  }
  try {
    begin.run();
    for (const row of m.rows) {
      const seq = flows.get(row.slice(0, -2));
      records.run(seq, compress(row[row.length - 2]), row[row.length - 1]);
    }
    commit.run();
    parentPort.postMessage({ id: m.id });
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
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

export class WriterThread {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: StoreError) => void }>();
  private readonly idle: Array<() => void> = [];
  private readonly stopped: Promise<void>;

  private constructor(
    private readonly path: string,
    WorkerClass: typeof Worker,
    ready: (r: Reply) => void,
  ) {
    const resolve = createRequire(import.meta.url).resolve;
    this.worker = new WorkerClass(`(() => {${WORKER_SOURCE}})()`, {
      eval: true,
      workerData: {
        path,
        sqlite: resolve('better-sqlite3'),
        zstd: resolve('zstd-napi'),
        level: COMPRESS_LEVEL,
        compressMin: COMPRESS_MIN,
        busyMs: 2000,
        upsertFlow: UPSERT_FLOW,
        upsertRecord: UPSERT_RECORD,
      },
    });
    this.stopped = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (r: Reply) => {
      if (r.ready !== undefined) return ready(r);
      if (r.id === undefined) return;
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (r.error) p?.reject(toStoreError(r.error, this.path, 'write to'));
      else p?.resolve();
      if (this.pending.size === 0) for (const f of this.idle.splice(0)) f();
    });
    this.worker.on('error', (err) => {
      for (const p of this.pending.values()) p.reject(toStoreError(err, this.path, 'write to'));
      this.pending.clear();
      for (const f of this.idle.splice(0)) f();
    });
  }

  /** Start the worker and open its connection; throws StoreError if it cannot. */
  static async start(path: string): Promise<WriterThread> {
    // Loaded here: a proxy that never opens a store never loads worker_threads.
    const { Worker: WorkerClass } = await import('node:worker_threads');
    return new Promise((resolve, reject) => {
      const t: WriterThread = new WriterThread(path, WorkerClass, (r) => (r.ready ? resolve(t) : (void t.worker.terminate(), reject(toStoreError(r.error!, path, 'open')))));
    });
  }

  /** Batches posted and not yet committed (or failed). */
  get outstanding(): number {
    return this.pending.size;
  }

  /** Commit these rows (`StoreDatabase.packed` output) in one transaction. */
  write(rows: unknown[][]): Promise<void> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, rows });
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
    this.worker.postMessage('stop');
    await this.stopped;
  }
}
