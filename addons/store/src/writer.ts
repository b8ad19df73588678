/**
 * The one writer of a store: flows that changed are written together (one transaction, an
 * upsert per flow). Flows that are done changing are encoded a few at a time as they complete,
 * so the writer holds their rows and records, not the flows; a flow in progress is encoded once
 * when the batch goes. Compression and the transaction run in the writer thread
 * (writer-thread.ts). A batch goes at most every {@link BATCH_WINDOW_MS}, and one batch is in
 * the thread at a time: while it commits, rows gather here and go out together when it is done
 * (group commit), so under load a transaction carries many flows. A crash loses at most what
 * is not committed yet: the batch in the thread and the rows gathered since.
 *
 * A flow still in progress is written once it has been in progress for `inflightMs` (and then
 * at most once per `inflightMs` while it goes on), and again when it completes. Most flows
 * complete sooner and are written once: writing every flow at its request too doubles the
 * store's cost per flow (measured in docs/flow-store.md). `inflightMs` 0 writes at every change.
 */
import type { DNSFlow, Flow, HTTPFlow } from '@mitmts/sdk';
import type { StoreDatabase } from './db.js';
import { storeError, type StoreError } from './errors.js';
import { FlowList } from './flow-list.js';
import { BatchBuilder, type WriterThread } from './writer-thread.js';

/**
 * Batches posted to the writer thread and not committed yet, at most: then flows wait here
 * (deduplicated) and go in the next batch. One: every commit (a WAL append of the pages it
 * touched, the same index pages over and over) then carries every flow that changed meanwhile.
 */
export const MAX_OUTSTANDING = 1;
/**
 * Flows waiting for the writer thread, at most: beyond this the recorder's hook waits until half
 * of them are written, which slows the traffic down to what the store can write, instead of
 * holding ever more flows in memory.
 */
export const MAX_WAITING = 10_000;
/**
 * Flows done changing are encoded this many at a time (or at the batch's flush, if sooner).
 * Encoded one by one, each as it completes, the encoder ran with the caches cold (the proxy's
 * own work in between evicts its code and tables): 48 µs per flow on the benchmark host,
 * against 12 µs for the same flows encoded in a row. A few at a time recovers most of that
 * (38 µs at 8, 34 at 128, measured in the proxy); more would hold flows across young-generation
 * collections, which copy and promote them (at 128: 10x the page faults).
 */
const ENCODE_TOGETHER = 16;
/**
 * An HTTP flow with bodies larger than this (bytes) is encoded at once, with those waiting: the
 * flows held for {@link ENCODE_TOGETHER} must not hold megabytes of bodies (1 MiB bodies held 16
 * at a time put the proxy's RSS over 150 MiB in the store benchmark).
 */
const HOLD_BODIES = 64 * 1024;

/**
 * May this flow wait to be encoded with the next few? Plain HTTP flows with small bodies (most):
 * WebSocket, TCP and UDP flows may carry any amount of messages, and are few.
 */
function holdable(flow: Flow): boolean {
  if (flow.type !== 'http') return false;
  const f = flow as HTTPFlow;
  return !f.websocket && (f.request.rawContent?.length ?? 0) + (f.response?.rawContent?.length ?? 0) <= HOLD_BODIES;
}
/** Flows encoded in one turn at most. */
const MAX_BATCH = 1000;
/**
 * A batch goes to the writer thread at most this often (ms). Every commit rewrites the pages it
 * touches (the tables' last pages, a leaf of each index) into the WAL, and every message to the
 * thread has a fixed cost on both sides: per flow, a batch of 100 costs the thread about a third
 * less than batches of 5 (docs/flow-store.md). Readers do not wait for it (they flush at once),
 * and a crash loses at most this window's flows more.
 */
export const BATCH_WINDOW_MS = 50;

