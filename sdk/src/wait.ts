/** Waiting for flows in an embedded proxy, and the addon exceptions that end the wait. */
import { addon, type Filter, HTTPFlow, type Kernel, parseFilter } from '@mitmts/core';

/** What selects flows: a filter expression (`'~u /api & ~c 200'`) or a predicate. */
export type FlowMatcher = string | ((flow: HTTPFlow) => boolean);

export interface WaitForFlowOptions {
  /** Milliseconds before the wait rejects (default 10,000). */
  readonly timeout?: number;
  /** `'done'` (default): once the flow has its response or error. `'request'`: once its request is in. */
  readonly when?: 'done' | 'request';
}

/** An exception an addon's hook threw, as `createProxy` reports it (`addonErrors: 'throw'`). */
export class AddonError extends Error {
  constructor(
    readonly addon: string,
    readonly hook: string,
    override readonly cause: unknown,
    suffix = '',
  ) {
    super(`addon ${addon}: ${hook} failed: ${(cause as Error)?.message ?? String(cause)}${suffix}`, { cause });
    this.name = 'AddonError';
  }
}

function predicate(match: FlowMatcher): (flow: HTTPFlow) => boolean {
  if (typeof match !== 'string') return match;
  const filter: Filter = parseFilter(match);
  return (f) => filter.match(f);
}

const describe = (match: FlowMatcher): string => (typeof match === 'string' ? JSON.stringify(match) : 'the predicate');

interface Waiter {
  readonly test: (flow: HTTPFlow) => boolean;
  readonly when: 'done' | 'request';
  readonly resolve: (flow: HTTPFlow) => void;
  readonly reject: (err: Error) => void;
}

/** The addon behind `proxy.waitForFlow`: last in the chain, so a flow is seen as the other addons left it. */
@addon({ name: 'embed.flow-waiter', order: 'post' })
export class FlowWaiter {
  private waiters = new Set<Waiter>();

  constructor(private readonly kernel: Kernel) {}

  matching(match?: FlowMatcher): HTTPFlow[] {
    const http = this.kernel.flows.all().filter((f): f is HTTPFlow => f instanceof HTTPFlow);
    return match === undefined ? http : http.filter(predicate(match));
  }

  wait(match: FlowMatcher, options: WaitForFlowOptions = {}): Promise<HTTPFlow> {
    const test = predicate(match);
    const when = options.when ?? 'done';
    const timeout = options.timeout ?? 10_000;
    const seen = this.matching().find((f) => ready(f, when) && test(f));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        const flows = this.matching();
        const list = flows
          .slice(-10)
          .map(
            (f) =>
              `${f.request.method} ${f.request.url} ${f.response ? f.response.statusCode : f.error ? `(${f.error.msg})` : '(in progress)'}`,
          );
        reject(
          new Error(
            `No HTTP flow matching ${describe(match)} within ${timeout} ms; ${flows.length} seen${list.length ? `, last: ${list.join('; ')}` : ''}.`,
          ),
        );
      }, timeout);
      const w: Waiter = {
        test,
        when,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.add(w);
    });
  }

  /** Reject every pending wait with an addon's exception. */
  fail(err: Error): void {
    const all = [...this.waiters];
    this.waiters.clear();
    for (const w of all) w.reject(err);
  }

  request(flow: HTTPFlow): void {
    this.check(flow, 'request');
  }

  response(flow: HTTPFlow): void {
    this.check(flow, 'done');
  }

  error(flow: HTTPFlow): void {
    if (flow instanceof HTTPFlow) this.check(flow, 'done');
  }

  private check(flow: HTTPFlow, stage: 'done' | 'request'): void {
    for (const w of this.waiters) {
      if ((w.when === stage || (stage === 'done' && w.when === 'request')) && w.test(flow)) {
        this.waiters.delete(w);
        w.resolve(flow);
      }
    }
  }
}

function ready(flow: HTTPFlow, when: 'done' | 'request'): boolean {
  return when === 'request' || flow.response !== null || flow.error !== null;
}
