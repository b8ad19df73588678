/**
 * The syntax tree of a Python `re` pattern, as produced by parse.ts and turned into a JavaScript
 * RegExp by emit.ts. Flag-dependent nodes record the flags in effect where they appeared, so
 * scoped flags (`(?i:...)`) need no support from the JavaScript engine.
 */

/** Python regex flags that affect parsing or matching. */
export interface PyFlags {
  /** IGNORECASE */
  i: boolean;
  /** MULTILINE: `^`/`$` at line boundaries (LF only). */
  m: boolean;
  /** DOTALL: `.` matches LF. */
  s: boolean;
  /** VERBOSE: whitespace and `#` comments ignored. */
  x: boolean;
  /** ASCII: `\w`, `\d`, `\s`, `\b` and case folding are ASCII-only (always true for bytes). */
  a: boolean;
}

/** `\d \D \w \W \s \S` */
export type Category = 'd' | 'D' | 'w' | 'W' | 's' | 'S';

export type SetItem = { k: 'char'; cp: number } | { k: 'range'; lo: number; hi: number } | { k: 'cat'; cat: Category };

export type RNode =
  | { t: 'seq'; items: RNode[] }
  | { t: 'alt'; alts: RNode[] }
  | { t: 'char'; cp: number; i: boolean; a: boolean }
  | { t: 'any'; s: boolean }
  | { t: 'set'; neg: boolean; items: SetItem[]; i: boolean; a: boolean }
  | { t: 'cat'; cat: Category; a: boolean }
  | { t: 'at'; at: 'bol' | 'eol' | 'A' | 'Z' | 'b' | 'B'; m: boolean; a: boolean }
  | { t: 'group'; index: number | null; name: string | null; body: RNode }
  | { t: 'look'; behind: boolean; neg: boolean; body: RNode }
  | { t: 'atomic'; body: RNode }
  | { t: 'ref'; index: number; i: boolean }
  | { t: 'repeat'; body: RNode; min: number; max: number; lazy: boolean; possessive: boolean };

/** A pattern Python's `re` would reject, with the position (in code points) of the problem. */
export class PyRegexError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(`${message} at position ${pos}`);
    this.name = 'PyRegexError';
  }
}
