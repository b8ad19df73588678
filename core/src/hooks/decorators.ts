import type { ArgSpec, ArgValues, CommandSpec } from '../commands/types.js';
import { didYouMean, MitmtsError } from '../kernel/errors.js';
import { registry } from '../kernel/registry.js';
import type { OptionSpec, OptionTypeName, OptionValue } from '../options/types.js';
import { HOOK_NAMES, isHookName, type HookHandler, type HookName } from './hookmap.js';

/**
 * Decorator metadata lives in a WeakMap keyed by the class, never in a list of classes, so a
 * reloaded script's old classes are garbage-collected with their metadata. The WeakMap is the
 * process-wide registry's: an addon decorated by another copy of @mitmts/core keeps its metadata.
 */

/** A DI token: a symbol that remembers the type of what it resolves to. */
export type Token<T> = symbol & { readonly __type?: T };

/** Anything that can be injected: a typed token, or a class registered in the kernel container. */
export type InjectionKey<T = unknown> = Token<T> | (abstract new (...args: never[]) => T);

/** A new token, unique to this call. */
export function token<T>(description: string): Token<T> {
  return Symbol(description) as Token<T>;
}

/**
 * A token every copy of @mitmts/core in the process agrees on (`Symbol.for(key)`): the kernel's
 * services use these, so `@inject(OPTIONS)` from another copy resolves too. Namespace the key.
 */
export function sharedToken<T>(key: string): Token<T> {
  return Symbol.for(key) as Token<T>;
}

/** Where an addon sits in the chain: `pre` addons run first, `post` addons last, others in manifest order. */
export type AddonOrder = 'pre' | 'normal' | 'post';

export interface AddonMeta {
  /** Unique addon name, e.g. `anticache`; errors and logs carry it. */
  readonly name: string;
  readonly order?: AddonOrder;
  /** One line shown in listings. */
  readonly description?: string;
}

export interface OptionDecl {
  readonly key: string | symbol;
  readonly spec: OptionSpec;
}

export interface CommandDecl {
  readonly key: string | symbol;
  readonly spec: CommandSpec;
}

export interface HookDecl {
  readonly key: string | symbol;
  readonly hook: HookName;
  /** See {@link HookOptions.activeWhen}. */
  readonly activeWhen?: (addon: object) => boolean;
}

/** Hooks that always run: `activeWhen` is refused on them. */
const LIFECYCLE_HOOKS: ReadonlySet<HookName> = new Set(['load', 'configure', 'running', 'done']);

/** The options of {@link hook}. */
export interface HookOptions<T extends object> {
  /**
   * Whether the handler runs at all, given the addon's current state: asked when the addon joins
   * the chain and after every `configure` (option changes), never per event. While it answers
   * false the dispatcher leaves the handler out of its table, so an idle handler on a hot hook
   * (one `websocket_message` per message, one `request` per request) costs nothing. It must
   * depend only on what `configure` sets (option values and what is derived from them). Not
   * allowed on the lifecycle hooks (`load`, `configure`, `running`, `done`).
   */
  readonly activeWhen?: (addon: T) => boolean;
}

export interface ClassMeta {
  addon?: AddonMeta;
  readonly options: OptionDecl[];
  readonly commands: CommandDecl[];
  readonly hooks: HookDecl[];
  readonly injects: Array<InjectionKey | undefined>;
}

const META = registry.classMeta as WeakMap<object, ClassMeta>;

function own(ctor: object): ClassMeta {
  let m = META.get(ctor);
  if (!m) {
    m = { options: [], commands: [], hooks: [], injects: [] };
    META.set(ctor, m);
  }
  return m;
}

/** The decorator metadata of a class, merged with its base classes' (base first). */
export function getClassMeta(ctor: object): ClassMeta {
  const chain: ClassMeta[] = [];
  for (let c: object | null = ctor; c && c !== Function.prototype && c !== Object; c = Object.getPrototypeOf(c)) {
    const m = META.get(c);
    if (m) chain.unshift(m);
  }
  const out: ClassMeta = { options: [], commands: [], hooks: [], injects: [] };
  for (const m of chain) {
    if (m.addon) out.addon = m.addon;
    out.options.push(...m.options);
    out.commands.push(...m.commands);
    out.hooks.push(...m.hooks);
  }
  const last = META.get(ctor);
  if (last) out.injects.push(...last.injects);
  return out;
}

type AnyClass = abstract new (...args: never[]) => object;

