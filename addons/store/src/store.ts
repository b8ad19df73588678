import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import {
  addon,
  command,
  CommandError,
  type Filter,
  flowsToHar,
  inject,
  KERNEL,
  type Kernel,
  LOG,
  type Logger,
  option,
  OptionsError,
  parseFilter,
  parseSize,
  serializeHar,
} from '@mitmts/sdk';
import type { StoreError } from './errors.js';
import type { StoreSession, SessionOptions } from './session.js';

const OPTIONS = ['store', 'store_body_threshold', 'store_inflight_ms', 'store_memory_flows', 'store_memory_bytes'];
/** How often a disk that stays full is reported again. */
const FULL_REPORT_MS = 10_000;

/**
 * Record every flow in a SQLite database (`--set store=flows.db`) as it progresses: written
 * when it completes (and while in progress, after `store_inflight_ms`), upserted by id, one
 * transaction per batch (at most every 50 ms), in a writer thread. The
 * kernel then keeps only the newest flows in memory; the web UI, `mitmts flows flows.db` and
 * `mitmts -r flows.db` read the rest from the database. A database that cannot be used (damaged,
 * locked, not a store) turns the store off with a message; the proxy keeps serving.
 */
@addon({ name: 'store', description: 'Record flows in a SQLite database.' })
export class Store {
  @option({
    type: 'str?',
    default: null,
    help: 'Record every flow in this SQLite database (created if missing), e.g. flows.db. Read it with `mitmts flows FILE` or `mitmts -r FILE`.',
  })
  store!: string | null;

  @option({
    type: 'str',
    default: '256k',
    help: 'Bodies larger than this are kept as content-addressed files beside the store (FILE.bodies/) instead of inside it. A number of bytes with an optional k, m or g suffix.',
  })
  store_body_threshold!: string;

  @option({
    type: 'int',
    default: 500,
    help: 'Write a flow that is still in progress after this many milliseconds (0: at its request and every change), so slow and long-lived flows are stored before they end. Every flow is written again when it completes.',
  })
  store_inflight_ms!: number;

  @option({
    type: 'int',
    default: 1000,
    help: 'While a store is open, keep at most this many flows in memory (older ones are read back from the store).',
  })
  store_memory_flows!: number;

  @option({
    type: 'str',
    default: '64m',
    help: 'While a store is open, keep at most this many bytes of flows in memory. A number of bytes with an optional k, m or g suffix.',
  })
  store_memory_bytes!: string;

  private session: StoreSession | null = null;
  /** Why the store is off although `store` is set, if it is. */
  private failure: string | null = null;
  private lastFullReport = 0;
  private unreportedLoss = 0;

  constructor(
    @inject(KERNEL) private readonly kernel: Kernel,
    @inject(LOG) private readonly log: Logger,
  ) {}

  /** Options are checked here, synchronously (a bad value rejects the whole update); opening happens after. */
  configure(updated: ReadonlySet<string>): void | Promise<void> {
    if (!OPTIONS.some((o) => updated.has(o))) return;
    const threshold = parseSize('store_body_threshold', this.store_body_threshold)!;
    const memoryBytes = parseSize('store_memory_bytes', this.store_memory_bytes)!;
    for (const name of ['store_memory_flows', 'store_inflight_ms'] as const) {
      if (this[name] < 0) throw new OptionsError(`Option ${name} must be 0 or more, got ${this[name]}.`);
    }
    if (
      this.session &&
      this.session.db.path === this.store &&
      !updated.has('store_body_threshold') &&
      !updated.has('store_inflight_ms')
    ) {
      this.session.bound(this.store_memory_flows, memoryBytes);
      return;
    }
    return this.reopen({
      bodyThreshold: threshold,
      inflightMs: this.store_inflight_ms,
      memoryFlows: this.store_memory_flows,
      memoryBytes,
    });
  }

