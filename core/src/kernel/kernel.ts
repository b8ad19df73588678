import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { CommandManager } from '../commands/manager.js';
import type { CommandSpec } from '../commands/types.js';
import { getClassMeta, type AddonOrder, type ClassMeta, type InjectionKey } from '../hooks/decorators.js';
import type { Loader } from '../hooks/data.js';
import { HookDispatcher, type AddonRecord } from '../hooks/dispatcher.js';
import { armWatchdog, watchBlocks } from '../hooks/watchdog.js';
import type { HookMap, HookName, HookResult } from '../hooks/hookmap.js';
import { CORE_OPTIONS } from '../options/core-options.js';
import { OptionsManager } from '../options/manager.js';
import type { OptionSpec, OptionTypeName, OptionValue } from '../options/types.js';
import { enterKernel, runWithKernel } from './context.js';
import { MitmtsError, OptionsError } from './errors.js';
import { Logger, termLog, type LogLevel, type TermLogOptions } from './log.js';
import { ADDONS, COMMANDS, FLOWS, KERNEL, LOG, OPTIONS } from './tokens.js';
import { FlowStore } from './flowstore.js';

/** A class (constructed by the kernel, with injection) or a ready instance. */
export type AddonInput = object | (abstract new (...args: never[]) => object);

export interface KernelOptions {
  /** Print log entries to the terminal (default false; the CLI turns it on). */
  termlog?: boolean | Omit<TermLogOptions, 'verbosity'>;
  /** Declare mitmproxy's core options (default true). */
  coreOptions?: boolean;
}

export type KernelState = 'new' | 'starting' | 'running' | 'stopping' | 'done';

/**
 * The kernel: a DI container, options, commands, log and the addon chain. It knows no addon;
 * a distribution hands it the addons to load. Two kernels in one process share nothing.
 */
export class Kernel {
  readonly container: DependencyContainer;
  readonly options = new OptionsManager();
  readonly commands = new CommandManager();
  readonly log = new Logger();
  readonly addons: HookDispatcher;
  /** Flows seen (bounded; `flows.limit`), for commands' flow specs and embedders. */
  readonly flows = new FlowStore();
  private stateValue: KernelState = 'new';
  /** Addons added now belong to the distribution's default build (see {@link trusting}). */
  private trustAdded = false;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly exitWaiters: Array<(code: number) => void> = [];
  private exitCode: number | null = null;

  constructor(opts: KernelOptions = {}) {
    this.addons = new HookDispatcher(this.log, () => enterKernel(this));
    this.container = rootContainer.createChildContainer();
    this.container.registerInstance(KERNEL, this);
    this.container.registerInstance(OPTIONS, this.options);
    this.container.registerInstance(COMMANDS, this.commands);
    this.container.registerInstance(LOG, this.log);
    this.container.registerInstance(ADDONS, this.addons);
    this.container.registerInstance(FLOWS, this.flows);
    this.container.registerInstance(FlowStore, this.flows);
    this.commands.setFlowResolver((spec) => this.flows.resolve(spec));
    this.container.registerInstance(Kernel, this);
    this.container.registerInstance(OptionsManager, this.options);
    this.container.registerInstance(CommandManager, this.commands);
    this.container.registerInstance(Logger, this.log);
    this.container.registerInstance(HookDispatcher, this.addons);
    if (opts.coreOptions !== false) for (const spec of CORE_OPTIONS) this.options.declare(spec, 'core');
    if (opts.termlog) {
      const verbosity = (): LogLevel =>
        this.options.has('termlog_verbosity') ? this.options.get<LogLevel>('termlog_verbosity') : 'info';
      const t = typeof opts.termlog === 'object' ? opts.termlog : {};
      // Not spread: the streams may be getters that open stdout/stderr only when used.
      this.log.onEntry(
        termLog({
          get out() {
            return t.out;
          },
          get err() {
            return t.err;
          },
          ...(t.color !== undefined ? { color: t.color } : {}),
          verbosity,
        }),
      );
    }
    this.options.onConfigure((updated) => {
      if (this.stateValue !== 'running' && this.stateValue !== 'starting') return;
      if (updated.has('hook_watchdog')) this.watchHooks();
      const r = this.addons.trigger('configure', updated);
      // handlers declared with `activeWhen` are asked again once the addons have seen the change
      if (r)
        r.then(
          () => this.addons.refresh(),
          (err: unknown) => this.addons.reportError('kernel', 'configure', err),
        );
      else this.addons.refresh();
    });
    this.log.onEntry((entry) => {
      if (this.addons.has('add_log')) void this.addons.trigger('add_log', entry);
    });
  }

