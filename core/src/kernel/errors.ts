/**
 * Every error the kernel raises, declared once with a stable code. Tests assert on `code`;
 * messages say what went wrong, where, and how to fix it.
 */
export type ErrorCode =
  | 'MITMTS_ERR_UNKNOWN_OPTION'
  | 'MITMTS_ERR_OPTION_TYPE'
  | 'MITMTS_ERR_OPTION_CHOICE'
  | 'MITMTS_ERR_OPTION_RANGE'
  | 'MITMTS_ERR_OPTION_VALUE'
  | 'MITMTS_ERR_OPTION_UNIMPLEMENTED'
  | 'MITMTS_ERR_OPTION_DUPLICATE'
  | 'MITMTS_ERR_OPTION_INVALID'
  | 'MITMTS_ERR_CONFIG_FILE'
  | 'MITMTS_ERR_UNKNOWN_COMMAND'
  | 'MITMTS_ERR_COMMAND_ARGS'
  | 'MITMTS_ERR_COMMAND_DUPLICATE'
  | 'MITMTS_ERR_COMMAND_FAILED'
  | 'MITMTS_ERR_ADDON_DUPLICATE'
  | 'MITMTS_ERR_ADDON_INVALID'
  | 'MITMTS_ERR_ADDON_LOAD'
  | 'MITMTS_ERR_UNKNOWN_HOOK'
  | 'MITMTS_ERR_INJECT'
  | 'MITMTS_ERR_CLI_USAGE'
  | 'MITMTS_ERR_MANIFEST';

const BRAND = Symbol.for('mitmts.brand');

/**
 * `value instanceof cls`, also true for an instance of the same class from another copy of
 * @mitmts/core (an addon that brought its own): classes carry a `Symbol.for` brand, and an
 * instance matches when a class on its prototype chain has the same brand.
 */
function isInstance(cls: object, value: unknown): boolean {
  if (Function.prototype[Symbol.hasInstance].call(cls, value)) return true;
  if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(cls, BRAND)) return false;
  const brand = (cls as { [BRAND]: string })[BRAND];
  for (let p: unknown = Object.getPrototypeOf(value); p; p = Object.getPrototypeOf(p)) {
    const ctor = (p as { constructor?: unknown }).constructor;
    if (
      typeof ctor === 'function' &&
      Object.prototype.hasOwnProperty.call(ctor, BRAND) &&
      (ctor as unknown as { [BRAND]: string })[BRAND] === brand
    )
      return true;
  }
  return false;
}

function brand(cls: object, name: string): void {
  Object.defineProperty(cls, BRAND, { value: `mitmts.${name}` });
}

export class MitmtsError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'MitmtsError';
  }

  /** Recognises errors of the same class from another copy of @mitmts/core. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, value);
  }
}

/**
 * An invalid option value or option update. Raised by the options manager, and by addons'
 * `configure` hooks to reject a change: the whole update is then rolled back.
 */
export class OptionsError extends MitmtsError {
  constructor(message: string, code: ErrorCode = 'MITMTS_ERR_OPTION_INVALID') {
    super(code, message);
    this.name = 'OptionsError';
  }
}

/** A command that cannot run: unknown, wrong arity, wrong argument type, or failed. */
export class CommandError extends MitmtsError {
  constructor(message: string, code: ErrorCode = 'MITMTS_ERR_COMMAND_FAILED') {
    super(code, message);
    this.name = 'CommandError';
  }
}

/** Thrown by a hook to stop dispatch to later addons for this event (silently). */
export class AddonHalt extends Error {
  constructor() {
    super('AddonHalt');
    this.name = 'AddonHalt';
  }

  /** Recognises an AddonHalt from another copy of @mitmts/core. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, value);
  }
}

// The classes the kernel tells apart with `instanceof` (the dispatcher: halt, rejected options).
brand(MitmtsError, 'MitmtsError');
brand(OptionsError, 'OptionsError');
brand(CommandError, 'CommandError');
brand(AddonHalt, 'AddonHalt');

/**
 * Order names by code unit, as Python's sorted() does (mitmproxy's listings). Not localeCompare:
 * that loads ICU's collation data, over 2 MiB of resident memory for an idle proxy.
 */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Close names for "did you mean" suggestions, best first (Levenshtein distance). */
export function closeMatches(word: string, candidates: Iterable<string>, max = 3): string[] {
  const scored: Array<[number, string]> = [];
  const limit = Math.max(2, Math.floor(word.length / 3));
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d <= limit || c.startsWith(word) || (word.length >= 4 && c.includes(word))) scored.push([d, c]);
  }
  scored.sort((a, b) => a[0] - b[0] || compareNames(a[1], b[1]));
  const best = scored[0]?.[0] ?? 0;
  return scored
    .filter(([d]) => d <= best)
    .slice(0, max)
    .map(([, c]) => c);
}

export function didYouMean(word: string, candidates: Iterable<string>): string {
  const m = closeMatches(word, candidates);
  if (m.length === 0) return '';
  return ` Did you mean ${m.slice(0, -1).join(', ')}${m.length > 1 ? ' or ' : ''}${m[m.length - 1]}?`;
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
