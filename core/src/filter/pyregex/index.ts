/**
 * Python `re` patterns compiled to JavaScript RegExps with Python's syntax, errors and matching
 * semantics (see parse.ts and emit.ts). Text patterns match strings; bytes patterns are given and
 * matched as latin1 strings (one char per byte), so a UTF-8 pattern finds UTF-8 bytes.
 */
import { PyRegexError, type PyFlags } from './ast.js';
import { parsePyRegex } from './parse.js';
import { emitPyRegex } from './emit.js';

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
  const { source, flags: jsFlags } = emitPyRegex(node, binary);
  try {
    return new RegExp(source, jsFlags);
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
