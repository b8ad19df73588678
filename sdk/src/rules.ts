/**
 * Rules for the common stubs of a test, built on the `request` and `response` hooks and the
 * filter language (not a second matching engine): reply with JSON or any response, pass through
 * with a transform, close the connection, delay. The first rule whose filter matches a request
 * handles it; a rule can be limited to a number of requests (`times`, `once`).
 *
 * ```ts
 * proxy.rule('~u /api/user & ~m GET').replyJson({ name: 'Ada' });
 * proxy.rule('~d example.com').delay(200).passThrough({ response: (r) => r.headers.set('x-stub', '1') });
 * proxy.rule('~u /flaky').once().close();
 * ```
 */
import { addon, type Filter, type HTTPFlow, type MakeHeaders, parseFilter, type Request, Response } from '@mitmts/core';

/** What selects a rule's requests: a filter expression (`'~u /api & ~m POST'`) or a predicate. */
export type RuleMatcher = string | ((flow: HTTPFlow) => boolean);

/** Changes a pass-through rule makes; each may be asynchronous (a returned promise is awaited). */
export interface PassThroughTransform {
  /** Change the request before it goes to the server. */
  readonly request?: (request: Request, flow: HTTPFlow) => unknown;
  /** Change the server's response before it goes to the client. */
  readonly response?: (response: Response, flow: HTTPFlow) => unknown;
}

type Action =
  | { readonly kind: 'reply'; readonly make: (flow: HTTPFlow) => Response }
  | { readonly kind: 'pass'; readonly transform: PassThroughTransform }
  | { readonly kind: 'close' };

/** A rule in force: how many requests it handled, and how to take it away. */
export interface Rule {
  /** The filter expression, or `(predicate)`. */
  readonly description: string;
  /** Requests this rule handled so far. */
  readonly handled: number;
  /** Flows this rule handled, in order. */
  readonly flows: readonly HTTPFlow[];
  /** Stop using this rule. */
  remove(): void;
}

interface Entry extends Rule {
  readonly match: (flow: HTTPFlow) => boolean;
  readonly limit: number;
  readonly delayMs: number;
  readonly action: Action;
  handled: number;
  readonly flows: HTTPFlow[];
}

/** Builds one rule; a terminal method (`reply*`, `passThrough`, `close`) puts it in force. */
export class RuleBuilder {
  private limit = Infinity;
  private delayMs = 0;

  /** @internal Made by {@link Rules.rule}. */
  constructor(
    private readonly matcher: RuleMatcher,
    private readonly register: (entry: Entry) => void,
    private readonly unregister: (entry: Entry) => void,
  ) {}

  /** Handle only the next `n` matching requests; later ones go to the next rule (or the server). */
  times(n: number): this {
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`times(n) needs a whole number of requests, 1 or more, got ${n}.`);
    this.limit = n;
    return this;
  }

  /** `times(1)`. */
  once(): this {
    return this.times(1);
  }

  /** Wait `ms` milliseconds before the action (the request is held; other connections go on). */
  delay(ms: number): this {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`delay(ms) needs 0 or more milliseconds, got ${ms}.`);
    this.delayMs = ms;
    return this;
  }

  /** Answer with this status, body and headers; the server is not contacted. */
  reply(status: number, body: string | Buffer = '', headers?: MakeHeaders): Rule {
    return this.add({ kind: 'reply', make: () => Response.make(status, body, headers) });
  }

  /** Answer with `value` as JSON (`content-type: application/json`); the server is not contacted. */
  replyJson(value: unknown, options: { status?: number; headers?: Record<string, string> } = {}): Rule {
    const body = JSON.stringify(value);
    if (body === undefined)
      throw new TypeError('replyJson(value) needs a value JSON can encode (not undefined or a function).');
    return this.add({
      kind: 'reply',
      make: () =>
        Response.make(options.status ?? 200, body, { 'content-type': 'application/json', ...options.headers }),
    });
  }

  /** Answer with what `make(flow)` returns (e.g. depending on the request). */
  replyWith(make: (flow: HTTPFlow) => Response): Rule {
    return this.add({ kind: 'reply', make });
  }

  /** Send the request on to its server, changing the request or the response on the way. */
  passThrough(transform: PassThroughTransform = {}): Rule {
    return this.add({ kind: 'pass', transform });
  }

  /** Close the client's connection without a response (the flow is killed: "Connection killed."). */
  close(): Rule {
    return this.add({ kind: 'close' });
  }

  private add(action: Action): Rule {
    const m = this.matcher;
    let match: (flow: HTTPFlow) => boolean;
    if (typeof m === 'string') {
      const filter: Filter = parseFilter(m);
      match = (f) => filter.match(f);
    } else {
      match = m;
    }
    const unregister = this.unregister;
    const entry: Entry = {
      description: typeof m === 'string' ? m : '(predicate)',
      match,
      limit: this.limit,
      delayMs: this.delayMs,
      action,
      handled: 0,
      flows: [],
      remove: () => unregister(entry),
    };
    this.register(entry);
    return entry;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The addon that applies rules (`createProxy` adds one after your addons: `proxy.rule(...)`).
 * Add your own instance to a kernel to use rules elsewhere: `new Rules()` then `rules.rule(...)`.
 */
@addon({ name: 'embed.rules', description: 'Stub rules: reply, pass through with a transform, close, delay.' })
export class Rules {
  private entries: Entry[] = [];
  private readonly chosen = new WeakMap<HTTPFlow, Entry>();

  /** Start a rule for the requests `matcher` selects (a filter expression is checked now). */
  rule(matcher: RuleMatcher): RuleBuilder {
    if (typeof matcher === 'string') parseFilter(matcher);
    return new RuleBuilder(
      matcher,
      (e) => (this.entries = [...this.entries, e]),
      (e) => this.remove(e),
    );
  }

  /** Rules in force, in order. */
  get all(): readonly Rule[] {
    return this.entries;
  }

  /** Remove every rule. */
  clear(): void {
    this.entries = [];
  }

  private remove(entry: Entry): void {
    this.entries = this.entries.filter((e) => e !== entry);
  }

  /** Synchronous (no promise for the exchange to wait on) unless a rule delays or transforms. */
  request(flow: HTTPFlow): void | Promise<void> {
    if (this.entries.length === 0 || flow.isReplay !== null || flow.response !== null) return;
    const entry = this.entries.find((e) => e.handled < e.limit && e.match(flow));
    if (!entry) return;
    entry.handled++;
    entry.flows.push(flow);
    if (entry.handled >= entry.limit) this.remove(entry);
    if (entry.delayMs > 0) return sleep(entry.delayMs).then(() => this.act(entry, flow));
    return this.act(entry, flow);
  }

  private act(entry: Entry, flow: HTTPFlow): void | Promise<void> {
    const action = entry.action;
    if (action.kind === 'reply') flow.response = action.make(flow);
    else if (action.kind === 'close') flow.kill();
    else {
      this.chosen.set(flow, entry);
      const r = action.transform.request?.(flow.request, flow);
      if (r instanceof Promise) return r.then(() => undefined);
    }
  }

  response(flow: HTTPFlow): void | Promise<void> {
    const entry = this.chosen.get(flow);
    if (!entry || entry.action.kind !== 'pass' || !flow.response) return;
    const r = entry.action.transform.response?.(flow.response, flow);
    if (r instanceof Promise) return r.then(() => undefined);
  }
}
