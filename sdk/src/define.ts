import {
  addon,
  didYouMean,
  HOOK_NAMES,
  inject,
  isHookName,
  LOG,
  MitmtsError,
  OPTIONS,
  type AddonOrder,
  type ArgSpec,
  type ArgValues,
  type HookMap,
  type HookName,
  type HookResult,
  type Loader,
  type Logger,
  type OptionsManager,
  type OptionTypeName,
  type OptionValue,
} from '@mitmts/core';

/**
 * `defineAddon({...})`: an addon as one typed object instead of a decorated class, for scripts
 * and small addons. Hooks are keyed by name and typed by the hook map (a misspelt hook or a
 * wrong parameter does not compile), options are typed by their declared type, and commands by
 * their declared arguments, exactly as `@hook`, `@option` and `@command` check a class.
 */

/** An option: its type, default and help; its name is its key in `options`. */
export interface OptionDefinition<T extends OptionTypeName = OptionTypeName> {
  readonly type: T;
  readonly default: OptionValue<T>;
  /** User documentation, printed by `--options`. */
  readonly help: string;
  /** Allowed values (`str`, `str?` and `str[]` options). */
  readonly choices?: readonly string[];
}

/** The definition an option entry must satisfy: its default must fit its own type. */
export type CheckedOption<D> = D extends { readonly type: infer T extends OptionTypeName }
  ? OptionDefinition<T>
  : OptionDefinition;

/** The current values of a set of options, by name and typed; assigning one sets the option. */
export type OptionValues<O> = {
  -readonly [K in keyof O]: O[K] extends { readonly type: infer T extends OptionTypeName } ? OptionValue<T> : never;
};

/** What hooks and commands of a defined addon get as `this`. */
export interface DefinedAddonContext<O> {
  /** The addon's options (reading gives the current value). */
  readonly options: OptionValues<O>;
  /** A logger whose entries carry the addon's name. */
  readonly log: Logger;
}

/** A command: `args` declares the argument types the `run` function receives. */
export interface CommandDefinition<A extends readonly ArgSpec[], O> {
  readonly help?: string;
  readonly args?: A;
  /** Shown in listings, e.g. `int`, `str[]`. */
  readonly returns?: string;
  run(this: DefinedAddonContext<O>, ...args: NoInfer<ArgValues<A>>): unknown;
}

/** Hook handlers by hook name, each typed by the hook map. */
export type DefinedHooks<O> = { [K in HookName]?: (this: DefinedAddonContext<O>, ...args: HookMap[K]) => HookResult };

export interface AddonDefinition<O, C extends Readonly<Record<string, readonly ArgSpec[]>>> {
  /** Unique addon name, e.g. `stamp`; logs and errors carry it. */
  readonly name: string;
  /** `pre` addons run first, `post` addons last, the rest in the order they were added. */
  readonly order?: AddonOrder;
  /** One line shown in listings. */
  readonly description?: string;
  /** Options by name (mitmproxy style: snake_case, prefixed with the addon's name). */
  readonly options?: O & { readonly [K in keyof O]: CheckedOption<O[K]> };
  /** Commands by name (`stamp.count`). */
  readonly commands?: { readonly [K in keyof C]: CommandDefinition<C[K], O> };
  readonly hooks?: DefinedHooks<O>;
}

/** The class `defineAddon` returns: load it like any addon class (the kernel constructs it). */
export type DefinedAddon<O> = new (options: OptionsManager, log: Logger) => DefinedAddonContext<O>;

/**
 * Define an addon as one typed object:
 *
 * ```ts
 * export default defineAddon({
 *   name: 'stamp',
 *   options: { stamp_value: { type: 'str', default: 'mitmts', help: 'Value of the x-stamp header.' } },
 *   hooks: {
 *     response(flow) { flow.response?.headers.set('x-stamp', this.options.stamp_value); },
 *   },
 *   commands: {
 *     'stamp.set': { args: ['str'], run(value) { this.options.stamp_value = value; } },
 *   },
 * });
 * ```
 *
 * Returns a class, so each kernel that loads it gets its own instance (and its own options).
 */
export function defineAddon<
  const O extends Readonly<Record<string, OptionDefinition>> = Record<never, never>,
  const C extends Readonly<Record<string, readonly ArgSpec[]>> = Record<never, never>,
>(def: AddonDefinition<O, C>): DefinedAddon<O> {
  const options = Object.entries((def.options ?? {}) as Readonly<Record<string, OptionDefinition>>);
  const commands = Object.entries(
    (def.commands ?? {}) as Readonly<Record<string, CommandDefinition<readonly ArgSpec[], O>>>,
  );
  const hooks = (def.hooks ?? {}) as Readonly<Record<string, (...args: unknown[]) => HookResult>>;

  class Defined implements DefinedAddonContext<O> {
    readonly options: OptionValues<O>;

    constructor(
      manager: OptionsManager,
      readonly log: Logger,
    ) {
      const values = {};
      for (const [name] of options) {
        Object.defineProperty(values, name, {
          enumerable: true,
          get: () => manager.get(name),
          set: (v: unknown) => manager.update({ [name]: v }),
        });
      }
      this.options = values as OptionValues<O>;
    }

    load(loader: Loader): HookResult {
      for (const [name, o] of options) loader.addOption(name, o.type, o.default, o.help, o.choices);
      for (const [name, c] of commands) {
        const spec = {
          ...(c.help !== undefined ? { help: c.help } : {}),
          ...(c.args ? { args: c.args } : {}),
          ...(c.returns ? { returns: c.returns } : {}),
        };
        loader.addCommand(name, c.run.bind(this) as (...args: never[]) => unknown, spec);
      }
      return hooks.load?.call(this, loader);
    }
  }
  for (const [name, fn] of Object.entries(hooks)) {
    if (!isHookName(name)) {
      throw new MitmtsError(
        'MITMTS_ERR_UNKNOWN_HOOK',
        `defineAddon ${def.name}: hooks.${name} is no hook.${didYouMean(name, HOOK_NAMES)} The hooks are listed in docs/hooks.md.`,
      );
    }
    if (name !== 'load')
      Object.defineProperty(Defined.prototype, name, { value: fn, writable: true, configurable: true });
  }
  addon({
    name: def.name,
    ...(def.order ? { order: def.order } : {}),
    ...(def.description ? { description: def.description } : {}),
  })(Defined);
  inject(OPTIONS)(Defined, undefined, 0);
  inject(LOG)(Defined, undefined, 1);
  return Defined;
}