export interface WriterStats {
  /** Flow writes committed (a flow written at its request and again at its response counts twice). */
  readonly written: number;
  /** Transactions committed. */
  readonly batches: number;
  /** Flow writes lost to errors (disk full). */
  readonly dropped: number;
  /** Flows with changes not written yet (this turn's, and flows in progress). */
  readonly pending: number;
  /** Times a hook had to wait because the writer was {@link MAX_WAITING} flows behind. */
  readonly throttled: number;
}

/** True once a flow will not change by itself any more (response complete, error, connection closed). */
export function settled(flow: Flow): boolean {
  if (flow.error) return true;
  switch (flow.type) {
    case 'http': {
      const f = flow as HTTPFlow;
      return (
        f.response !== null &&
        f.response.timestampEnd !== null &&
        (f.websocket === null || f.websocket.timestampEnd !== null)
      );
    }
    case 'dns':
      return (flow as DNSFlow).response !== null;
    default:
      return !flow.live;
  }
}

/** The kernel's kept flows, re-measured once their write is committed (see `FlowStore.touch`). */
export interface KeptFlows {
  /** True if the kernel keeps this flow and measures its size. */
  has(flow: Flow): boolean;
  /** These kept flows were written. */
  written(flows: readonly Flow[]): void;
}

export class StoreWriter {
  /** Flows in progress to encode at the next flush (inflightMs 0, or swept), each once. */
  private readonly dirty = new FlowList();
  /** Flows in progress with unwritten changes, and since when (ms). */
  private readonly inflight = new FlowList();
  /** The next batch: rows encoded so far. */
  private batch: BatchBuilder;
  /** Its flows that the kernel keeps (the others are not held: a flow is garbage once encoded). */
  private batchKept: Flow[] = [];
  private sweeper: NodeJS.Timeout | null = null;
  private scheduled = false;
  /** When the last batch was posted (ms, `performance.now()`). */
  private posted = -Infinity;
  private written = 0;
  private batches = 0;
  private dropped = 0;
  private closed = false;
  /** A flush found the thread busy: flush again when a batch is committed. */
  private blocked = false;
  /** Hooks waiting for the backlog to shrink, and how often that happened. */
  private readonly drained: Array<() => void> = [];
  private throttled = 0;
  /** Flows done changing, not encoded yet ({@link ENCODE_TOGETHER}). */
  private done: Flow[] = [];
  private readonly flushSoon = (): void => {
    this.scheduled = false;
    this.flush();
  };

  constructor(
    private readonly store: StoreDatabase,
    private readonly thread: WriterThread,
    /** Write a flow in progress after this many ms (0: at every change). */
    private readonly inflightMs: number,
    /** A batch failed: `lost` flow writes are gone. */
    private readonly onError: (err: StoreError, lost: number) => void,
    /** The kernel's kept flows, re-measured after their write. */
    private readonly kept: KeptFlows | null = null,
    /** At most one batch per this many ms ({@link BATCH_WINDOW_MS}). */
    private readonly windowMs = BATCH_WINDOW_MS,
  ) {
    this.batch = thread.batch();
  }

