import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  escapedStrToBytes,
  matchAll,
  OptionsError,
  parseModifySpec,
  parseReplacement,
  readReplacement,
  SpecError,
} from '@mitmts/sdk';
import { tflow } from '@mitmts/sdk/testing';

describe('parseModifySpec', () => {
  // [spec, filter pattern or null, subject, replacement]
  const valid: Array<[string, string | null, string, string]> = [
    ['/foo/bar', null, 'foo', 'bar'],
    ['|foo|bar', null, 'foo', 'bar'],
    ['/~q/foo/bar', '~q', 'foo', 'bar'],
    ['|~d example.com|^https?://x/(.*)|/tmp/a|b', '~d example.com', '^https?://x/(.*)', '/tmp/a|b'],
    ['/~q/', null, '~q', ''],
    ['/foo/', null, 'foo', ''],
    ['//bar', null, '', 'bar'],
    ['//', null, '', ''],
    ['/~s/content-type/a/b/c', '~s', 'content-type', 'a/b/c'],
    ['xaxbxc', 'a', 'b', 'c'],
  ];
  it.each(valid)('parses %j', (spec, filter, subject, replacement) => {
    const s = parseModifySpec('modify_body', spec);
    expect(s.subject).toBe(subject);
    expect(s.replacement).toBe(replacement);
    if (filter === null) expect(s.matches).toBe(matchAll);
    else expect(s.matches.pattern).toBe(filter);
  });

  it('returns a filter that works on flows', () => {
    const s = parseModifySpec('modify_headers', '/~s/h/v');
    expect(s.matches(tflow())).toBe(false);
    expect(s.matches(tflow({ resp: true }))).toBe(true);
  });

  // [spec, options, reason (a part of it)]
  const invalid: Array<[string, { requireSubject?: boolean; subjectName?: string }, string]> = [
    ['', {}, 'the spec is empty; expected [/flow-filter]/subject/replacement'],
    ['/foo', {}, "expected 2 or 3 parts separated by '/' (the spec's first character), found 1"],
    ['|foo/bar', {}, "separated by '|'"],
    ['/~x/foo/bar', {}, "invalid flow filter '~x'"],
    ['//foo/bar', {}, "invalid flow filter '': Empty filter expression"],
    ['/~q &/a/b', {}, "invalid flow filter '~q &'"],
    ['//bar', { requireSubject: true, subjectName: 'header-name' }, 'the header-name is empty'],
    ['', { subjectName: 'url-regex' }, '[/flow-filter]/url-regex/replacement'],
  ];
  it.each(invalid)('rejects %j', (spec, opts, reason) => {
    let err: unknown;
    try {
      parseModifySpec('map_remote', spec, opts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpecError);
    expect(err).toBeInstanceOf(OptionsError);
    const e = err as SpecError;
    expect(e.code).toBe('MITMTS_ERR_OPTION_INVALID');
    expect([e.option, e.spec]).toEqual(['map_remote', spec]);
    expect(e.reason).toContain(reason);
    expect(e.message).toBe(`Invalid map_remote spec '${spec}': ${e.reason}.`);
  });
});

describe('escapedStrToBytes', () => {
  // [input, hex of CPython's codecs.escape_decode(input)[0], or its error], generated with python3.
  const cases: Array<[string, string | { error: string }]> = [
    ['plain', '706c61696e'],
    ['é', 'c3a9'],
    ['\\n\\t\\r', '0a090d'],
    ['\\\\', '5c'],
    ['\\d+\\.', '5c642b5c2e'],
    ['\\x41\\xff', '41ff'],
    ['\\101\\0\\777', '4100ff'],
    ['\\1', '01'],
    ['a\\\nb', '6162'],
    ['\\\'\\"', '2722'],
    ['\\é', '5cc3a9'],
    ['\\😀', '5cf09f9880'],
    ['\\x4', { error: 'invalid \\x escape at position 0' }],
    ['\\xZZ', { error: 'invalid \\x escape at position 0' }],
    ['end\\', { error: 'Trailing \\ in string' }],
    ['\\a\\b\\f\\v', '07080c0b'],
    ['\\u00e9\\N{x}', '5c75303065395c4e7b787d'],
  ];
  it.each(cases)('decodes %j as Python does', (input, expected) => {
    if (typeof expected === 'string') expect(escapedStrToBytes(input).toString('hex')).toBe(expected);
    else expect(() => escapedStrToBytes(input)).toThrow(expected.error);
  });
});

describe('parseReplacement / readReplacement', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mitmts-spec-'));
  const file = join(dir, 'r.txt');
  writeFileSync(file, 'one');
  mkdirSync(join(dir, 'sub'));

  it('decodes a literal once', async () => {
    const r = parseReplacement('modify_body', '/a/b\\n', 'b\\n');
    expect(r).toEqual({ file: null, bytes: Buffer.from('b\n') });
    expect((await readReplacement(r)).toString()).toBe('b\n');
  });

  it('reads an @file each time it is used', async () => {
    const r = parseReplacement('modify_body', `/a/@${file}`, `@${file}`);
    expect(r.file).toBe(file);
    expect((await readReplacement(r)).toString()).toBe('one');
    writeFileSync(file, 'two');
    expect((await readReplacement(r)).toString()).toBe('two');
  });

  it('rejects a missing file, a directory and a bad escape, naming the option and spec', () => {
    expect(() => parseReplacement('modify_body', '/a/@/nonexistent/x', '@/nonexistent/x')).toThrow(
      /^Invalid modify_body spec '\/a\/@\/nonexistent\/x': cannot read replacement file '\/nonexistent\/x' \(ENOENT/,
    );
    expect(() => parseReplacement('modify_body', 'spec', `@${join(dir, 'sub')}`)).toThrow(/not a regular file/);
    expect(() => parseReplacement('modify_headers', '/h/\\x4', '\\x4')).toThrow(
      "Invalid modify_headers spec '/h/\\x4': bad escape in replacement '\\x4': invalid \\x escape at position 0.",
    );
  });
});

describe('filterOption', () => {
  it('compiles a filter option, null for none, and names the option on errors', async () => {
    const { filterOption, tflow } = await import('@mitmts/sdk').then(async (sdk) => ({
      ...sdk,
      tflow: (await import('@mitmts/sdk/testing')).tflow,
    }));
    expect(filterOption('dumper_filter', null)).toBeNull();
    expect(filterOption('dumper_filter', '')).toBeNull();
    expect(filterOption('dumper_filter', '~q')!(tflow())).toBe(true);
    expect(() => filterOption('dumper_filter', '~nope')).toThrowError(/^Invalid dumper_filter "~nope": /);
  });
});
