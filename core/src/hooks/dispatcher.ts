import { AddonHalt, OptionsError } from '../kernel/errors.js';
import type { Logger } from '../kernel/log.js';
import type { AddonOrder, ClassMeta } from './decorators.js';
import { HOOK_NAMES, type HookMap, type HookName, type HookResult } from './hookmap.js';
import { HOOK_SLOT, handlerId } from './watchdog.js';

/** One addon in the chain (child addons hang below their parent). */
export interface AddonRecord {
  readonly name: string;
  readonly instance: object;
  readonly order: AddonOrder;
  readonly meta: ClassMeta;
  readonly children: AddonRecord[];
  readonly parent: AddonRecord | null;
}

interface Handler {
  readonly addon: string;
  readonly fn: (...args: unknown[]) => unknown;
  readonly self: object;
  /** Written to `HOOK_SLOT` while the handler's synchronous part runs (see watchdog.ts). */
  readonly id: number;
}

type ErrorReporter = (addon: string, hook: HookName, err: unknown) => void;

interface Interceptable {
  readonly intercepted: boolean;
  waitForResume(): Promise<void>;
}

/**
 * An immutable snapshot of the chain's handlers, per hook. Dispatch walks it in chain order;
 * sync handlers run back to back without promises, and only once a handler returns a promise
 * does the rest of the walk become async (awaited in order). A flow keeps the table it started
 * with, so swapping an addon never changes the handlers of a flow in flight.
 */
export class HookTable {
  constructor(
    private readonly handlers: ReadonlyMap<HookName, readonly Handler[]>,
    private readonly report: ErrorReporter,
    private readonly enter: () => void,
    /** @internal What each `activeWhen` answered when the table was built (see HookDispatcher.refresh). */
    readonly active: readonly boolean[] = [],
  ) {}

  /** Does any addon handle this hook? (Skip building hook data when none does.) */
  has(name: HookName): boolean {
    return this.handlers.has(name);
  }

  /** Call every handler of a hook in chain order. Returns a promise only if a handler was async. */
  trigger<K extends HookName>(name: K, ...args: HookMap[K]): HookResult {
    return this.dispatch(name, args);
  }

  private dispatch(name: HookName, args: readonly unknown[]): HookResult {
    const list = this.handlers.get(name);
    if (list === undefined) return;
    this.enter();
    for (let i = 0; i < list.length; i++) {
      const h = list[i]!;
      let r: unknown;
      try {
        r = callWatched(h, args);
      } catch (err) {
        if (err instanceof AddonHalt) return;
        if (err instanceof OptionsError && (name === 'configure' || name === 'load')) throw err;
        this.report(h.addon, name, err);
        continue;
      }
      if (r !== undefined && r !== null && typeof (r as PromiseLike<unknown>).then === 'function') {
        return this.continueAsync(list, i, r as PromiseLike<unknown>, name, args);
      }
    }
  }

  /**
   * A flow hook: dispatch, then wait while the flow is intercepted, then fire `update` if anyone
   * listens. Returns a promise only when something had to be waited for.
   */
  triggerFlow<K extends HookName>(name: K, ...args: HookMap[K]): HookResult {
    return this.triggerFlowWith(name, args);
  }

  /**
   * {@link triggerFlow} with an argument tuple the caller made once and passes again for every
   * event of the same flow (a hot path such as one `websocket_message` per message then makes no
   * array per event). Its contents must not change.
   */
  triggerFlowWith<K extends HookName>(name: K, args: HookMap[K]): HookResult {
    const flow = args[0] as unknown as Interceptable;
    const r = this.dispatch(name, args);
    if (r !== undefined) return r.then(() => this.afterFlowHook(flow));
    return this.afterFlowHook(flow);
  }

  private afterFlowHook(flow: Interceptable): HookResult {
    if (flow.intercepted) {
      return flow.waitForResume().then(() => this.dispatch('update', [[flow]]));
    }
    if (this.handlers.has('update')) return this.dispatch('update', [[flow]]);
  }