  get state(): KernelState {
    return this.stateValue;
  }

  /**
   * Add addons (classes are constructed with injection). Each is named, its options and
   * commands registered, `load` called, then it joins the chain. Once the kernel runs, a new
   * addon also gets `configure` with every option name and `running`.
   */
  async add(...inputs: AddonInput[]): Promise<object[]> {
    const out: object[] = [];
    for (const input of inputs) out.push((await this.addRecord(input)).instance);
    return out;
  }

  /**
   * Run `load` (which adds the distribution's default-build addons) without starting the hook
   * watchdog's thread for them; any other addon added to a kernel starts it (see
   * `hook_watchdog`): scripts and embedders' addons are the code that may block.
   */
  async trusting<T>(load: () => Promise<T>): Promise<T> {
    this.trustAdded = true;
    try {
      return await load();
    } finally {
      this.trustAdded = false;
    }
  }

  /** Add one addon at a chain position; returns its record. */
  async addRecord(input: AddonInput, index?: number): Promise<AddonRecord> {
    if (!this.trustAdded) armWatchdog();
    return runWithKernel(this, async () => {
      const record = this.materialize(input, null, new Set(this.addons.names()));
      await this.loadRecord(record);
      this.addons.insert(record, index);
      await this.afterJoin(record);
      return record;
    });
  }

  /**
   * Swap an addon for a new one in the same chain position: the new one is loaded and
   * configured first; only if that succeeds does it replace the old one, which then gets
   * `done`. On failure the old one keeps running and the error is thrown.
   */
  async replace(old: object, input: AddonInput): Promise<AddonRecord> {
    return runWithKernel(this, async () => {
      const oldRecord = this.addons.find(old);
      if (!oldRecord || oldRecord.parent)
        throw new MitmtsError(
          'MITMTS_ERR_ADDON_INVALID',
          'replace(): the old addon is not a top-level addon of this kernel.',
        );
      const taken = new Set(this.addons.names());
      const drop = (r: AddonRecord): void => {
        taken.delete(r.name);
        r.children.forEach(drop);
      };
      drop(oldRecord);
      const record = this.materialize(input, null, taken);
      await this.loadRecord(record, oldRecord);
      if (this.running) await this.configureRecord(record);
      const fresh = this.commandNames(record);
      const stale = this.commandNames(oldRecord);
      this.addons.replace(oldRecord, record);
      await this.finishQuiet(oldRecord);
      for (const name of stale) if (!fresh.has(name)) this.commands.remove(name);
      if (this.stateValue === 'running') await this.addons.tableFor(record).trigger('running');
      return record;
    });
  }

  /** Remove an addon (by instance or name): it gets `done` and its commands go. */
  async remove(addon: object | string): Promise<void> {
    const record = typeof addon === 'string' ? this.addons.get(addon) : this.addons.find(addon);
    if (!record)
      throw new MitmtsError(
        'MITMTS_ERR_ADDON_INVALID',
        `No such addon: ${typeof addon === 'string' ? addon : addon.constructor.name}.`,
      );
    if (record.parent)
      throw new MitmtsError(
        'MITMTS_ERR_ADDON_INVALID',
        `Addon ${record.name} is a child of ${record.parent.name}; remove the parent.`,
      );
    this.addons.remove(record);
    await this.finish(record);
    this.unregisterCommands(record);
  }

  /** The instance of an addon by name. */
  get<T extends object = object>(name: string): T | undefined {
    return this.addons.get(name)?.instance as T | undefined;
  }

  /** Resolve something registered in this kernel's container (services, tokens). */
  resolve<T>(key: InjectionKey<T>): T {
    return this.container.resolve(key as never) as T;
  }

