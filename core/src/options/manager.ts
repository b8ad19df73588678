import { OptionsError, compareNames, didYouMean } from '../kernel/errors.js';
import type { OptionInfo, OptionSpec, OptionTypeName, OptionValue } from './types.js';
import { checkValue, parseValues, show, valuesEqual } from './values.js';

/** Where a deferred value came from, so a late error can point at it. */
export interface ValueSource {
  /** e.g. `--set`, `--anticache`, `/home/u/.mitmproxy/config.yaml:3` */
  readonly label: string;
  /** A deferred value nobody claims is dropped silently instead of being an error. */
  readonly optional?: boolean;
}

interface Entry {
  spec: OptionSpec;
  owner: string;
  value: OptionValue;
}

/** One source for a whole update, or one per option name (config.yaml: each key's line). */
export type SourceOf = ValueSource | ((name: string) => ValueSource);

function sourceFor(source: SourceOf | undefined, name: string, fallback: string): ValueSource {
  if (source === undefined) return { label: fallback };
  return typeof source === 'function' ? source(name) : source;
}

/** ` (from <label>)` for error messages, or nothing without a source. */
function where(source: SourceOf | undefined, name: string): string {
  return source === undefined ? '' : ` (from ${sourceFor(source, name, '').label})`;
}

type Deferred =
  | { kind: 'typed'; value: unknown; source: ValueSource }
  | { kind: 'strings'; values: Array<string | undefined>; source: ValueSource };

/** Called after every applied change with the set of changed names; throw OptionsError to roll back. */
export type ConfigureListener = (updated: ReadonlySet<string>) => void;

/**
 * The options registry: addons declare typed options; values come from defaults, config.yaml,
 * `--set` and flags. Every update is atomic: all values are checked first, one bad value rejects
 * the whole update, and an `OptionsError` thrown by a `configure` listener rolls it back.
 * Values for options nobody has declared yet can be deferred until an addon declares them.
 */
export class OptionsManager {
  private readonly entries = new Map<string, Entry>();
  private readonly deferred = new Map<string, Deferred>();
  private readonly listeners: ConfigureListener[] = [];

