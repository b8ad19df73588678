/**
 * What a filter operator's regex requires of its subject, when that is simple enough to say in
 * an index (a SQL `LIKE`): a set of literal branches (`foo|bar`), each a run of characters and
 * any-character wildcards, maybe anchored at the start. Anything richer (classes, repeats,
 * look-arounds, back references) gives null: the caller then has no prefilter for it.
 */
import type { FilterNode } from '../filter/parser.js';
import { OPERATORS } from '../filter/operators.js';
import { parsePyRegex } from '../filter/pyregex/parse.js';
import type { RNode } from '../filter/pyregex/ast.js';

/** One alternative of a literal regex. */
export interface LiteralBranch {
  /** Code points (bytes for bytes patterns); -1 stands for `.` (any character but a newline). */
  readonly chars: readonly number[];
  /** True if the branch starts with `^`/`\A` outside multi-line mode (matches at the start only). */
  readonly anchoredStart: boolean;
  /** True if the branch ends with `$`/`\Z` (a prefilter treats it as unanchored). */
  readonly anchoredEnd: boolean;
  /** Case folding of the branch's characters: all folded, none, or some of each (scoped flags). */
  readonly fold: 'all' | 'none' | 'mixed';
}

/** A regex that matches exactly when one of its branches occurs in the subject. */
export interface LiteralPattern {
  readonly branches: readonly LiteralBranch[];
  /** True for bytes patterns (subjects are latin1 strings, one character per byte). */
  readonly binary: boolean;
}

function branchOf(node: RNode): LiteralBranch | null {
  const items = node.t === 'seq' ? node.items : [node];
  const chars: number[] = [];
  let anchoredStart = false;
  let anchoredEnd = false;
  let folded = 0;
  let plain = 0;
  const flat: RNode[] = [];
  const flatten = (n: RNode): boolean => {
    if (n.t === 'group') return flatten(n.body);
    if (n.t === 'seq') return n.items.every(flatten);
    flat.push(n);
    return true;
  };
  for (const it of items) if (!flatten(it)) return null;
  for (let i = 0; i < flat.length; i++) {
    const n = flat[i]!;
    if (n.t === 'char') {
      chars.push(n.cp);
      if (n.i) folded++;
      else plain++;
    } else if (n.t === 'any' && !n.s) {
      chars.push(-1);
    } else if (n.t === 'at' && i === 0 && (n.at === 'A' || (n.at === 'bol' && !n.m))) {
      anchoredStart = true;
    } else if (n.t === 'at' && i === flat.length - 1 && (n.at === 'Z' || (n.at === 'eol' && !n.m))) {
      anchoredEnd = true;
    } else {
      return null;
    }
  }
  return { chars, anchoredStart, anchoredEnd, fold: plain === 0 ? 'all' : folded === 0 ? 'none' : 'mixed' };
}

/**
 * The literal branches of a regex operator of a parsed filter (`~d`, `~u`, bare words, ...),
 * or null if its regex is not a plain literal alternation (or the node has no regex).
 */
export function regexLiterals(node: Extract<FilterNode, { kind: 'op' }>): LiteralPattern | null {
  const spec = OPERATORS.get(node.op);
  if (!spec || spec.arg !== 'regex' || typeof node.arg !== 'string') return null;
  const binary = spec.binary ?? false;
  const source = binary ? Buffer.from(node.arg, 'utf8').toString('latin1') : node.arg;
  let root: RNode;
  try {
    root = parsePyRegex(source, binary, {
      i: node.ignoreCase,
      m: spec.reFlags === 'm',
      s: spec.reFlags === 's',
      x: false,
      a: binary,
    }).node;
  } catch {
    return null;
  }
  while (root.t === 'group') root = root.body;
  const alts = root.t === 'alt' ? root.alts : [root];
  const branches: LiteralBranch[] = [];
  for (const a of alts) {
    const b = branchOf(a);
    if (!b) return null;
    branches.push(b);
  }
  return { branches, binary };
}