  /**
   * Let an addon register start-up work (e.g. loading scripts) that `start()` waits for before
   * checking that every option set on the command line found its owner.
   */
  track<T>(work: Promise<T>): Promise<T> {
    const p = work.finally(() => this.pending.delete(p));
    this.pending.add(p);
    return work;
  }

  /** Fire a hook on the whole chain. */
  trigger<K extends HookName>(name: K, ...args: HookMap[K]): HookResult {
    return runWithKernel(this, () => this.addons.trigger(name, ...args));
  }

  /**
   * Start: `configure` with every option name on every addon, wait for tracked start-up work,
   * apply deferred option values (an option still unknown is an error), then `running`
   * (unless `running: false`).
   */
  async start(opts: { running?: boolean } = {}): Promise<void> {
    if (this.stateValue !== 'new')
      throw new MitmtsError('MITMTS_ERR_ADDON_INVALID', `Kernel already ${this.stateValue}.`);
    await runWithKernel(this, async () => {
      this.stateValue = 'starting';
      try {
        this.options.processDeferred();
        await this.addons.trigger('configure', new Set(this.options.names()));
        while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
        this.options.processDeferred();
        this.options.assertNoPending();
        this.addons.refresh();
      } catch (err) {
        this.stateValue = 'new';
        throw err;
      }
      this.stateValue = 'running';
      this.watchHooks();
      // `running: false`: configured (scripts loaded, options complete) but not serving, e.g.
      // for `mitmts --options`.
      if (opts.running !== false) await this.addons.trigger('running');
    });
  }

  /**
   * Ask whoever runs this kernel (the command line, createProxy) to shut down, e.g. when
   * mitmdump-style file reading is over. Resolves `whenExitRequested()`.
   */
  requestShutdown(exitCode = 0): void {
    if (this.exitCode !== null) return;
    this.exitCode = exitCode;
    for (const w of this.exitWaiters.splice(0)) w(exitCode);
  }

