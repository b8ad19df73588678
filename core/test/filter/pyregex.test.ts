import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compilePyRegex, PyRegexError, translatePyRegex } from '../../src/filter/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = JSON.parse(fs.readFileSync(path.join(here, 'fixtures/pyregex-cases.json'), 'utf8')) as {
  subjects: string[];
  cases: Array<[pattern: string, flags: number, binary: boolean, results: string[]]>;
};

const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

/** Python-style `start:end` (code points for text, bytes for binary), '' for no match, 'E' for an error. */
function run(pattern: string, flags: number, binary: boolean, subject: string, re: RegExp | null): string {
  if (!re) return 'E';
  const subj = binary ? latin1(subject) : subject;
  const m = re.exec(subj);
  if (!m) return '';
  if (binary) return `${m.index}:${m.index + m[0].length}`;
  const start = Array.from(subj.slice(0, m.index)).length;
  return `${start}:${start + Array.from(m[0]).length}`;
}

describe('Python regex translation agrees with CPython re', () => {
  it(`matches Python on ${fixture.cases.length} pattern/flag/mode combinations`, () => {
    const mismatches: string[] = [];
    for (const [pattern, flags, binary, expected] of fixture.cases) {
      let re: RegExp | null = null;
      try {
        re = compilePyRegex(binary ? latin1(pattern) : pattern, {
          binary,
          ignoreCase: !!(flags & 2),
          multiline: !!(flags & 8),
          dotAll: !!(flags & 16),
        });
      } catch (err) {
        expect(err).toBeInstanceOf(PyRegexError);
      }
      fixture.subjects.forEach((s, i) => {
        const got = run(pattern, flags, binary, s, re);
        if (got !== expected[i])
          mismatches.push(
            `${JSON.stringify(pattern)} flags=${flags} ${binary ? 'bytes' : 'str'} on ${JSON.stringify(s)}: python ${expected[i]}, ours ${got}`,
          );
      });
    }
    expect(mismatches).toEqual([]);
  });
});