  /**
   * Write `flow` (again) with the next batch. A flow that is done changing is encoded soon, with
   * the next few done ({@link ENCODE_TOGETHER}; at once unless {@link holdable}), so that the
   * writer holds its row and record, not the flow (a flow kept alive across a garbage collection
   * is copied and promoted: that cost more than encoding it). A flow in progress is encoded once
   * at the flush, however often it changed. Returns a promise only when the writer is
   * {@link MAX_WAITING} flows behind: the caller (a hook) should wait for it.
   */
  mark(flow: Flow): void | Promise<void> {
    if (this.closed) return;
    if (!settled(flow)) {
      if (this.inflightMs > 0) {
        if (!this.inflight.has(flow)) this.inflight.add(flow, Date.now());
        this.sweeper ??= setInterval(() => this.sweep(), this.inflightMs).unref();
        return;
      }
      this.dirty.add(flow);
    } else {
      this.inflight.delete(flow);
      // Usually empty (it holds flows only with store_inflight_ms 0, or swept ones, until the flush).
      if (this.dirty.size) this.dirty.delete(flow);
      if (this.done.push(flow) >= ENCODE_TOGETHER || !holdable(flow)) this.encodeDone();
    }
    this.schedule();
    if (this.waiting < MAX_WAITING) return;
    this.throttled++;
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** Flows marked and not posted to the thread yet. */
  private get waiting(): number {
    return this.dirty.size + this.batch.size + this.done.length;
  }

  /** Add a flow's row to the next batch; a failure (a body file that cannot be written) loses this write. */
  private encode(flow: Flow): void {
    try {
      this.store.addTo(this.batch, flow);
    } catch (err) {
      this.lost(storeError(err, this.store.path, 'write to'), 1);
      return;
    }
    if (this.kept?.has(flow)) this.batchKept.push(flow);
  }

  /** Encode the flows done changing that wait ({@link ENCODE_TOGETHER}). */
  private encodeDone(): void {
    const done = this.done;
    if (done.length === 0) return;
    this.done = [];
    for (const f of done) this.encode(f);
  }

  /** Flush at the end of this turn, or when the batch window since the last batch has passed. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = this.posted + this.windowMs - performance.now();
    if (wait > 0) setTimeout(this.flushSoon, wait);
    else setImmediate(this.flushSoon);
  }

  /** Flows in progress for long enough join the next batch. */
  private sweep(): void {
    for (const flow of this.inflight.takeDue(Date.now() - this.inflightMs)) this.dirty.add(flow);
    if (this.dirty.size) this.schedule();
    if (this.inflight.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  /** Write what is pending now; with `inflight`, also the changes of flows in progress (for a reader that must see everything). */
  flush(inflight = false): void {
    if (inflight) for (const flow of this.inflight.take()) this.dirty.add(flow);
    if (this.waiting === 0) return;
    if (this.thread.outstanding >= MAX_OUTSTANDING) {
      this.blocked = true;
      return;
    }
    this.encodeDone();
    // At most MAX_BATCH flows encoded per turn: a backlog is encoded over several turns, never in one long one.
    for (const f of this.dirty.take(MAX_BATCH)) this.encode(f);
    if (this.dirty.size) this.schedule();
    const batch = this.batch;
    const kept = this.batchKept;
    if (batch.size === 0) return;
    this.batch = this.thread.batch();
    this.batchKept = [];
    this.posted = performance.now();
    this.thread.write(batch).then(
      () => {
        this.written += batch.size;
        this.batches++;
        if (kept.length) this.kept?.written(kept);
        this.resume();
      },
      (err: StoreError) => {
        this.lost(err, batch.size);
        this.resume();
      },
    );
  }

  /** Resolves once every change so far is committed (or failed): for readers that must see everything. */
  async settled(): Promise<void> {
    this.flush(true);
    while (this.waiting > 0 || this.thread.outstanding > 0) {
      await this.thread.settled();
      this.flush(true);
    }
  }

  /** Stop: write what is pending (unless `flush` is false, e.g. after the database failed). */
  async close(flush: boolean): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    if (flush) await this.settled();
    this.dropped += this.inflight.size + this.waiting;
    this.inflight.take();
    this.dirty.take();
    this.done = [];
    this.batch = new BatchBuilder();
    this.batchKept = [];
    this.closed = true;
    for (const f of this.drained.splice(0)) f();
  }

  private lost(err: StoreError, n: number): void {
    this.dropped += n;
    this.onError(err, n);
  }

  private resume(): void {
    if (this.waiting < MAX_WAITING / 2) for (const f of this.drained.splice(0)) f();
    if (!this.blocked) return;
    this.blocked = false;
    this.schedule();
  }

  get stats(): WriterStats {
    return {
      written: this.written,
      batches: this.batches,
      dropped: this.dropped,
      pending: this.waiting + this.inflight.size,
      throttled: this.throttled,
    };
  }
}