  /** Resolves with the exit code once an addon called `requestShutdown()`. */
  whenExitRequested(): Promise<number> {
    if (this.exitCode !== null) return Promise.resolve(this.exitCode);
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /** Fire `done` on every addon in chain order, once. */
  async shutdown(): Promise<void> {
    if (this.stateValue === 'done' || this.stateValue === 'stopping') return;
    this.stateValue = 'stopping';
    await runWithKernel(this, async () => {
      for (const r of this.addons.list()) await this.finishQuiet(r);
    });
    watchBlocks(this.log, 0);
    this.stateValue = 'done';
  }

  /** Start, adjust or stop the hook watchdog for this kernel (option `hook_watchdog`). */
  private watchHooks(): void {
    watchBlocks(this.log, this.options.has('hook_watchdog') ? this.options.get<number>('hook_watchdog') : 0);
  }

  private get running(): boolean {
    return this.stateValue === 'running' || this.stateValue === 'starting';
  }

  private materialize(input: AddonInput, parent: AddonRecord | null, taken: Set<string>): AddonRecord {
    const instance = isClass(input) ? this.construct(input) : input;
    if (instance === null || typeof instance !== 'object') {
      throw new MitmtsError(
        'MITMTS_ERR_ADDON_INVALID',
        `An addon must be a class or an object, got ${instance === null ? 'null' : typeof instance}.`,
      );
    }
    const meta = getClassMeta(instance.constructor);
    const name = addonName(instance, meta);
    if (taken.has(name)) {
      throw new MitmtsError(
        'MITMTS_ERR_ADDON_DUPLICATE',
        `An addon named ${name} is already loaded; addon names must be unique (set one with @addon({ name })).`,
      );
    }
    taken.add(name);
    const order: AddonOrder = meta.addon?.order ?? 'normal';
    const children: AddonRecord[] = [];
    const record: AddonRecord = { name, instance, order, meta, children, parent };
    const kids = (instance as { addons?: unknown }).addons;
    if (Array.isArray(kids)) for (const k of kids) children.push(this.materialize(k as AddonInput, record, taken));
    return record;
  }

  private construct(ctor: abstract new (...args: never[]) => object): object {
    const meta = getClassMeta(ctor);
    const name = meta.addon?.name ?? ctor.name;
    const paramTypes = (Reflect.getMetadata('design:paramtypes', ctor) as unknown[] | undefined) ?? [];
    const count = Math.max(ctor.length, meta.injects.length, paramTypes.length);
    const scoped = this.container.createChildContainer();
    scoped.registerInstance(LOG, this.log.child(meta.addon?.name ?? ctor.name.toLowerCase()));
    const args: unknown[] = [];
    for (let i = 0; i < count; i++) {
      const key = serviceToken(scoped, meta.injects[i] ?? paramTypes[i]);
      if (key === undefined || key === Object || key === String || key === Number || key === Boolean) {
        throw new MitmtsError(
          'MITMTS_ERR_INJECT',
          `Cannot construct addon ${name}: constructor parameter ${i + 1} has no injection token. Add @inject(TOKEN) (e.g. @inject(OPTIONS)) to it.`,
        );
      }
      try {
        args.push(scoped.resolve(key as never));
      } catch (err) {
        throw new MitmtsError(
          'MITMTS_ERR_INJECT',
          `Cannot construct addon ${name}: nothing is registered for constructor parameter ${i + 1} (${describeKey(key)}).`,
          { cause: err },
        );
      }
    }
    try {
      return new (ctor as unknown as new (...a: unknown[]) => object)(...args);
    } catch (err) {
      throw new MitmtsError(
        'MITMTS_ERR_ADDON_LOAD',
        `addon ${name}: constructor failed: ${(err as Error)?.message ?? String(err)}`,
        { cause: err },
      );
    }
  }

  /** Options, commands, `load`, deferred values: for a record and its children. */
  private async loadRecord(record: AddonRecord, replacing?: AddonRecord): Promise<void> {
    const registered: AddonRecord[] = [];
    const visit = async (r: AddonRecord): Promise<void> => {
      for (const o of r.meta.options) {
        this.options.declare(o.spec, r.name);
        this.bindOption(r.instance, o.key, o.spec.name);
      }
      for (const c of r.meta.commands) {
        const fn = (r.instance as Record<string | symbol, unknown>)[c.key];
        if (typeof fn !== 'function') continue;
        this.commands.add(c.spec, fn as (...a: never[]) => unknown, r.name, r.instance);
      }
      registered.push(r);
      const load = (r.instance as { load?: unknown }).load;
      const loadHooks = r.meta.hooks.filter((h) => h.hook === 'load');
      try {
        if (typeof load === 'function' && !r.meta.hooks.some((h) => h.key === 'load'))
          await load.call(r.instance, this.loader(r));
        for (const h of loadHooks)
          await (r.instance as Record<string | symbol, (l: Loader) => unknown>)[h.key]!(this.loader(r));
      } catch (err) {
        if (err instanceof OptionsError) throw err;
        throw new MitmtsError(
          'MITMTS_ERR_ADDON_LOAD',
          `addon ${r.name}: load failed: ${(err as Error)?.message ?? String(err)}`,
          { cause: err },
        );
      }
      for (const child of r.children) await visit(child);
    };
    try {
      await visit(record);
    } catch (err) {
      if (replacing) this.restoreCommands(replacing, registered);
      else for (const r of registered) this.unregisterCommands(r);
      throw err;
    }
    this.options.processDeferred();
  }

  private async afterJoin(record: AddonRecord): Promise<void> {
    if (this.running) await this.configureRecord(record);
    if (this.stateValue === 'running') await this.addons.tableFor(record).trigger('running');
  }

  private async configureRecord(record: AddonRecord): Promise<void> {
    await this.addons.tableFor(record).trigger('configure', new Set(this.options.names()));
    this.addons.refresh(); // a record already in the chain (addRecord) is asked for its activeWhen again
  }

  private loader(r: AddonRecord): Loader {
    return {
      addOption: <T extends OptionTypeName>(
        spec: string | OptionSpec<T>,
        type?: T,
        defaultValue?: OptionValue<T>,
        help?: string,
        choices?: readonly string[],
      ) => {
        if (typeof spec !== 'string') return this.options.declare(spec, r.name);
        this.options.declare(
          { name: spec, type: type!, default: defaultValue!, help: help ?? '', ...(choices ? { choices } : {}) },
          r.name,
        );
      },
      addCommand: (name: string, fn: (...args: never[]) => unknown, spec?: Omit<CommandSpec, 'name'>) => {
        this.commands.add({ ...spec, name }, fn, r.name);
      },
    };
  }

  /** The decorated property reads the option's current value; assigning sets the option. */
  private bindOption(instance: object, key: string | symbol, name: string): void {
    const options = this.options;
    Object.defineProperty(instance, key, {
      configurable: true,
      enumerable: true,
      get: () => options.get(name),
      set: (value: unknown) => options.update({ [name]: value }),
    });
  }

  private async finish(record: AddonRecord): Promise<void> {
    await this.finishQuiet(record);
    this.unregisterCommands(record);
  }

  private async finishQuiet(record: AddonRecord): Promise<void> {
    try {
      await this.addons.tableFor(record).trigger('done');
    } catch (err) {
      this.addons.reportError(record.name, 'done', err);
    }
  }

  private commandNames(record: AddonRecord): Set<string> {
    const out = new Set<string>();
    const walk = (r: AddonRecord): void => {
      for (const c of r.meta.commands) out.add(c.spec.name);
      r.children.forEach(walk);
    };
    walk(record);
    return out;
  }

  /** A replacement failed to load: the old addon's commands point at it again; new names go. */
  private restoreCommands(old: AddonRecord, tried: readonly AddonRecord[]): void {
    const oldNames = this.commandNames(old);
    for (const r of tried)
      for (const c of r.meta.commands) if (!oldNames.has(c.spec.name)) this.commands.remove(c.spec.name);
    const walk = (r: AddonRecord): void => {
      for (const c of r.meta.commands) {
        const fn = (r.instance as Record<string | symbol, unknown>)[c.key];
        if (typeof fn === 'function') this.commands.add(c.spec, fn as (...a: never[]) => unknown, r.name, r.instance);
      }
      r.children.forEach(walk);
    };
    walk(old);
  }

  private unregisterCommands(record: AddonRecord): void {
    this.commands.removeOwner(record.name);
    record.children.forEach((c) => this.unregisterCommands(c));
  }
}

const SERVICE = Symbol.for('mitmts.serviceToken');

/**
 * A kernel service class (`constructor(options: OptionsManager)`, injected by its type) from
 * another copy of @mitmts/core is not this copy's class: it names the shared token to use.
 */
function serviceToken(container: DependencyContainer, key: unknown): unknown {
  if (typeof key !== 'function' || container.isRegistered(key as never, true)) return key;
  return Object.prototype.hasOwnProperty.call(key, SERVICE) ? (key as unknown as { [SERVICE]: unknown })[SERVICE] : key;
}

for (const [cls, service] of [
  [Kernel, KERNEL],
  [OptionsManager, OPTIONS],
  [CommandManager, COMMANDS],
  [Logger, LOG],
  [HookDispatcher, ADDONS],
  [FlowStore, FLOWS],
] as const) {
  Object.defineProperty(cls, SERVICE, { value: service });
}

function isClass(input: AddonInput): input is abstract new (...args: never[]) => object {
  return typeof input === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(input));
}

function addonName(instance: object, meta: ClassMeta): string {
  if (meta.addon?.name) return meta.addon.name;
  const own = (instance as { name?: unknown }).name;
  if (typeof own === 'string' && own) return own;
  const ctorName = instance.constructor?.name;
  if (ctorName && ctorName !== 'Object') return ctorName.toLowerCase();
  throw new MitmtsError(
    'MITMTS_ERR_ADDON_INVALID',
    'An addon object needs a name: give it a `name` property or use a class with @addon({ name }).',
  );
}

function describeKey(key: unknown): string {
  if (typeof key === 'symbol') return key.description ?? 'a symbol token';
  if (typeof key === 'function') return key.name || 'an anonymous class';
  return String(key);
}
