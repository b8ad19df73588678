/**
 * Flows the writer holds for later (in progress with changes not written yet, and since when;
 * or due at the next batch), each once. Not a Map or Set: a Map (or
 * Set) that flows keep entering and leaving is rehashed every few dozen changes, and V8 keeps
 * the table it replaced, entries and all, until a full collection; while that table sits in the
 * old generation its stale entries keep the flows they point at alive through every
 * young-generation collection. Measured on the proxy with the store on: 230-260 KB survived
 * and were promoted per scavenge (the flows, their messages and headers) instead of 25 KB,
 * scavenges took 2-7 ms instead of under 1, and the GC's helper threads did 10-20 µs of work
 * per request. Here the flows are in a plain array (in the order added; when a flow leaves, the
 * later ones move up) and membership is a WeakSet, whose entries never keep a flow alive.
 */
import type { Flow } from '@mitmts/sdk';

export class FlowList {
  private readonly flows: Flow[] = [];
  private readonly since: number[] = [];
  private readonly members = new WeakSet<Flow>();

  get size(): number {
    return this.flows.length;
  }

  has(flow: Flow): boolean {
    return this.members.has(flow);
  }

  /** Add `flow` (with a time in ms, e.g. since when it is in progress), unless it is in the list already. */
  add(flow: Flow, at = 0): void {
    if (this.members.has(flow)) return;
    this.members.add(flow);
    this.flows.push(flow);
    this.since.push(at);
  }

  /**
   * Remove `flow`; false if it was not in the list. Flows mostly leave in the order they came
   * (requests complete in about the order they started), so the search starts at the front; the
   * later entries move up one by one (`splice` would also make an array of the removed one).
   */
  delete(flow: Flow): boolean {
    if (!this.members.delete(flow)) return false;
    const flows = this.flows;
    const since = this.since;
    const last = flows.length - 1;
    for (let i = flows.indexOf(flow); i < last; i++) {
      flows[i] = flows[i + 1]!;
      since[i] = since[i + 1]!;
    }
    flows.length = since.length = last;
    return true;
  }

  /** Remove the flows added with a time of `due` (ms) or earlier, and return them (in the order added). */
  takeDue(due: number): Flow[] {
    const out: Flow[] = [];
    let kept = 0;
    for (let i = 0; i < this.flows.length; i++) {
      const flow = this.flows[i]!;
      if (this.since[i]! > due) {
        this.flows[kept] = flow;
        this.since[kept++] = this.since[i]!;
        continue;
      }
      this.members.delete(flow);
      out.push(flow);
    }
    this.flows.length = this.since.length = kept;
    return out;
  }

  /** Remove the first `max` flows (at most), and return them (in the order added). */
  take(max = Infinity): Flow[] {
    const out = this.flows.splice(0, max);
    this.since.splice(0, out.length);
    for (const f of out) this.members.delete(f);
    return out;
  }
}
