/**
 * Python regex trees as RE2 syntax (run by re2js, a linear-time engine), for yes/no searches
 * only: what a filter needs. RE2 has no lookaround, backreferences, atomic groups or possessive
 * repeats, and only ASCII word boundaries; a pattern that needs one of them (or a `$` that is
 * not at the pattern's end, where Python's "before a final newline" needs a lookahead) is
 * {@link Untranslatable}. Groups become non-capturing and lazy repeats greedy: the answer to
 * "does it match somewhere?" is the same.
 */
import type { Category, RNode, SetItem } from './ast.js';
import { ASCII_SPACE, UNI_SPACE } from './emit.js';

/** Why a pattern cannot run on the linear-time engine (a phrase: "uses a lookbehind"). */
export class Untranslatable extends Error {
  override readonly name = 'Untranslatable';
}

/** RE2's largest repeat count. */
const MAX_REPEAT = 1000;

function hex(cp: number): string {
  if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a))
    return String.fromCharCode(cp);
  return `\\x{${cp.toString(16)}}`;
}

function ranges(list: ReadonlyArray<readonly [number, number]>): string {
  return list.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('');
}

/** Class body of a positive category (d, w, s), usable inside `[...]`. */
function catBody(base: 'd' | 'w' | 's', ascii: boolean): string {
  if (base === 'd') return ascii ? '0-9' : '\\p{Nd}';
  if (base === 'w') return ascii ? '0-9A-Za-z_' : '\\p{L}\\p{N}_';
  return ranges(ascii ? ASCII_SPACE : UNI_SPACE);
}

function catClass(cat: Category, ascii: boolean): string {
  const base = cat.toLowerCase() as 'd' | 'w' | 's';
  return `[${cat === base ? '' : '^'}${catBody(base, ascii)}]`;
}

/** ASCII case partners of a code point range (bytes patterns fold ASCII letters only). */
function asciiFold(lo: number, hi: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const add = (a: number, b: number, shift: number): void => {
    const l = Math.max(lo, a);
    const h = Math.min(hi, b);
    if (l <= h) out.push([l + shift, h + shift]);
  };
  add(0x61, 0x7a, -32);
  add(0x41, 0x5a, 32);
  return out;
}

