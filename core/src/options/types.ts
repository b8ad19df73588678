/**
 * Option types, as mitmproxy has them: `bool`, `str`, `int`, `Optional[str]` (`str?`),
 * `Optional[int]` (`int?`) and `Sequence[str]` (`str[]`). A `str` or `str[]` option may carry
 * `choices`. Specs are plain data: the command line, `--options` and docs read them without
 * starting anything.
 */
export type OptionTypeName = 'bool' | 'str' | 'int' | 'str?' | 'int?' | 'str[]';

/** The TypeScript type of an option's value for each option type. */
export interface OptionValueTypes {
  bool: boolean;
  str: string;
  int: number;
  'str?': string | null;
  'int?': number | null;
  'str[]': readonly string[];
}

export type OptionValue<T extends OptionTypeName = OptionTypeName> = OptionValueTypes[T];

export interface OptionSpec<T extends OptionTypeName = OptionTypeName> {
  /** Option name, mitmproxy style (snake_case), e.g. `listen_port`. */
  readonly name: string;
  readonly type: T;
  readonly default: OptionValue<T>;
  /** User documentation: printed by `--options` and `--help`. */
  readonly help: string;
  /** Allowed values (for `str`, `str?` and `str[]` options). */
  readonly choices?: readonly string[];
  /** Smallest allowed value (for `int` and `int?` options). */
  readonly min?: number;
  /** Largest allowed value (for `int` and `int?` options). */
  readonly max?: number;
  /**
   * Set when the option is declared (for mitmproxy compatibility) but this build does not do
   * what it asks yet: what is missing, e.g. `QUIC and HTTP/3 are not implemented`. Any value
   * but the default is refused with that reason; `--help` lists no flag for it.
   */
  readonly unimplemented?: string;
  /**
   * A check beyond type, choices and bounds, run whenever the option changes (before any
   * addon's `configure` sees the value): return why `value` is bad (a phrase completing
   * "Option NAME: ...", naming the fix), or undefined. `get` reads other options as they will be
   * after this update. Not part of the plain-data spec (not printed, not serialized).
   */
  check?(value: OptionValue<T>, get: (name: string) => OptionValue): string | undefined;
}

/** A registered option: its spec, its owner and its current value. */
export interface OptionInfo<T extends OptionTypeName = OptionTypeName> extends OptionSpec<T> {
  /** Name of the addon that declared it (`core` for the kernel's own options). */
  readonly owner: string;
  readonly value: OptionValue<T>;
}

/** How option types are printed (`--options`, errors): mitmproxy's own words. */
export const TYPE_DESCRIPTIONS: Record<OptionTypeName, string> = {
  bool: 'bool',
  str: 'str',
  int: 'int',
  'str?': 'optional str',
  'int?': 'optional int',
  'str[]': 'sequence of str',
};
