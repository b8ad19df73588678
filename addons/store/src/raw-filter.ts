/**
 * A quick test on a stored record before decoding it, for body filters (`~b`, `~bq`, `~bs`) and
 * body searches: bodies and messages sit verbatim in a flow's record, so a literal that occurs in
 * a body occurs in the record's bytes. When the record contains neither the literal nor a
 * `Content-Encoding` header (whose bodies would have to be decoded first), the flow cannot match,
 * and decoding it (the expensive part of a scan) is skipped. Bodies kept in files and DNS flows
 * (searched as text) are always decoded.
 */
import { type FilterNode, regexLiterals, type LiteralPattern } from '@mitmts/sdk/store';

/** Does the record (decompressed, bodies spliced back or not) possibly match? */
export type RawTest = (record: Buffer) => boolean;

const ENCODED = /content-encoding/i;
const BODY_OPS = new Set(['b', 'bq', 'bs']);

/** A RegExp finding any branch of an unanchored literal pattern, folding case like or more than Python does. */
function literalRegex(lit: LiteralPattern): RegExp | null {
  if (lit.branches.some((b) => b.anchoredStart || b.anchoredEnd || b.chars.length === 0)) return null;
  const alts = lit.branches.map((b) => b.chars.map((c) => (c === -1 ? '[^\\n]' : `\\u{${c.toString(16)}}`)).join(''));
  // Bytes patterns: each char is a byte, as in latin1(record). `i` folds at least ASCII.
  return new RegExp(alts.join('|'), 'iu');
}

function bodyTest(re: RegExp): RawTest {
  return (record) => {
    const s = record.toString('latin1');
    return re.test(s) || ENCODED.test(s);
  };
}

/** A raw test for a body search's pattern (a `~b` regex), or null if the pattern is not a plain literal. */
export function searchRawTest(pattern: string, caseSensitive: boolean): RawTest | null {
  const lit = regexLiterals({
    kind: 'op',
    op: 'b',
    arg: pattern,
    bare: false,
    pos: 0,
    ignoreCase: !caseSensitive,
    re: null,
  });
  const re = lit && literalRegex(lit);
  return re ? bodyTest(re) : null;
}

/** A raw test necessary for the filter to match, or null when it cannot tell anything. */
export function filterRawTest(node: FilterNode): RawTest | null {
  switch (node.kind) {
    case 'op': {
      if (!BODY_OPS.has(node.op)) return null;
      const lit = regexLiterals(node);
      const re = lit && literalRegex(lit);
      return re ? bodyTest(re) : null;
    }
    case 'and': {
      const tests = node.children.map(filterRawTest).filter((t): t is RawTest => t !== null);
      if (tests.length === 0) return null;
      return (r) => tests.every((t) => t(r));
    }
    case 'or': {
      const tests = node.children.map(filterRawTest);
      if (tests.some((t) => t === null)) return null;
      return (r) => tests.some((t) => t!(r));
    }
    case 'not':
      return null;
  }
}
