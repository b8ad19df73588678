import { describe, expect, it } from 'vitest';
import { compilePyPattern, compilePyTemplate, pyGroup, pySub, PyRegexError } from '../../src/filter/index.js';

// [pattern, template, subject, CPython 3.11 re.sub result or its error], generated with python3.
const CASES: Array<[string, string, string, string | { error: string }]> = [
  ['a', 'b', 'banana', 'bbnbnb'],
  ['(a)(n)?', '[\\2\\1]', 'banana', 'b[na][na][a]'],
  ['x*', '-', 'abxd', '-a-b--d-'],
  ['(?P<w>\\w+)', '<\\g<w>>', 'hi there', '<hi> <there>'],
  ['(\\w+)', '\\g<1>\\g<0>', 'ab cd', 'abab cdcd'],
  ['(a)', '\\10', 'a', { error: 'invalid group reference 10 at position 1' }],
  ['(a)', '\\101', 'a', 'A'],
  ['(a)', '\\0', 'a', '\u0000'],
  ['(a)', '\\08', 'a', '\u00008'],
  ['(a)', '\\n\\t\\\\', 'a', '\n\t\\'],
  ['(a)', '\\.', 'a', '\\.'],
  ['(a)', '\\q', 'a', { error: 'bad escape \\q at position 0' }],
  ['(a)', '\\', 'a', { error: 'bad escape (end of pattern) at position 0' }],
  ['(a)', '\\2', 'a', { error: 'invalid group reference 2 at position 1' }],
  ['(a)', '\\g<x>', 'a', { error: "unknown group name 'x'" }],
  ['(a)', '\\g<-1>', 'a', { error: "bad character in group name '-1' at position 3" }],
  ['(a)', '\\g<1', 'a', { error: 'missing >, unterminated name at position 3' }],
  ['(a)', '\\g1', 'a', { error: 'missing < at position 2' }],
  ['(?>a+)(b)', '\\1', 'aab', 'b'],
  ['a++(b)|(c)', '[\\1|\\2]', 'aab c', '[b|] [|c]'],
  ['^', '>', 'l1\nl2', '>l1\nl2'],
  ['$', '<', 'l1\n', 'l1<\n<'],
  ['é', 'e', 'café é', 'cafe e'],
  ['(a)|b', '[\\1]', 'ab', '[a][]'],
  ['', '-', 'abc', '-a-b-c-'],
  ['(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)', '\\11\\1', 'abcdefghijk', 'ka'],
  ['(a)', '\\400', 'a', { error: 'octal escape value \\400 outside of range 0-0o377 at position 0' }],
  ['(a)', '\\777', 'a', { error: 'octal escape value \\777 outside of range 0-0o377 at position 0' }],
];

describe('pySub agrees with CPython re.sub', () => {
  it.each(CASES)('re.sub(%j, %j, %j)', (pattern, template, subject, expected) => {
    const p = compilePyPattern(pattern);
    if (typeof expected === 'string') {
      expect(pySub(p, template, subject)).toBe(expected);
    } else {
      expect(() => pySub(p, template, subject)).toThrow(PyRegexError);
      expect(() => pySub(p, template, subject)).toThrow(expected.error.replace(/ at position \d+$/, ''));
    }
  });
});

describe('Python groups and bytes', () => {
  it('maps Python group numbers past the groups atomic-group emulation adds', () => {
    const p = compilePyPattern('(?>x)(y)(?P<z>z)');
    expect(p.groups).toBe(2);
    const m = p.regex.exec('xyz')!;
    expect(pyGroup(p, m, 1)).toBe('y');
    expect(pyGroup(p, m, 2)).toBe('z');
    expect(pyGroup(p, m, 3)).toBeUndefined();
    expect(p.names.get('z')).toBe(2);
  });

  it('substitutes in latin1 byte strings, with a count', () => {
    const p = compilePyPattern('\xc3\xa9', { binary: true });
    const subject = Buffer.from('é é é').toString('latin1');
    const out = pySub(p, compilePyTemplate('E', p), subject, 2);
    expect(Buffer.from(out, 'latin1').toString()).toBe('E E é');
  });

  it('reuses a compiled template across calls', () => {
    const p = compilePyPattern('(b)');
    const t = compilePyTemplate('<\\1>', p);
    expect(pySub(p, t, 'abc')).toBe('a<b>c');
    expect(pySub(p, t, 'bb')).toBe('<b><b>');
  });
});
