import type { Flow } from '../flow/index.js';
import { parseFilter } from '../filter/index.js';
import { MemoryFlowIndex } from '../store/memory.js';
import type { FlowIndex } from '../store/query.js';
import { flowBytes } from '../store/row.js';
import { CommandError } from './errors.js';

interface Entry {
  readonly flow: Flow;
  readonly seq: number;
  /** Bytes counted for the flow at its last measurement (add or touch). */
  bytes: number;
}

/**
 * The flows a kernel keeps in memory, oldest first, under a retention policy: at most
 * {@link limit} flows and {@link maxBytes} bytes (bodies, headers, messages); the oldest go
 * first. Commands resolve flow specs against it: `@all`, `@marked`, `@unmarked`, or a filter.
 *
 * With a persistent store plugged in ({@link useIndex}), evicted flows live on there:
 * {@link index} answers windows, counts and body searches over every flow, not just the kept
 * ones. Flow specs of commands still resolve against the kept flows only.
 */
export class FlowStore {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners: Array<(flow: Flow) => void> = [];
  private readonly indexListeners: Array<(index: FlowIndex) => void> = [];
  private nextSeq = 1;
  private bytesKept = 0;
  private limitValue: number;
  private maxBytesValue = Infinity;
  private plugged: FlowIndex | null = null;
  /** The index over the kept flows (always available; {@link index} may be another). */
  readonly memory: FlowIndex;

  /** `limit`: how many flows to keep (0: none, Infinity: all). */
  constructor(limit = 1000) {
    this.limitValue = limit;
    this.memory = new MemoryFlowIndex({
      entries: () => this.entries.values(),
      entry: (id) => this.entries.get(id),
    });
  }

  /** How many flows to keep (0: none, Infinity: all). Lowering it evicts at once. */
  get limit(): number {
    return this.limitValue;
  }

  set limit(n: number) {
    if (!(n >= 0)) throw new RangeError(`FlowStore.limit must be 0 or more, got ${String(n)}.`);
    this.limitValue = n;
    this.enforce();
  }

  /** How many bytes of flows to keep (Infinity: no bound). Lowering it evicts at once. */
  get maxBytes(): number {
    return this.maxBytesValue;
  }

  set maxBytes(n: number) {
    if (!(n >= 0)) throw new RangeError(`FlowStore.maxBytes must be 0 or more, got ${String(n)}.`);
    if (this.maxBytesValue === Infinity && n !== Infinity) {
      // Sizes were not tracked without a byte bound: measure every kept flow now.
      this.bytesKept = 0;
      for (const e of this.entries.values()) this.bytesKept += e.bytes = flowBytes(e.flow);
    }
    this.maxBytesValue = n;
    this.enforce();
  }

  /** Bytes the kept flows hold, as last measured (see {@link touch}). */
  get bytes(): number {
    return this.bytesKept;
  }

  /**
   * The index readers should use: the plugged-in store's (e.g. SQLite, every flow ever
   * recorded) or else {@link memory} (the kept flows).
   */
  get index(): FlowIndex {
    return this.plugged ?? this.memory;
  }

  /**
   * Make `index` the one {@link index} returns (a store addon does this when it opens its
   * database). Returns a function that unplugs it again.
   */
  useIndex(index: FlowIndex): () => void {
    this.plugged = index;
    this.indexChanged();
    return () => {
      if (this.plugged !== index) return;
      this.plugged = null;
      this.indexChanged();
    };
  }

  /**
   * Called whenever {@link index} changes (a store plugged in or unplugged), so a reader that
   * holds on to an index (the web UI's view) switches at once. Returns a function that unsubscribes.
   */
  onIndexChange(listener: (index: FlowIndex) => void): () => void {
    this.indexListeners.push(listener);
    return () => {
      const i = this.indexListeners.indexOf(listener);
      if (i >= 0) this.indexListeners.splice(i, 1);
    };
  }

  private indexChanged(): void {
    const index = this.index;
    for (const l of [...this.indexListeners]) l(index);
  }

  /** Add a flow (again: it moves to the newest end), then evict what the policy says. */
  add(flow: Flow): void {
    if (this.limitValue <= 0) {
      for (const l of this.listeners) l(flow);
      return;
    }
    this.drop(flow.id);
    const bytes = this.maxBytesValue === Infinity ? 0 : flowBytes(flow);
    this.entries.set(flow.id, { flow, seq: this.nextSeq++, bytes });
    this.bytesKept += bytes;
    this.enforce();
    for (const l of this.listeners) l(flow);
  }

  /**
   * A kept flow changed size (a response arrived, messages were added): measure it again for
   * the byte budget. Whoever records flows as they progress calls this (the store addon does);
   * without it a flow counts with the size it had when it was added.
   */
  touch(flow: Flow): void {
    if (this.maxBytesValue === Infinity) return;
    const e = this.entries.get(flow.id);
    if (!e || e.flow !== flow) return;
    const bytes = flowBytes(flow);
    this.bytesKept += bytes - e.bytes;
    e.bytes = bytes;
    this.enforce();
  }

  /** Called for every flow added (whether kept or not). */
  onAdd(listener: (flow: Flow) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  get(id: string): Flow | undefined {
    return this.entries.get(id)?.flow;
  }

  remove(id: string): boolean {
    return this.drop(id);
  }

  get size(): number {
    return this.entries.size;
  }

  all(): Flow[] {
    return Array.from(this.entries.values(), (e) => e.flow);
  }

  clear(): void {
    this.entries.clear();
    this.bytesKept = 0;
  }

  /** Flows selected by a spec: `@all`, `@marked`, `@unmarked`, or a filter expression. */
  resolve(spec: string): Flow[] {
    switch (spec) {
      case '@all':
      case '@shown':
        return this.all();
      case '@hidden':
        return [];
      case '@marked':
        return this.all().filter((f) => f.marked !== '');
      case '@unmarked':
        return this.all().filter((f) => f.marked === '');
      case '@focus': {
        const last = [...this.entries.values()].at(-1);
        return last ? [last.flow] : [];
      }
    }
    let filter;
    try {
      filter = parseFilter(spec);
    } catch (err) {
      throw new CommandError(
        `Invalid flow spec ${JSON.stringify(spec)}: ${(err as Error).message}`,
        'MITMTS_ERR_COMMAND_ARGS',
      );
    }
    return this.all().filter((f) => filter.match(f));
  }

  /** Resolves with the first flow (already stored or added later) that satisfies `test`. */
  waitFor(test: (flow: Flow) => boolean, timeoutMs = 10_000): Promise<Flow> {
    const hit = this.all().find(test);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`No matching flow within ${timeoutMs} ms (${this.size} flows stored).`));
      }, timeoutMs);
      const off = this.onAdd((f) => {
        if (test(f)) {
          clearTimeout(timer);
          off();
          resolve(f);
        }
      });
    });
  }

  private drop(id: string): boolean {
    const e = this.entries.get(id);
    if (!e) return false;
    this.entries.delete(id);
    this.bytesKept -= e.bytes;
    return true;
  }

  /**
   * Evict the oldest flows until both bounds hold. One iterator walks from the oldest: a Map
   * keeps deleted slots until it rehashes, so a fresh `keys().next()` per eviction would step
   * over every flow evicted so far (lowering the limit from 100,000 flows to 1,000 took 5 s).
   */
  private enforce(): void {
    const oldest = this.entries.keys();
    while (this.entries.size > this.limitValue || (this.bytesKept > this.maxBytesValue && this.entries.size > 0)) {
      this.drop(oldest.next().value!);
    }
  }
}