describe('Python regex quirks', () => {
  const t = (p: string, s: string, o: Parameters<typeof compilePyRegex>[1] = {}) => compilePyRegex(p, o).test(s);

  it('$ in multi-line mode matches before LF only, never before CR', () => {
    expect(t('qvalue$', 'header: qvalue\r\nx: y\r\n', { multiline: true })).toBe(false);
    expect(t('qvalue\\r$', 'header: qvalue\r\nx: y\r\n', { multiline: true })).toBe(true);
    expect(t('^x', 'a\rx', { multiline: true })).toBe(false);
    expect(t('^x', 'a\nx', { multiline: true })).toBe(true);
  });

  it('$ without multi-line also matches before a final newline; \\Z only at the very end', () => {
    expect(t('a$', 'a\n')).toBe(true);
    expect(t('a$', 'a\n\n')).toBe(false);
    expect(t('a\\Z', 'a\n')).toBe(false);
    expect(t('a\\Z', 'xa')).toBe(true);
    expect(t('\\Aa', 'ba')).toBe(false);
  });

  it('. excludes only LF (CR and U+2028 match)', () => {
    expect(t('a.b', 'a\rb')).toBe(true);
    expect(t('a.b', 'a\u2028b')).toBe(true);
    expect(t('a.b', 'a\nb')).toBe(false);
    expect(t('a.b', 'a\nb', { dotAll: true })).toBe(true);
  });

  it('named groups and references', () => {
    expect(t('(?P<q>["\'])x(?P=q)', '"x"')).toBe(true);
    expect(t('(?P<q>["\'])x(?P=q)', '"x\'')).toBe(false);
    const re = compilePyRegex('(?P<user>\\w+)@(?P<host>\\w+)');
    expect(re.exec('mail bob@example now')!.groups).toEqual({ user: 'bob', host: 'example' });
    expect(t('(a)(b)\\2\\1', 'abba')).toBe(true);
    expect(() => t('(a)\\10', 'aa0')).toThrow('invalid group reference 10'); // not group 1 then '0'
  });

  it('inline and scoped flags', () => {
    expect(t('(?i)abc', 'ABC')).toBe(true);
    expect(t('(?i:a)b', 'Ab')).toBe(true);
    expect(t('(?i:a)b', 'AB')).toBe(false);
    expect(t('(?-i:a)b', 'AB', { ignoreCase: true })).toBe(false);
    expect(t('(?-i:a)b', 'aB', { ignoreCase: true })).toBe(true);
    expect(t('(?x) a b # comment', 'ab')).toBe(true);
    expect(t('(?s:.)', '\n')).toBe(true);
    expect(t('(?m)^b', 'a\nb')).toBe(true);
  });

  it('atomic groups and possessive quantifiers do not backtrack', () => {
    expect(t('(?>a+)a', 'aaa')).toBe(false);
    expect(t('a++a', 'aaa')).toBe(false);
    expect(t('(?>a|ab)c', 'abc')).toBe(false);
    expect(t('(a)(?>b)\\1', 'aba')).toBe(true);
  });

  it('literal braces and brackets', () => {
    expect(t('a{', 'a{')).toBe(true);
    expect(t('a{x}', 'a{x}')).toBe(true);
    expect(t('a{,2}b', 'aab')).toBe(true);
    expect(t('[]a]', ']')).toBe(true);
    expect(t('[^]a]', 'b')).toBe(true);
    expect(t('x{2,1', 'x{2,1')).toBe(true);
  });

  it('Unicode semantics for text, ASCII for bytes', () => {
    expect(t('^\\w+$', 'straße')).toBe(true);
    expect(t('^\\w+$', latin1('straße'), { binary: true })).toBe(false);
    expect(t('\\d', '\u0661')).toBe(true);
    expect(t('\\d', latin1('\u0661'), { binary: true })).toBe(false);
    expect(t('\\s', '\u00a0')).toBe(true);
    expect(t('\\s', '\u00a0', { binary: true })).toBe(false);
    expect(t('\\s', '\ufeff')).toBe(false);
    expect(t('\\bcafé\\b', 'un café!')).toBe(true);
  });

  it('ignore-case folding: Unicode for text, ASCII-only for bytes', () => {
    expect(t('яч', 'ЯЧ', { ignoreCase: true })).toBe(true);
    expect(t('k', '\u212a', { ignoreCase: true })).toBe(true);
    expect(t(latin1('é'), latin1('É'), { binary: true, ignoreCase: true })).toBe(false);
    expect(t('abc', 'ABC', { binary: true, ignoreCase: true })).toBe(true);
    // A byte-level pattern with a latin1 "letter" byte must not fold: U+00C3 vs U+00E3 are different bytes.
    expect(t('\u00c3', '\u00e3', { binary: true, ignoreCase: true })).toBe(false);
    expect(translatePyRegex('abc', { binary: true, ignoreCase: true }).flags).toBe('vi');
    expect(translatePyRegex(latin1('é'), { binary: true, ignoreCase: true }).flags).toBe('v');
  });

  it('rejects what Python rejects, with Python messages', () => {
    const err = (p: string, o: Parameters<typeof compilePyRegex>[1] = {}) => {
      try {
        compilePyRegex(p, o);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err('[')).toBe('unterminated character set at position 0');
    expect(err('?')).toBe('nothing to repeat at position 0');
    expect(err('a**')).toBe('multiple repeat at position 2');
    expect(err('(')).toBe('missing ), unterminated subpattern at position 0');
    expect(err(')')).toBe('unbalanced parenthesis at position 0');
    expect(err('\\q')).toBe('bad escape \\q at position 0');
    expect(err('\\u0041', { binary: true })).toBe('bad escape \\u at position 0');
    expect(err('[z-a]')).toBe('bad character range z-a at position 1');
    expect(err('a{3,2}')).toBe('min repeat greater than max repeat at position 2');
    expect(err('(?<=a*)b')).toBe('look-behind requires fixed-width pattern at position 0');
    expect(err('a(?i)b')).toBe('global flags not at the start of the expression at position 1');
    expect(err('(?P<n>a)(?P<n>b)')).toMatch(/^redefinition of group name 'n'/);
    expect(err('(?P=x)')).toMatch(/^unknown group name 'x'/);
    expect(err('\\1')).toBe('invalid group reference 1 at position 1');
    expect(err('(a\\1)')).toBe('cannot refer to an open group at position 2');
    expect(err('(?<n>a)')).toBe('unknown extension ?<n at position 1');
    expect(err('(?L)a')).toMatch(/cannot use 'L' flag with a str pattern/);
    expect(err('(?u)a', { binary: true })).toMatch(/cannot use 'u' flag with a bytes pattern/);
    expect(err('(?(1)a|b)')).toMatch(/conditional groups/);
  });
});
