import type { Flow } from '../flow/index.js';
import { parseFilter } from '../filter/index.js';
import { CommandError } from './errors.js';

/**
 * The flows a kernel has seen, oldest first, bounded (oldest evicted first). Commands resolve
 * flow specs against it: `@all`, `@marked`, `@unmarked`, or a filter expression.
 */
export class FlowStore {
  private readonly flows = new Map<string, Flow>();
  private readonly listeners: Array<(flow: Flow) => void> = [];

  /** `limit`: how many flows to keep (0: none, Infinity: all). */
  constructor(public limit = 1000) {}

  add(flow: Flow): void {
    if (this.limit <= 0) {
      for (const l of this.listeners) l(flow);
      return;
    }
    this.flows.delete(flow.id);
    this.flows.set(flow.id, flow);
    while (this.flows.size > this.limit) this.flows.delete(this.flows.keys().next().value!);
    for (const l of this.listeners) l(flow);
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
    return this.flows.get(id);
  }

  remove(id: string): boolean {
    return this.flows.delete(id);
  }

  get size(): number {
    return this.flows.size;
  }

  all(): Flow[] {
    return [...this.flows.values()];
  }

  clear(): void {
    this.flows.clear();
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
        const last = [...this.flows.values()].at(-1);
        return last ? [last] : [];
      }
    }
    let filter;
    try {
      filter = parseFilter(spec);
    } catch (err) {
      throw new CommandError(`Invalid flow spec ${JSON.stringify(spec)}: ${(err as Error).message}`, 'MITMTS_ERR_COMMAND_ARGS');
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
}
