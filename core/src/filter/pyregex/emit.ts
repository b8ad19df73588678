/**
 * Turn a Python regex tree into JavaScript RegExp source (for the `v` flag) with Python's
 * semantics: `^`/`$` treat only LF as a line end, `$` also matches before a final LF, `.` excludes
 * only LF, `\d \w \s \b` follow Python's definitions (Unicode for text, ASCII for bytes), atomic
 * groups and possessive quantifiers are emulated with lookahead captures, and case-insensitivity
 * uses the engine's `i` flag only where it agrees with Python (else cases are expanded by hand).
 */
import type { Category, RNode, SetItem } from './ast.js';

const INF = Number.POSITIVE_INFINITY;

/** Output of {@link emitPyRegex}. */
export interface Emitted {
  source: string;
  flags: string;
  /** For each Python group number (index), the JavaScript group number (emulation adds groups). */
  groups: number[];
  /** Python group number of each named group. */
  names: Map<string, number>;
}

interface Ctx {
  jsI: boolean;
  nextGroup: number;
  groupMap: Map<number, number>;
  names: Map<string, number>;
}

function lit(cp: number): string {
  if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f) {
    return String.fromCharCode(cp);
  }
  if (cp < 0x100) return '\\x' + cp.toString(16).padStart(2, '0');
  return '\\u{' + cp.toString(16) + '}';
}

// Python's str.isspace() characters (also used by re2.ts).
export const UNI_SPACE = [
  [0x09, 0x0d],
  [0x1c, 0x20],
  [0x85, 0x85],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
] as const;
export const ASCII_SPACE = [
  [0x09, 0x0d],
  [0x20, 0x20],
] as const;

function rangesSrc(ranges: ReadonlyArray<readonly [number, number]>): string {
  return ranges.map(([lo, hi]) => (lo === hi ? lit(lo) : `${lit(lo)}-${lit(hi)}`)).join('');
}

/** A category as a self-contained class (usable inside or outside a v-mode class). */
function catSrc(cat: Category, ascii: boolean): string {
  const neg = cat === 'D' || cat === 'W' || cat === 'S';
  const base = cat.toLowerCase();
  if (!ascii && base === 'd') return neg ? '\\P{Nd}' : '\\p{Nd}';
  let body: string;
  if (base === 'd') body = '0-9';
  else if (base === 'w') body = ascii ? 'a-zA-Z0-9_' : '\\p{L}\\p{N}_';
  else body = rangesSrc(ascii ? ASCII_SPACE : UNI_SPACE);
  return `[${neg ? '^' : ''}${body}]`;
}

const WORD = '[\\p{L}\\p{N}_]';

// Case folds that lower()/upper() alone do not find (Python folds these together too).
const SPECIAL_FOLDS: ReadonlyArray<readonly number[]> = [
  [0x6b, 0x212a],
  [0x73, 0x17f],
  [0xe5, 0x212b],
  [0xb5, 0x3bc],
  [0x3c3, 0x3c2],
  [0x3b8, 0x3d1],
  [0x3b9, 0x1fbe, 0x345],
  [0x3b2, 0x3d0],
  [0x3b5, 0x3f5],
  [0x3ba, 0x3f0],
  [0x3c0, 0x3d6],
  [0x3c1, 0x3f1],
  [0x3c6, 0x3d5],
  [0x1e61, 0x1e9b],
  [0xdf, 0x1e9e],
];

function caseVariants(cp: number, ascii: boolean): number[] {
  if (ascii) {
    if (cp >= 0x41 && cp <= 0x5a) return [cp, cp + 32];
    if (cp >= 0x61 && cp <= 0x7a) return [cp, cp - 32];
    return [cp];
  }
  const out = new Set<number>([cp]);
  const s = String.fromCodePoint(cp);
  for (const v of [s.toLowerCase(), s.toUpperCase()]) {
    const cps = Array.from(v);
    if (cps.length === 1) out.add(cps[0]!.codePointAt(0)!);
  }
  for (const c of Array.from(out)) {
    for (const group of SPECIAL_FOLDS) {
      if (
        group.includes(c) ||
        group.some((g) => String.fromCodePoint(g).toUpperCase() === String.fromCodePoint(c).toUpperCase())
      ) {
        for (const g of group) out.add(g);
      }
    }
  }
  return Array.from(out);
}

/** Add the case variants of every char in `[lo, hi]` (ranges of letters are shifted as a block). */
function foldRange(lo: number, hi: number, ascii: boolean, out: Array<[number, number]>): void {
  out.push([lo, hi]);
  if (ascii || hi - lo > 0x3000) {
    const a = Math.max(lo, 0x61);
    const b = Math.min(hi, 0x7a);
    if (a <= b) out.push([a - 32, b - 32]);
    const c = Math.max(lo, 0x41);
    const d = Math.min(hi, 0x5a);
    if (c <= d) out.push([c + 32, d + 32]);
    return;
  }
  for (let cp = lo; cp <= hi; cp++) for (const v of caseVariants(cp, false)) if (v < lo || v > hi) out.push([v, v]);
}

