/**
 * Python's `re.sub` and `match.group` on top of the translated patterns: replacement templates
 * (`\1`, `\g<name>`, `\g<0>`, `\n` and the other escapes, octal `\0`/`\123`) parsed and checked
 * as CPython does, and Python group numbers mapped to the JavaScript groups of the translation
 * (which adds groups of its own to emulate atomic groups). Bytes patterns and templates are
 * latin1 strings, one char per byte, as in index.ts.
 */
import { PyRegexError, type PyFlags } from './ast.js';
import { emitPyRegex } from './emit.js';
import { parsePyRegex } from './parse.js';
import type { PyRegexOptions } from './index.js';

/** A compiled Python pattern plus what `re.sub` and `match.group` need. */
export interface PyPattern {
  /** The Python pattern text. */
  readonly pattern: string;
  readonly binary: boolean;
  /** Search semantics (`exec`/`test`), no `g` flag. */
  readonly regex: RegExp;
  /** The same with the `g` flag, for replacing every match. */
  readonly globalRegex: RegExp;
  /** Number of Python capture groups. */
  readonly groups: number;
  /** JavaScript group number for each Python group number (`[0]` is the whole match). */
  readonly groupIndex: readonly number[];
  /** Python group number of each named group. */
  readonly names: ReadonlyMap<string, number>;
}

/** A parsed replacement template: literal text and Python group numbers, in order. */
export type PyTemplate = ReadonlyArray<string | number>;

/**
 * Compile a Python regex for search and substitution.
 * @throws PyRegexError if Python would reject the pattern.
 */
export function compilePyPattern(pattern: string, opts: PyRegexOptions = {}): PyPattern {
  const binary = opts.binary ?? false;
  const flags: PyFlags = { i: !!opts.ignoreCase, m: !!opts.multiline, s: !!opts.dotAll, x: false, a: binary };
  const { node, groups } = parsePyRegex(pattern, binary, flags);
  const e = emitPyRegex(node, binary);
  let regex: RegExp;
  let globalRegex: RegExp;
  try {
    regex = new RegExp(e.source, e.flags);
    globalRegex = new RegExp(e.source, e.flags + 'g');
  } catch (err) {
    throw new PyRegexError(`cannot translate pattern to a JavaScript RegExp (${(err as Error).message})`, 0);
  }
  return { pattern, binary, regex, globalRegex, groups, groupIndex: e.groups, names: e.names };
}

/** Python's `match.group(n)`: the text of group `n` of a match of `p`, or undefined if it did not take part. */
export function pyGroup(p: PyPattern, m: RegExpExecArray, n: number): string | undefined {
  const js = p.groupIndex[n];
  return js === undefined ? undefined : m[js];
}

const TEMPLATE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
};
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isOct = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '7';
const isAsciiLetter = (c: string): boolean => /^[A-Za-z]$/.test(c);

/**
 * Parse a replacement template as `re.sub` does for pattern `p`.
 * @throws PyRegexError for a bad escape, an unknown group name or a group number `p` lacks.
 */
export function compilePyTemplate(template: string, p: PyPattern): PyTemplate {
  const out: Array<string | number> = [];
  let lit = '';
  const group = (n: number, pos: number): void => {
    if (n > p.groups) throw new PyRegexError(`invalid group reference ${n}`, pos);
    if (lit) out.push(lit);
    lit = '';
    out.push(n);
  };
  let i = 0;
  while (i < template.length) {
    const ch = template[i]!;
    if (ch !== '\\') {
      lit += ch;
      i++;
      continue;
    }
    const start = i;
    const c = template[i + 1];
    if (c === undefined) throw new PyRegexError('bad escape (end of pattern)', start);
    i += 2;
    if (c === 'g') {
      if (template[i] !== '<') throw new PyRegexError('missing <', i);
      const end = template.indexOf('>', i + 1);
      if (end < 0) throw new PyRegexError('missing >, unterminated name', i + 1);
      const name = template.slice(i + 1, end);
      if (!name) throw new PyRegexError('missing group name', i + 1);
      const ident = p.binary ? /^[A-Za-z_][A-Za-z0-9_]*$/ : /^[\p{ID_Start}_][\p{ID_Continue}]*$/u;
      if (ident.test(name)) {
        const n = p.names.get(name);
        if (n === undefined) throw new PyRegexError(`unknown group name '${name}'`, i + 1);
        group(n, i + 1);
      } else if (/^[0-9]+$/.test(name)) {
        group(Number(name), i + 1);
      } else {
        throw new PyRegexError(`bad character in group name '${name}'`, i + 1);
      }
      i = end + 1;
    } else if (c === '0') {
      let digits = '0';
      if (isOct(template[i])) digits += template[i++];
      if (isOct(template[i])) digits += template[i++];
      lit += String.fromCharCode(Number.parseInt(digits, 8) & 0xff);
    } else if (isDigit(c)) {
      let digits = c;
      if (isDigit(template[i])) {
        digits += template[i++];
        if (isOct(c) && isOct(digits[1]) && isOct(template[i])) {
          digits += template[i++];
          const v = Number.parseInt(digits, 8);
          if (v > 0o377) throw new PyRegexError(`octal escape value \\${digits} outside of range 0-0o377`, start);
          lit += String.fromCharCode(v);
          continue;
        }
      }
      group(Number(digits), start + 1);
    } else if (c in TEMPLATE_ESCAPES) {
      lit += TEMPLATE_ESCAPES[c];
    } else if (isAsciiLetter(c)) {
      throw new PyRegexError(`bad escape \\${c}`, start);
    } else {
      lit += '\\' + c;
    }
  }
  if (lit) out.push(lit);
  return out;
}

/**
 * Python's `re.sub(p, template, subject, count)`: replace every match (or the first `count`),
 * empty matches included as Python 3.7+ does. Groups that did not take part become empty.
 * @throws PyRegexError if `template` is a string that does not parse (see {@link compilePyTemplate}).
 */
export function pySub(p: PyPattern, template: PyTemplate | string, subject: string, count = 0): string {
  const parts = typeof template === 'string' ? compilePyTemplate(template, p) : template;
  let n = 0;
  const re = p.globalRegex;
  re.lastIndex = 0;
  return subject.replace(re, (...args: unknown[]) => {
    if (count > 0 && n >= count) return args[0] as string;
    n++;
    let s = '';
    for (const part of parts) {
      if (typeof part === 'string') s += part;
      else s += (args[p.groupIndex[part]!] as string | undefined) ?? '';
    }
    return s;
  });
}
