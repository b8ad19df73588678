/**
 * Python `re` patterns compiled to JavaScript RegExps with Python's syntax, errors and matching
 * semantics (see parse.ts and emit.ts). Text patterns match strings; bytes patterns are given and
 * matched as latin1 strings (one char per byte), so a UTF-8 pattern finds UTF-8 bytes.
 */
import { PyRegexError, type PyFlags } from './ast.js';
import { parsePyRegex } from './parse.js';
import { emitPyRegex } from './emit.js';
import { backtracking, emitRe2, Untranslatable } from './re2.js';
import { RE2JS } from 're2js';

export { PyRegexError, type PyFlags } from './ast.js';

/** Options for {@link compilePyRegex}. */
export interface PyRegexOptions {
  /** Bytes pattern: `pattern` is a latin1 string of the pattern's bytes; subjects are latin1 strings. */
  binary?: boolean;
  ignoreCase?: boolean;
  multiline?: boolean;
  dotAll?: boolean;
}

/**
 * Compile a Python regex. The result is used with `test`/`exec` (search semantics, no `g`).
 * @throws PyRegexError if Python would reject the pattern (or it uses an unsupported feature).
 */
export function compilePyRegex(pattern: string, opts: PyRegexOptions = {}): RegExp {
  const binary = opts.binary ?? false;
  const flags: PyFlags = { i: !!opts.ignoreCase, m: !!opts.multiline, s: !!opts.dotAll, x: false, a: binary };
  const { node } = parsePyRegex(pattern, binary, flags);
  return toRegExp(emitPyRegex(node, binary));
}

/** What a filter needs of a compiled pattern: a yes/no search. */
export interface RegexTester {
  test(subject: string): boolean;
}

/**
 * Subjects up to this length go to V8's backtracking engine when a pattern has one unbounded
 * repeat of a single character (`.*`, `\d+`): its worst case there is about n² steps (a million,
 * a few ms), and it is 20-50x faster than the linear-time engine on typical URLs and headers.
 */
export const BACKTRACK_SUBJECT_LIMIT = 1024;

/**
 * Compile a Python regex for a filter, safe from catastrophic backtracking: patterns whose
 * search is linear on a backtracking engine (no unbounded repeat, and no repeat of more than
 * one character) run on V8's; the others on re2js, a linear-time engine (with V8's kept for
 * short subjects when the only risk is one unbounded single-character repeat). A pattern that
 * needs the linear-time engine but uses what it lacks (lookaround, backreferences, ...) is a
 * PyRegexError saying so.
 */
export function compileFilterRegex(pattern: string, opts: PyRegexOptions = {}): RegexTester {
  const binary = opts.binary ?? false;
  const flags: PyFlags = { i: !!opts.ignoreCase, m: !!opts.multiline, s: !!opts.dotAll, x: false, a: binary };
  const { node } = parsePyRegex(pattern, binary, flags);
  const js = toRegExp(emitPyRegex(node, binary));
  const risk = backtracking(node);
  if (risk.unbounded === 0 && !risk.complex) return js;
  let source: string;
  try {
    source = emitRe2(node);
  } catch (err) {
    if (!(err instanceof Untranslatable)) throw err;
    throw new PyRegexError(
      `the pattern repeats without bound or repeats groups, which a backtracking engine can take hours to search in long input, ` +
        `so mitmts runs it on a linear-time engine; but it ${err.message}, which that engine cannot run. Rewrite the pattern without it`,
      0,
    );
  }
  let re2: RE2JS;
  try {
    re2 = RE2JS.compile(source);
  } catch (err) {
    throw new PyRegexError(`cannot translate pattern for the linear-time engine (${(err as Error).message})`, 0);
  }
  if (risk.unbounded === 1 && !risk.complex)
    return { test: (s) => (s.length <= BACKTRACK_SUBJECT_LIMIT ? js.test(s) : re2.test(s)) };
  return { test: (s) => re2.test(s) };
}

function toRegExp({ source, flags }: { source: string; flags: string }): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (err) {
    // A translation the engine rejects is our bug, not the user's: say so plainly.
    throw new PyRegexError(`cannot translate pattern to a JavaScript RegExp (${(err as Error).message})`, 0);
  }
}

/** The JavaScript source a Python pattern translates to (for debugging and tests). */
export function translatePyRegex(pattern: string, opts: PyRegexOptions = {}): { source: string; flags: string } {
  const binary = opts.binary ?? false;
  const flags: PyFlags = { i: !!opts.ignoreCase, m: !!opts.multiline, s: !!opts.dotAll, x: false, a: binary };
  return emitPyRegex(parsePyRegex(pattern, binary, flags).node, binary);
}

export { compilePyPattern, compilePyTemplate, pyGroup, pySub, type PyPattern, type PyTemplate } from './sub.js';