/** True if a tree can use the engine's `i` flag with exactly Python's case folding. */
function canUseJsI(node: RNode, binary: boolean): boolean {
  let anyI = false;
  let ok = true;
  const latin1Letter = (lo: number, hi: number) => lo <= 0xfe && hi >= 0xc0;
  const visit = (n: RNode): void => {
    switch (n.t) {
      case 'char':
        if (!n.i) ok = false;
        else anyI = true;
        if (n.a && !binary) ok = false;
        if (binary && latin1Letter(n.cp, n.cp)) ok = false;
        return;
      case 'set':
        if (!n.i) ok = false;
        else anyI = true;
        if (n.a && !binary) ok = false;
        if (
          binary &&
          n.items.some((it) =>
            it.k === 'char' ? latin1Letter(it.cp, it.cp) : it.k === 'range' ? latin1Letter(it.lo, it.hi) : false,
          )
        )
          ok = false;
        return;
      case 'ref':
        if (!n.i) ok = false;
        else anyI = true;
        return;
      case 'seq':
        n.items.forEach(visit);
        return;
      case 'alt':
        n.alts.forEach(visit);
        return;
      case 'group':
      case 'look':
      case 'atomic':
      case 'repeat':
        visit(n.body);
        return;
      default:
        return;
    }
  };
  visit(node);
  return anyI && ok;
}

function emitChar(cp: number, fold: boolean, ascii: boolean): string {
  if (!fold) return lit(cp);
  const vs = caseVariants(cp, ascii);
  if (vs.length === 1) return lit(cp);
  return '[' + vs.map(lit).join('') + ']';
}

function emitSet(n: Extract<RNode, { t: 'set' }>, fold: boolean): string {
  const ranges: Array<[number, number]> = [];
  const cats: string[] = [];
  for (const it of n.items as SetItem[]) {
    if (it.k === 'cat') cats.push(catSrc(it.cat, n.a));
    else {
      const [lo, hi] = it.k === 'char' ? [it.cp, it.cp] : [it.lo, it.hi];
      if (fold) foldRange(lo, hi, n.a, ranges);
      else ranges.push([lo, hi]);
    }
  }
  return `[${n.neg ? '^' : ''}${rangesSrc(ranges)}${cats.join('')}]`;
}

function emitAt(n: Extract<RNode, { t: 'at' }>): string {
  switch (n.at) {
    case 'bol':
      return n.m ? '(?<![^\\n])' : '^';
    case 'eol':
      return n.m ? '(?=\\n|$)' : '(?=\\n?$)';
    case 'A':
      return '^';
    case 'Z':
      return '$';
    case 'b':
      return n.a ? '\\b' : `(?:(?<=${WORD})(?!${WORD})|(?<!${WORD})(?=${WORD}))`;
    case 'B':
      // Python (before 3.14) never matches \B in an empty string.
      return n.a ? '(?:(?!^$)\\B)' : `(?:(?!^$)(?:(?<=${WORD})(?=${WORD})|(?<!${WORD})(?!${WORD})))`;
  }
}

function quant(min: number, max: number, lazy: boolean): string {
  let q: string;
  if (min === 0 && max === INF) q = '*';
  else if (min === 1 && max === INF) q = '+';
  else if (min === 0 && max === 1) q = '?';
  else if (max === INF) q = `{${min},}`;
  else if (min === max) q = `{${min}}`;
  else q = `{${min},${max}}`;
  return lazy ? q + '?' : q;
}

/** True if `emit(n)` is a single atom a quantifier can follow directly. */
function isAtom(n: RNode): boolean {
  return (
    n.t === 'char' ||
    n.t === 'any' ||
    n.t === 'set' ||
    n.t === 'cat' ||
    n.t === 'group' ||
    n.t === 'ref' ||
    n.t === 'atomic'
  );
}

function emit(n: RNode, ctx: Ctx): string {
  switch (n.t) {
    case 'seq':
      return n.items.map((x) => emit(x, ctx)).join('');
    case 'alt':
      return n.alts.map((x) => emit(x, ctx)).join('|');
    case 'char':
      return emitChar(n.cp, n.i && !ctx.jsI, n.a);
    case 'any':
      return n.s ? '[\\s\\S]' : '[^\\n]';
    case 'set':
      return emitSet(n, n.i && !ctx.jsI);
    case 'cat':
      return catSrc(n.cat, n.a);
    case 'at':
      return emitAt(n);
    case 'group': {
      if (n.index === null) return `(?:${emit(n.body, ctx)})`;
      const js = ++ctx.nextGroup;
      ctx.groupMap.set(n.index, js);
      if (n.name !== null) ctx.names.set(n.name, n.index);
      return `(${n.name !== null ? `?<${n.name}>` : ''}${emit(n.body, ctx)})`;
    }
    case 'look':
      return `(?${n.behind ? '<' : ''}${n.neg ? '!' : '='}${emit(n.body, ctx)})`;
    case 'atomic': {
      // (?>X) == (?=(X))\k: the lookahead is never re-entered, so X cannot backtrack.
      const js = ++ctx.nextGroup;
      return `(?:(?=(${emit(n.body, ctx)}))\\${js})`;
    }
    case 'ref':
      return `(?:\\${ctx.groupMap.get(n.index)!})`;
    case 'repeat': {
      if (n.possessive) return emit({ t: 'atomic', body: { ...n, possessive: false } }, ctx);
      const body = emit(n.body, ctx);
      return (isAtom(n.body) ? body : `(?:${body})`) + quant(n.min, n.max, n.lazy);
    }
  }
}

/** RegExp source and flags for a parsed Python pattern. */
export function emitPyRegex(node: RNode, binary: boolean): Emitted {
  const ctx: Ctx = { jsI: canUseJsI(node, binary), nextGroup: 0, groupMap: new Map(), names: new Map() };
  const source = emit(node, ctx);
  const groups = [0];
  for (let i = 1; ctx.groupMap.has(i); i++) groups.push(ctx.groupMap.get(i)!);
  return { source, flags: ctx.jsI ? 'vi' : 'v', groups, names: ctx.names };
}