  private async reopen(opts: Omit<SessionOptions, 'onError'>): Promise<void> {
    await this.close();
    const path = this.store;
    if (!path) return;
    try {
      // Loaded with the first store: a proxy without one never loads the writer (nor its worker thread's module).
      const { StoreSession } = await import('./session.js');
      this.session = await StoreSession.open(this.kernel, path, {
        ...opts,
        onError: (err, lost) => this.failed(err, lost),
      });
      this.log.info(`Recording flows in ${path}.`);
    } catch (err) {
      this.disable(err as Error);
    }
  }

  async done(): Promise<void> {
    await this.close();
  }

  @command('store.status', {
    help: 'The store: its file, flows written, flows lost, and why it is off if it is.',
    returns: 'str',
  })
  status(): string {
    if (!this.session) return this.failure ? `off: ${this.failure}` : 'off (option store is not set)';
    const s = this.session.writer.stats;
    return `recording in ${this.session.db.path}: ${s.written} flow writes in ${s.batches} batches, ${s.dropped} lost, ${s.pending} pending${s.throttled ? `, traffic slowed ${s.throttled} times for the store to catch up` : ''}`;
  }

  @command('store.export', {
    args: [
      { name: 'filter', type: 'str', help: 'A filter expression, or @all.' },
      { name: 'path', type: 'path', help: 'A .mitm file (byte copies of the stored records) or a .har/.zhar file.' },
    ],
    help: 'Export the stored flows matching a filter to a .mitm or HAR file.',
    returns: 'int',
  })
  async exportFlows(spec: string, path: string): Promise<number> {
    const session = this.session;
    if (!session) throw new CommandError(`store.export: no store is open (${this.status()}).`);
    let filter: Filter | null = null;
    try {
      if (spec !== '@all') filter = parseFilter(spec);
    } catch (err) {
      throw new CommandError(`store.export: ${(err as Error).message}`);
    }
    await session.writer.settled();
    try {
      return /\.z?har$/i.test(path) ? await exportHar(session, filter, path) : exportMitm(session, filter, path);
    } catch (err) {
      throw new CommandError(`store.export to ${path} failed: ${(err as Error).message}`);
    }
  }

  private async close(): Promise<void> {
    const s = this.session;
    this.session = null;
    this.failure = null;
    if (s) await s.close();
  }

  /** The store cannot be used: say so and keep the proxy running without it. */
  private disable(err: Error): void {
    this.failure = err.message;
    this.log.error(`${err.message} The store is off; the proxy keeps running without it.`);
  }

  private failed(err: StoreError, lost: number): void {
    if (err.code === 'MITMTS_ERR_STORE_FULL') {
      // The disk may get space again: keep trying, report at most every few seconds.
      this.unreportedLoss += lost;
      const now = Date.now();
      if (now - this.lastFullReport < FULL_REPORT_MS) return;
      this.lastFullReport = now;
      this.log.error(`${err.message} (${this.unreportedLoss} flow writes lost since the last report)`);
      this.unreportedLoss = 0;
      return;
    }
    const s = this.session;
    this.session = null;
    this.disable(err);
    if (s)
      void s
        .close(false)
        .catch((e: unknown) => this.log.debug(`closing the store after an error: ${(e as Error).message}`));
  }
}

/** The stored records (the .mitm bytes) of the matching flows, copied to `path`. */
function exportMitm(session: StoreSession, filter: Filter | null, path: string): number {
  const fd = openSync(path, 'w');
  let n = 0;
  try {
    for (const record of session.index.records(filter)) {
      writeSync(fd, record);
      n++;
    }
  } finally {
    closeSync(fd);
  }
  return n;
}

/** The matching HTTP flows as HAR (`.zhar`: compressed), as savehar writes it; other flows are left out. */
async function exportHar(session: StoreSession, filter: Filter | null, path: string): Promise<number> {
  const flows = [];
  for await (const f of session.index.flows(filter)) flows.push(f);
  const har = flowsToHar(flows);
  writeFileSync(path, serializeHar(har, { compress: /\.zhar$/i.test(path) }));
  return har.log.entries.length;
}
