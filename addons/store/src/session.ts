/**
 * One open store inside a running proxy: the database, its writer, its index plugged into the
 * kernel's flow store, the recorder that feeds the writer, and the memory bounds applied to the
 * kernel while the store is open. Closing undoes all of it.
 */
import { addon, type Flow, type Kernel } from '@mitmts/sdk';
import { StoreDatabase } from './db.js';
import { WriterThread } from './writer-thread.js';
import type { StoreError } from './errors.js';
import { SqliteFlowIndex } from './sqlite-index.js';
import { StoreWriter } from './writer.js';

/**
 * Records every flow as it progresses: `update` fires after each flow hook (requestheaders,
 * request, response, error, websocket and TCP events) and after commands that change flows
 * (marks, comments). Added to the chain only while a store is open, so that a proxy without
 * one pays nothing for `update`.
 */
@addon({ name: 'store-recorder', order: 'post' })
class Recorder {
  constructor(private readonly writer: StoreWriter) {}

  /** Synchronous, unless the writer is far behind: then the flow waits (backpressure). */
  update(flows: readonly Flow[]): void | Promise<void> {
    let wait: void | Promise<void> = undefined;
    for (const f of flows) wait = this.writer.mark(f) ?? wait;
    return wait;
  }
}

export interface SessionOptions {
  readonly bodyThreshold: number;
  readonly inflightMs: number;
  readonly memoryFlows: number;
  readonly memoryBytes: number;
  /** A batch failed (the session decides nothing: the addon does). */
  readonly onError: (err: StoreError, lost: number) => void;
}

export class StoreSession {
  readonly writer: StoreWriter;
  readonly index: SqliteFlowIndex;
  private readonly recorder: Recorder;
  private unplug: (() => void) | null = null;
  private readonly before: { limit: number; maxBytes: number };

  private constructor(
    private readonly kernel: Kernel,
    readonly db: StoreDatabase,
    private readonly thread: WriterThread,
    opts: SessionOptions,
  ) {
    const flows = kernel.flows;
    this.writer = new StoreWriter(db, thread, opts.inflightMs, opts.onError, {
      has: (f) => flows.maxBytes !== Infinity && flows.get(f.id) === f,
      written: (kept) => {
        for (const f of kept) flows.touch(f);
      },
    });
    this.index = new SqliteFlowIndex(db, { beforeRead: () => this.writer.settled(), live: (id) => flows.get(id) });
    this.recorder = new Recorder(this.writer);
    this.before = { limit: flows.limit, maxBytes: flows.maxBytes };
    this.bound(opts.memoryFlows, opts.memoryBytes);
  }

  /** Open the store at `path` and start recording. Throws StoreError (nothing is changed then). */
  static async open(kernel: Kernel, path: string, opts: SessionOptions): Promise<StoreSession> {
    const db = StoreDatabase.open(path, { bodyThreshold: opts.bodyThreshold });
    let thread: WriterThread;
    try {
      // Its worker starts with the first flow written: an idle proxy does not pay for it.
      thread = await WriterThread.lazy(path);
    } catch (err) {
      db.close();
      throw err;
    }
    const s = new StoreSession(kernel, db, thread, opts);
    try {
      await kernel.add(s.recorder);
    } catch (err) {
      await thread.stop();
      db.close();
      s.restoreBounds();
      throw err;
    }
    s.unplug = kernel.flows.useIndex(s.index);
    return s;
  }

  /** Keep at most this many flows and bytes in memory while the store is open. */
  bound(flows: number, bytes: number): void {
    this.kernel.flows.limit = Math.min(this.before.limit, flows);
    this.kernel.flows.maxBytes = Math.min(this.before.maxBytes, bytes);
  }

  /** Stop recording: write what is pending (unless `flush` is false), unplug, close. */
  async close(flush = true): Promise<void> {
    this.unplug?.();
    this.unplug = null;
    this.restoreBounds();
    if (this.kernel.get('store-recorder') === this.recorder) await this.kernel.remove(this.recorder);
    await this.writer.close(flush);
    await this.thread.stop();
    this.db.close();
  }

  private restoreBounds(): void {
    this.kernel.flows.limit = this.before.limit;
    this.kernel.flows.maxBytes = this.before.maxBytes;
  }
}