function setItems(items: readonly SetItem[], fold: boolean, ascii: boolean): { body: string; negCats: Category[] } {
  let body = '';
  const negCats: Category[] = [];
  for (const it of items) {
    if (it.k === 'cat') {
      if (it.cat === 'D' || it.cat === 'W' || it.cat === 'S') negCats.push(it.cat);
      else body += catBody(it.cat, ascii);
      continue;
    }
    const [lo, hi] = it.k === 'char' ? [it.cp, it.cp] : [it.lo, it.hi];
    body += lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`;
    if (fold && ascii) for (const [l, h] of asciiFold(lo, hi)) body += l === h ? hex(l) : `${hex(l)}-${hex(h)}`;
  }
  return { body, negCats };
}

function emitSet(n: Extract<RNode, { t: 'set' }>): string {
  const { body, negCats } = setItems(n.items, n.i, n.a);
  // Text patterns fold case with RE2's Unicode folding, Python's too; bytes fold ASCII by hand.
  const wrap = (cls: string): string => (n.i && !n.a ? `(?i:${cls})` : cls);
  if (negCats.length === 0)
    return wrap(body === '' ? (n.neg ? '(?s:.)' : '[^\\x{0}-\\x{10ffff}]') : `[${n.neg ? '^' : ''}${body}]`);
  // A negated category in a class ([\W.]): RE2 classes cannot nest a negation; a union can.
  if (n.neg) throw new Untranslatable('uses a negated class containing \\D, \\W or \\S');
  const parts = negCats.map((c) => catClass(c, n.a));
  if (body !== '') parts.unshift(wrap(`[${body}]`));
  return `(?:${parts.join('|')})`;
}

function emitChar(n: Extract<RNode, { t: 'char' }>): string {
  if (!n.i) return hex(n.cp);
  if (!n.a) return `(?i:${hex(n.cp)})`;
  const partners = asciiFold(n.cp, n.cp);
  return partners.length === 0 ? hex(n.cp) : `[${hex(n.cp)}${hex(partners[0]![0])}]`;
}

function emitAt(n: Extract<RNode, { t: 'at' }>, tail: boolean): string {
  switch (n.at) {
    case 'bol':
      return n.m ? '(?m:^)' : '\\A';
    case 'A':
      return '\\A';
    case 'Z':
      return '\\z';
    case 'eol':
      if (n.m) return '(?m:$)';
      // Python's $: at the end, or before a final newline. At the pattern's end, consuming that
      // newline gives the same answer; elsewhere it would take a lookahead.
      if (tail) return '(?:\\n?\\z)';
      throw new Untranslatable('uses $ before the end of the pattern');
    case 'b':
      if (n.a) return '\\b';
      throw new Untranslatable('uses \\b in a text pattern (Unicode word boundaries)');
    case 'B':
      throw new Untranslatable('uses \\B');
  }
}

function emit(n: RNode, tail: boolean): string {
  switch (n.t) {
    case 'seq':
      return n.items.map((it, i) => emit(it, tail && i === n.items.length - 1)).join('');
    case 'alt':
      return `(?:${n.alts.map((a) => emit(a, tail)).join('|')})`;
    case 'char':
      return emitChar(n);
    case 'any':
      return n.s ? '(?s:.)' : '[^\\n]';
    case 'set':
      return emitSet(n);
    case 'cat':
      return catClass(n.cat, n.a);
    case 'at':
      return emitAt(n, tail);
    case 'group':
      return `(?:${emit(n.body, tail)})`;
    case 'look':
      throw new Untranslatable(`uses a look${n.behind ? 'behind' : 'ahead'}`);
    case 'atomic':
      throw new Untranslatable('uses an atomic group');
    case 'ref':
      throw new Untranslatable('uses a backreference');
    case 'repeat': {
      if (n.possessive) throw new Untranslatable('uses a possessive repeat');
      const finite = n.max !== Number.POSITIVE_INFINITY;
      if (n.min > MAX_REPEAT || (finite && n.max > MAX_REPEAT))
        throw new Untranslatable(`repeats more than ${MAX_REPEAT} times`);
      const q = !finite ? `{${n.min},}` : n.min === n.max ? `{${n.min}}` : `{${n.min},${n.max}}`;
      return `(?:${emit(n.body, tail && n.max <= 1)})${q}`;
    }
  }
}

/**
 * RE2 source with the same yes/no answer for searches as the Python pattern `node`.
 * @throws Untranslatable
 */
export function emitRe2(node: RNode): string {
  return emit(node, true);
}

/** What makes a backtracking search slow: unbounded repeats, repeats of more than a character. */
export interface Backtracking {
  /** Repeats with no upper bound (`*`, `+`, `{n,}`). */
  unbounded: number;
  /**
   * A repeat (of more than once) of something other than one character matcher: `(a|aa)*`,
   * `(ab){1,20}`, `(a+)+`. Such a repeat can try exponentially many ways to split its input.
   */
  complex: boolean;
}

/** A character, `.`, a class or a category, perhaps in groups: what one repeat step matches. */
function oneChar(n: RNode): boolean {
  if (n.t === 'group') return oneChar(n.body);
  if (n.t === 'seq') return n.items.length === 1 && oneChar(n.items[0]!);
  return n.t === 'char' || n.t === 'any' || n.t === 'set' || n.t === 'cat';
}

export function backtracking(node: RNode): Backtracking {
  const out: Backtracking = { unbounded: 0, complex: false };
  const walk = (n: RNode): void => {
    switch (n.t) {
      case 'seq':
        n.items.forEach(walk);
        return;
      case 'alt':
        n.alts.forEach(walk);
        return;
      case 'group':
      case 'look':
      case 'atomic':
        walk(n.body);
        return;
      case 'repeat':
        if (n.max === Number.POSITIVE_INFINITY) out.unbounded++;
        if (n.max > 1 && !oneChar(n.body)) out.complex = true;
        walk(n.body);
        return;
      default:
        return;
    }
  };
  walk(node);
  return out;
}