/** Mark a class as an addon and name it. */
export function addon(meta: AddonMeta): <C extends AnyClass>(ctor: C) => void {
  return (ctor) => {
    own(ctor).addon = meta;
  };
}

/** The option declaration `@option` takes: a spec whose name defaults to the property's name. */
export interface OptionInput<T extends OptionTypeName> {
  readonly name?: string;
  readonly type: T;
  readonly default: OptionValue<T>;
  readonly help: string;
  readonly choices?: readonly string[];
  /** Bounds of an `int`/`int?` option (see `OptionSpec.min`). */
  readonly min?: number;
  readonly max?: number;
  /** A value check beyond type and bounds (see `OptionSpec.check`). */
  check?(value: OptionValue<T>, get: (name: string) => OptionValue): string | undefined;
}

/**
 * Declare an option on a property; the property then always reads the option's current value
 * (and assigning it sets the option). The property's type must match the option's type:
 * `@option({ type: 'bool', default: false, help: '...' }) anticache!: boolean;`
 */
export function option<T extends OptionTypeName>(
  input: OptionInput<T>,
): <K extends string>(target: { [P in K]: OptionValue<T> }, key: K) => void {
  return (target, key) => {
    const { name, ...rest } = input;
    const spec = { ...rest, name: name ?? key } as OptionSpec;
    own(target.constructor).options.push({ key, spec });
  };
}

export interface CommandInput<A extends readonly ArgSpec[]> {
  readonly help?: string;
  /** Argument types in order; the method's parameters must match them. */
  readonly args?: A;
  readonly returns?: string;
}

/**
 * Expose a method as a command: `@command('myaddon.inc', { args: ['int'] }) inc(n: number) {}`.
 * Arguments from a command line are parsed by their declared type.
 */
export function command<const A extends readonly ArgSpec[] = []>(
  name: string,
  input: CommandInput<A> = {},
): <M extends (...args: ArgValues<A>) => unknown>(
  target: object,
  key: string | symbol,
  desc: TypedPropertyDescriptor<M>,
) => void {
  return (target, key) => {
    own(target.constructor).commands.push({
      key,
      spec: {
        name,
        help: input.help ?? '',
        args: input.args ?? [],
        ...(input.returns ? { returns: input.returns } : {}),
      },
    });
  };
}

/**
 * Run a method on a hook: `@hook('response') onResponse(flow: HTTPFlow) {}`. The method's
 * parameters must fit the hook (see HookMap); it may return a promise, which is awaited.
 * `options.activeWhen` leaves the handler out while the addon's options make it idle:
 * `@hook('websocket_message', { activeWhen: (d: Dumper) => d.flow_detail > 0 })`.
 * @throws MitmtsError (`MITMTS_ERR_UNKNOWN_HOOK`) for a name that is no hook (possible in plain
 * JavaScript), with the close names; (`MITMTS_ERR_ADDON_INVALID`) for `activeWhen` on a
 * lifecycle hook.
 */
export function hook<K extends HookName, T extends object = object>(
  name: K,
  options: HookOptions<T> = {},
): <M extends HookHandler<K>>(target: T, key: string | symbol, desc: TypedPropertyDescriptor<M>) => void {
  if (!isHookName(name)) {
    throw new MitmtsError(
      'MITMTS_ERR_UNKNOWN_HOOK',
      `@hook(${JSON.stringify(name)}): no such hook.${didYouMean(name, HOOK_NAMES)} The hooks are listed in docs/hooks.md.`,
    );
  }
  const activeWhen = options.activeWhen as ((addon: object) => boolean) | undefined;
  if (activeWhen !== undefined && LIFECYCLE_HOOKS.has(name)) {
    throw new MitmtsError(
      'MITMTS_ERR_ADDON_INVALID',
      `@hook(${JSON.stringify(name)}, { activeWhen }): ${name} always runs; activeWhen is for event hooks (request, websocket_message, ...).`,
    );
  }
  return (target, key) => {
    own(target.constructor).hooks.push(activeWhen ? { key, hook: name, activeWhen } : { key, hook: name });
  };
}

/**
 * Inject a kernel service (or anything registered in the kernel's container) into a constructor
 * parameter: `constructor(@inject(OPTIONS) private options: OptionsManager) {}`. Needed where no
 * `design:paramtypes` metadata exists (esbuild-compiled scripts), harmless elsewhere.
 */
export function inject<T>(
  key: InjectionKey<T>,
): (target: object, prop: string | symbol | undefined, index: number) => void {
  return (target, _prop, index) => {
    own(target).injects[index] = key as InjectionKey;
  };
}