  private async continueAsync(
    list: readonly Handler[],
    i: number,
    pending: PromiseLike<unknown>,
    name: HookName,
    args: readonly unknown[],
  ): Promise<void> {
    try {
      await pending;
    } catch (err) {
      if (err instanceof AddonHalt) return;
      if (err instanceof OptionsError && (name === 'configure' || name === 'load')) throw err;
      this.report(list[i]!.addon, name, err);
    }
    for (let j = i + 1; j < list.length; j++) {
      const h = list[j]!;
      this.enter();
      try {
        await callWatched(h, args);
      } catch (err) {
        if (err instanceof AddonHalt) return;
        if (err instanceof OptionsError && (name === 'configure' || name === 'load')) throw err;
        this.report(h.addon, name, err);
      }
    }
  }
}

/**
 * The ordered addon chain (mitmproxy's AddonManager). Addons run in manifest order within their
 * `order` group (`pre`, then `normal`, then `post`); an addon's children run right after it.
 * A throwing hook is logged as `addon <name>: <hook> failed: <message>` with its stack, and the
 * chain goes on; `AddonHalt` stops the chain for that event.
 */
export class HookDispatcher {
  private records: AddonRecord[] = [];
  private current: HookTable;
  private errorListeners: Array<(addon: string, hook: string, err: unknown) => void> = [];

  constructor(
    private readonly log: Logger,
    /** Called before handlers run (the kernel makes itself the current `ctx`). */
    private readonly enter: () => void = () => undefined,
  ) {
    this.current = this.build();
  }

  /** The current handler snapshot (cheap: rebuilt only when the chain changes). */
  get table(): HookTable {
    return this.current;
  }

  trigger<K extends HookName>(name: K, ...args: HookMap[K]): HookResult {
    return this.current.trigger(name, ...args);
  }

  triggerFlow<K extends HookName>(name: K, ...args: HookMap[K]): HookResult {
    return this.current.triggerFlow(name, ...args);
  }

  has(name: HookName): boolean {
    return this.current.has(name);
  }

  /** Top-level addons in chain order. */
  list(): readonly AddonRecord[] {
    return this.records;
  }

  /** Every addon name, children included, in dispatch order. */
  names(): string[] {
    const out: string[] = [];
    const walk = (r: AddonRecord): void => {
      out.push(r.name);
      r.children.forEach(walk);
    };
    this.records.forEach(walk);
    return out;
  }

  get(name: string): AddonRecord | undefined {
    const find = (rs: readonly AddonRecord[]): AddonRecord | undefined => {
      for (const r of rs) {
        if (r.name === name) return r;
        const c = find(r.children);
        if (c) return c;
      }
      return undefined;
    };
    return find(this.records);
  }

  /** Find the record holding an addon instance. */
  find(instance: object): AddonRecord | undefined {
    const walk = (rs: readonly AddonRecord[]): AddonRecord | undefined => {
      for (const r of rs) {
        if (r.instance === instance) return r;
        const c = walk(r.children);
        if (c) return c;
      }
      return undefined;
    };
    return walk(this.records);
  }

  /** Add a top-level record (its children included), at `index` or by its order group. */
  insert(record: AddonRecord, index?: number): void {
    const rank = (o: AddonOrder): number => (o === 'pre' ? 0 : o === 'normal' ? 1 : 2);
    if (index === undefined) {
      index = this.records.length;
      while (index > 0 && rank(this.records[index - 1]!.order) > rank(record.order)) index--;
    }
    this.records = [...this.records.slice(0, index), record, ...this.records.slice(index)];
    this.current = this.build();
  }

  /** Remove a top-level record; returns its former index. */
  remove(record: AddonRecord): number {
    const i = this.records.indexOf(record);
    if (i < 0) return -1;
    this.records = this.records.filter((r) => r !== record);
    this.current = this.build();
    return i;
  }

  /** Replace a record by another in the same place (hot reload swaps atomically). */
  replace(old: AddonRecord, next: AddonRecord): void {
    const i = this.records.indexOf(old);
    if (i < 0) return this.insert(next);
    this.records = this.records.map((r) => (r === old ? next : r));
    this.current = this.build();
  }

  /** A table over just one record and its children (lifecycle hooks for a single addon). */
  tableFor(record: AddonRecord): HookTable {
    return this.build([record]);
  }

  /** The error line every hook failure gets. */
  reportError(addon: string, hook: HookName | string, err: unknown): void {
    const e = err as { message?: unknown; stack?: unknown } | undefined;
    const message = e && typeof e.message === 'string' ? e.message : String(err);
    const stack = e && typeof e.stack === 'string' ? `\n${e.stack}` : '';
    this.log.error(`addon ${addon}: ${hook} failed: ${message}${stack}`);
    for (const l of this.errorListeners) l(addon, hook, err);
  }