  /** Register an option. Re-declaring by the same owner (a reload) keeps the current value. */
  declare<T extends OptionTypeName>(spec: OptionSpec<T>, owner: string): void {
    const existing = this.entries.get(spec.name);
    if (existing && existing.owner !== owner) {
      throw new OptionsError(
        `Option ${spec.name} is declared twice: by ${existing.owner} and by ${owner}. Rename one of them.`,
        'MITMTS_ERR_OPTION_DUPLICATE',
      );
    }
    if (!/^[a-z][a-z0-9_]*$/.test(spec.name)) {
      throw new OptionsError(
        `Option name ${show(spec.name)} (declared by ${owner}) must be lower snake_case, e.g. my_option.`,
        'MITMTS_ERR_OPTION_INVALID',
      );
    }
    const frozen: OptionSpec = Object.freeze({ ...spec, default: checkValue(spec, spec.default, ' (default)') });
    let value = frozen.default;
    if (existing) {
      try {
        value = checkValue(frozen, existing.value);
      } catch {
        value = frozen.default;
      }
    }
    this.entries.set(spec.name, { spec: frozen, owner, value });
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The current value; throws for an unknown option, with suggestions. */
  get<V extends OptionValue = OptionValue>(name: string): V {
    const e = this.entries.get(name);
    if (!e) throw this.unknown(name);
    return e.value as V;
  }

  /** Spec, owner and value of one option. */
  info(name: string): OptionInfo {
    const e = this.entries.get(name);
    if (!e) throw this.unknown(name);
    return { ...e.spec, owner: e.owner, value: e.value };
  }

  /** Every option, sorted by name. */
  list(): OptionInfo[] {
    return [...this.entries.values()]
      .map((e) => ({ ...e.spec, owner: e.owner, value: e.value }))
      .sort((a, b) => compareNames(a.name, b.name));
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Subscribe to applied changes (the kernel forwards them to every addon's `configure`). */
  onConfigure(listener: ConfigureListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * Set typed values atomically. Unknown names are an error, or, with `defer`, kept until an
   * addon declares them.
   */
  update(changes: Readonly<Record<string, unknown>>, opts: { defer?: boolean; source?: SourceOf } = {}): void {
    const typed = new Map<string, OptionValue>();
    const later = new Map<string, Deferred>();
    for (const [name, value] of Object.entries(changes)) {
      const e = this.entries.get(name);
      if (!e) {
        if (!opts.defer) throw this.unknown(name);
        later.set(name, { kind: 'typed', value, source: sourceFor(opts.source, name, 'update') });
        continue;
      }
      typed.set(name, checkValue(e.spec, value, where(opts.source, name)));
    }
    this.apply(typed, (name) => where(opts.source, name));
    for (const [k, v] of later) this.deferred.set(k, v);
  }

  /**
   * Set options from `name=value` strings, as `--set` and the `set` command do. Several strings
   * for the same sequence option append; a bare `name` means true / null / empty list.
   */
  set(specs: readonly string[], opts: { defer?: boolean; source?: ValueSource } = {}): void {
    const grouped = new Map<string, Array<string | undefined>>();
    for (const s of specs) {
      const i = s.indexOf('=');
      const name = (i < 0 ? s : s.slice(0, i)).trim();
      const value = i < 0 ? undefined : s.slice(i + 1);
      if (!grouped.has(name)) grouped.set(name, []);
      grouped.get(name)!.push(value);
    }
    const typed = new Map<string, OptionValue>();
    const later = new Map<string, Deferred>();
    for (const [name, values] of grouped) {
      const e = this.entries.get(name);
      if (!e) {
        if (!opts.defer) throw this.unknown(name);
        later.set(name, { kind: 'strings', values, source: opts.source ?? { label: '--set' } });
        continue;
      }
      typed.set(name, parseValues(e.spec, values, e.value, where(opts.source, name)));
    }
    this.apply(typed, (name) => where(opts.source, name));
    for (const [k, v] of later) this.deferred.set(k, v);
  }

  /** Apply deferred values whose options are now declared. Returns the names applied. */
  processDeferred(): string[] {
    const typed = new Map<string, OptionValue>();
    for (const [name, d] of this.deferred) {
      const e = this.entries.get(name);
      if (!e) continue;
      typed.set(
        name,
        d.kind === 'typed'
          ? checkValue(e.spec, d.value, ` (from ${d.source.label})`)
          : parseValues(e.spec, d.values, e.value, ` (from ${d.source.label})`),
      );
    }
    if (typed.size === 0) return [];
    const sources = new Map<string, ValueSource>();
    for (const name of typed.keys()) {
      sources.set(name, this.deferred.get(name)!.source);
      this.deferred.delete(name);
    }
    this.apply(typed, (name) => where(sources.get(name), name));
    return [...typed.keys()];
  }

  /** Deferred values no addon has declared: each an error once every addon is loaded. */
  pendingDeferred(): Array<{ name: string; source: ValueSource }> {
    return [...this.deferred]
      .filter(([n, d]) => !this.entries.has(n) && !d.source.optional)
      .map(([name, d]) => ({ name, source: d.source }));
  }

  /** Throw the unknown-option error for the first deferred value nobody declared. */
  assertNoPending(): void {
    const [first] = this.pendingDeferred();
    if (first) {
      const err = this.unknown(first.name);
      throw new OptionsError(
        `${err.message.replace(/\.( Did|$)/, ` (from ${first.source.label}).$1`)}`,
        'MITMTS_ERR_UNKNOWN_OPTION',
      );
    }
  }

  /** Restore every option to its default. */
  reset(): void {
    const typed = new Map<string, OptionValue>();
    for (const [name, e] of this.entries) typed.set(name, e.spec.default);
    this.apply(typed);
  }

  resetOne(name: string): void {
    const e = this.entries.get(name);
    if (!e) throw this.unknown(name);
    this.apply(new Map([[name, e.spec.default]]));
  }

  /** Options whose value differs from the default. */
  changed(): Record<string, OptionValue> {
    const out: Record<string, OptionValue> = {};
    for (const [name, e] of this.entries) if (!valuesEqual(e.value, e.spec.default)) out[name] = e.value;
    return out;
  }

  /** Run the `check`s of the options in `typed` (other options read as after the update). */
  private runChecks(typed: ReadonlyMap<string, OptionValue>, whereOf: (name: string) => string): void {
    const get = (name: string): OptionValue => (typed.has(name) ? typed.get(name)! : this.get(name));
    for (const [name, value] of typed) {
      const spec = this.entries.get(name)!.spec;
      if (spec.unimplemented !== undefined && !valuesEqual(value, spec.default)) {
        throw new OptionsError(
          `Option ${name}${whereOf(name)}: ${spec.unimplemented} in mitmts yet, so only its default (${JSON.stringify(spec.default)}) is accepted.`,
          'MITMTS_ERR_OPTION_UNIMPLEMENTED',
        );
      }
      const why = spec.check?.(value, get);
      if (why !== undefined)
        throw new OptionsError(`Option ${name}${whereOf(name)}: ${why}`, 'MITMTS_ERR_OPTION_VALUE');
    }
  }

  private apply(typed: Map<string, OptionValue>, whereOf: (name: string) => string = () => ''): void {
    this.runChecks(typed, whereOf);
    const previous = new Map<string, OptionValue>();
    for (const [name, value] of typed) {
      const e = this.entries.get(name)!;
      if (valuesEqual(e.value, value)) continue;
      previous.set(name, e.value);
      e.value = value;
    }
    if (previous.size === 0) return;
    const updated: ReadonlySet<string> = new Set(previous.keys());
    try {
      for (const l of [...this.listeners]) l(updated);
    } catch (err) {
      // Roll back, and let every addon see the old values again.
      for (const [name, value] of previous) this.entries.get(name)!.value = value;
      for (const l of [...this.listeners]) {
        try {
          l(updated);
        } catch {
          // The old values were accepted before; a listener failing now has already been reported.
        }
      }
      throw err;
    }
  }

  private unknown(name: string): OptionsError {
    return new OptionsError(
      `Unknown option: ${name}.${didYouMean(name, this.entries.keys())}`,
      'MITMTS_ERR_UNKNOWN_OPTION',
    );
  }
}
