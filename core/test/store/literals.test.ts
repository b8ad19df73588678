import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/filter/filter.js';
import type { FilterNode } from '../../src/filter/parser.js';
import { regexLiterals } from '../../src/store/literals.js';

const lit = (expr: string, caseSensitive = false): ReturnType<typeof regexLiterals> =>
  regexLiterals(parseFilter(expr, { caseSensitive }).ast as Extract<FilterNode, { kind: 'op' }>);
const text = (chars: readonly number[]): string =>
  chars.map((c) => (c === -1 ? '.' : String.fromCodePoint(c))).join('');

describe('regexLiterals', () => {
  it.each([
    ['~d example', [['example', false, false]]],
    ['~d api\\.example\\.com', [['api.example.com', false, false]]],
    ['~d ex.mple', [['ex.mple', false, false]]],
    [
      '~u ^/v1|^/v2',
      [
        ['/v1', true, false],
        ['/v2', true, false],
      ],
    ],
    ['~d \\.org$', [['.org', false, true]]],
    ['~u "(?:abc)"', [['abc', false, false]]],
    ['~d ""', [['', false, false]]],
  ] as const)('%s', (expr, branches) => {
    const r = lit(expr)!;
    expect(r.branches.map((b) => [text(b.chars), b.anchoredStart, b.anchoredEnd])).toEqual(branches);
    expect(r.branches.every((b) => b.fold === 'all')).toBe(true);
  });

  it.each(['~d [ab]x', '~d a+', '~d a*b', '~u \\d', '~u "a(?=b)"', '~comment ^x', '~u a\\bb', '~u "(a)\\\\1"'])(
    '%s has no literal form',
    (expr) => {
      expect(lit(expr)).toBeNull();
    },
  );

  it('knows case folding, bytes and non-regex operators', () => {
    expect(lit('~d Example', true)!.branches[0]!.fold).toBe('none');
    expect(lit('~d "(?i:a)b"', true)!.branches[0]!.fold).toBe('mixed');
    expect(lit('~m GET')!.binary).toBe(true);
    expect(lit('~c 200')).toBeNull();
    expect(lit('~q')).toBeNull();
    // A bytes pattern's characters are its UTF-8 bytes.
    expect(lit('~b ü')!.branches[0]!.chars).toEqual([0xc3, 0xbc]);
  });
});