  /**
   * Be told of every hook failure (after it is logged), e.g. to fail a test (`createProxy`'s
   * `addonErrors: 'throw'`). Returns a function that stops the listener.
   */
  onError(listener: (addon: string, hook: string, err: unknown) => void): () => void {
    this.errorListeners = [...this.errorListeners, listener];
    return () => {
      this.errorListeners = this.errorListeners.filter((l) => l !== listener);
    };
  }

  /**
   * Ask the handlers declared with `activeWhen` again (after `configure`: options changed) and
   * rebuild the table if any answer changed. Flows in flight read the new table at their next hook.
   */
  refresh(): void {
    if (!this.conditional) return;
    const now = this.active(this.records);
    if (!sameActive(this.current.active, now)) this.current = this.build(this.records, now);
  }

  /** Whether some handler of the chain has an `activeWhen` (else {@link refresh} has nothing to do). */
  private conditional = false;

  /** For every handler with `activeWhen`, in chain order: does it run now? */
  private active(records: readonly AddonRecord[]): boolean[] {
    const out: boolean[] = [];
    const visit = (r: AddonRecord): void => {
      for (const [name, , activeWhen] of handlersOf(r)) if (activeWhen) out.push(this.isActive(r, name, activeWhen));
      r.children.forEach(visit);
    };
    records.forEach(visit);
    return out;
  }

  /** An `activeWhen` that throws is reported and counts as active (the handler runs, as without it). */
  private isActive(r: AddonRecord, hook: HookName, activeWhen: (addon: object) => boolean): boolean {
    try {
      return activeWhen(r.instance) !== false;
    } catch (err) {
      this.reportError(r.name, `${hook} (activeWhen)`, err);
      return true;
    }
  }

  /** The table of `records`; `known`: what their `activeWhen`s answered just now (else they are asked). */
  private build(records: readonly AddonRecord[] = this.records, known?: readonly boolean[]): HookTable {
    const map = new Map<HookName, Handler[]>();
    const active: boolean[] = [];
    const visit = (r: AddonRecord): void => {
      for (const [name, fn, activeWhen] of handlersOf(r)) {
        if (activeWhen) {
          const on = known ? known[active.length]! : this.isActive(r, name, activeWhen);
          active.push(on);
          if (!on) continue;
        }
        let list = map.get(name);
        if (!list) map.set(name, (list = []));
        list.push({ addon: r.name, fn, self: r.instance, id: handlerId(r.name, name) });
      }
      r.children.forEach(visit);
    };
    records.forEach(visit);
    if (records === this.records) this.conditional = active.length > 0;
    return new HookTable(map, (addon, hook, err) => this.reportError(addon, hook, err), this.enter, active);
  }
}

/**
 * Call a handler with the watchdog's slot holding its id during its synchronous part; afterwards
 * the slot holds the enclosing handler's id (a hook fired from a hook) or, at top level, "this
 * one ran last" (-id).
 */
function callWatched(h: Handler, args: readonly unknown[]): unknown {
  const outer = HOOK_SLOT[0]!;
  HOOK_SLOT[0] = h.id;
  try {
    return h.fn.apply(h.self, args as unknown[]);
  } finally {
    HOOK_SLOT[0] = outer > 0 ? outer : -h.id;
  }
}

type HandlerEntry = [HookName, (...args: unknown[]) => unknown, ((addon: object) => boolean)?];

function sameActive(a: readonly boolean[], b: readonly boolean[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function handlersOf(r: AddonRecord): HandlerEntry[] {
  const out: HandlerEntry[] = [];
  const inst = r.instance as Record<string | symbol, unknown>;
  const decorated = new Set<string | symbol>();
  for (const h of r.meta.hooks) {
    const fn = inst[h.key];
    if (typeof fn === 'function') out.push([h.hook, fn as (...args: unknown[]) => unknown, h.activeWhen]);
    decorated.add(h.key);
  }
  for (const name of HOOK_NAMES) {
    if (decorated.has(name)) continue;
    const fn = inst[name];
    if (typeof fn === 'function') out.push([name, fn as (...args: unknown[]) => unknown]);
  }
  return out;
}
