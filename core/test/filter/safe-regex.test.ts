import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKTRACK_SUBJECT_LIMIT, compileFilterRegex, PyRegexError } from '../../src/filter/pyregex/index.js';
import { parsePyRegex } from '../../src/filter/pyregex/parse.js';
import { backtracking, emitRe2, Untranslatable } from '../../src/filter/pyregex/re2.js';
import { FilterError, FilterErrorCode, parseFilter } from '../../src/filter/index.js';
import { RE2JS } from 're2js';

const fixture = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures/pyregex-cases.json'), 'utf8')) as {
  subjects: string[];
  cases: Array<[pattern: string, flags: number, binary: boolean, results: string[]]>;
};
const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

describe('the linear-time engine (RE2 syntax on re2js) agrees with CPython re', () => {
  it("gives Python's yes/no answer for every fixture pattern it can run", () => {
    const mismatches: string[] = [];
    let translated = 0;
    for (const [pattern, flags, binary, expected] of fixture.cases) {
      const p = binary ? latin1(pattern) : pattern;
      let source: string;
      try {
        source = emitRe2(
          parsePyRegex(p, binary, { i: !!(flags & 2), m: !!(flags & 8), s: !!(flags & 16), x: false, a: binary }).node,
        );
      } catch (err) {
        if (err instanceof PyRegexError || err instanceof Untranslatable) continue;
        throw err;
      }
      translated++;
      const re = RE2JS.compile(source);
      fixture.subjects.forEach((s, i) => {
        const want = expected[i] !== '' && expected[i] !== 'E';
        const got = re.test(binary ? latin1(s) : s);
        if (got !== want)
          mismatches.push(
            `${JSON.stringify(pattern)} flags=${flags} ${binary ? 'bytes' : 'str'} on ${JSON.stringify(s)}: python ${want}, re2 ${got} (${source})`,
          );
      });
    }
    expect(mismatches).toEqual([]);
    expect(translated).toBeGreaterThan(fixture.cases.length / 2);
  });
});

describe('compileFilterRegex', () => {
  it("keeps V8's engine for patterns a backtracking search runs in linear time", () => {
    for (const p of ['example\\.com', '^/api/v1/', 'a|b|c', '\\d{1,3}\\.\\d{1,3}', '(?<=x)y', '(a)\\1']) {
      expect(compileFilterRegex(p), p).toBeInstanceOf(RegExp);
    }
  });

  it('classifies what makes backtracking slow', () => {
    const risk = (p: string) =>
      backtracking(parsePyRegex(p, false, { i: false, m: false, s: false, x: false, a: false }).node);
    expect(risk('a.*b')).toEqual({ unbounded: 1, complex: false });
    expect(risk('(a+)+$')).toEqual({ unbounded: 2, complex: true });
    expect(risk('(a|aa){1,30}$')).toEqual({ unbounded: 0, complex: true });
    expect(risk('[a-z]+=\\d*')).toEqual({ unbounded: 2, complex: false });
  });

  it('answers catastrophic patterns on long subjects (these took hours on a backtracking engine)', () => {
    const long = 'a'.repeat(100_000);
    expect(compileFilterRegex('(a+)+$').test(`${long}!`)).toBe(false);
    expect(compileFilterRegex('(a|aa){1,30}$').test(`${'a'.repeat(40)}!`)).toBe(false);
    expect(compileFilterRegex('[a-z]+=').test(long)).toBe(false);
    expect(compileFilterRegex('.*x', { binary: true, dotAll: true }).test(long)).toBe(false);
    expect(compileFilterRegex('[a-z]+=').test(`${long}=`)).toBe(true);
    expect(compileFilterRegex('(a+)+$').test(long)).toBe(true);
  });

  it('gives the same answers either side of the length where one-repeat patterns change engine', () => {
    const re = compileFilterRegex('id=\\d+$', { ignoreCase: true });
    for (const n of [BACKTRACK_SUBJECT_LIMIT - 10, BACKTRACK_SUBJECT_LIMIT + 10]) {
      const pad = 'x'.repeat(n - 10);
      expect(re.test(`${pad}?ID=12345`), `length ${n}`).toBe(true);
      expect(re.test(`${pad}?ID=12345\n`), `length ${n}`).toBe(true);
      expect(re.test(`${pad}?ID=123a5`), `length ${n}`).toBe(false);
    }
  });

  it('refuses a risky pattern that needs what the linear-time engine lacks, saying what', () => {
    for (const [p, what] of [
      ['(?<=a)b+', 'uses a lookbehind'],
      ['(a+)\\1', 'uses a backreference'],
      ['\\bword.*', 'uses \\b in a text pattern'],
      ['a+$x', 'uses $ before the end of the pattern'],
    ] as const) {
      expect(() => compileFilterRegex(p), p).toThrowError(PyRegexError);
      expect(() => compileFilterRegex(p), p).toThrowError(what);
    }
  });

  it('reports it as an invalid filter regex with the expression', () => {
    let err: unknown;
    try {
      parseFilter('~u "(?<=a)b+"');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FilterError);
    expect((err as FilterError).code).toBe(FilterErrorCode.INVALID_REGEX);
    expect((err as Error).message).toMatch(
      /invalid regex in ~u "\(\?<=a\)b\+": the pattern repeats without bound .* it uses a lookbehind, which that engine cannot run/,
    );
  });
});
