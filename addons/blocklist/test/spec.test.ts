import { describe, expect, it } from 'vitest';
import { tflow } from '@mitmts/sdk/testing';
import { parsePyInt, parseSpec } from '../src/spec.js';

describe('parseSpec', () => {
  it.each([
    ['/~u example.com/404', 404],
    [':~q:200', 200],
    ['|~u /a/b|403', 403],
    ['/~d example.com/444', 444],
    ['/~all/ 418 ', 418],
    ['/~all/+204', 204],
    ['/~ALL/5_00', 500],
  ])('%s -> status %i', (spec, status) => {
    const s = parseSpec(spec);
    expect(s.statusCode).toBe(status);
    expect(s.spec).toBe(spec);
  });

  it('lower-cases the filter, as mitmproxy does', () => {
    expect(parseSpec('/~u EXAMPLE/404').filter.pattern).toBe('~u example');
  });

  it('compiles the filter', () => {
    const s = parseSpec('/~u example.com/404');
    expect(s.filter(tflow())).toBe(false);
    expect(parseSpec('/~u address/404').filter(tflow())).toBe(true);
  });

  it.each([
    ['', 'Empty spec; expected /flow-filter/status-code.'],
    [
      '/~u foo',
      "Invalid number of parameters (2 are expected, separated by '/', the spec's first character; found 1).",
    ],
    [
      '/~u a/b/404',
      "Invalid number of parameters (2 are expected, separated by '/', the spec's first character; found 3).",
    ],
    ['/~u foo/abc', 'Invalid HTTP status code: abc'],
    ['/~u foo/', 'Invalid HTTP status code: '],
    ['/~u foo/999', 'Invalid HTTP status code: 999'],
    ['/~u foo/4.04', 'Invalid HTTP status code: 4.04'],
  ])('rejects %j', (spec, message) => {
    expect(() => parseSpec(spec)).toThrow(message);
  });

  it('rejects an invalid filter with the filter error', () => {
    expect(() => parseSpec('/~nonsense/404')).toThrow(/~nonsense/);
    expect(() => parseSpec('//404')).toThrow();
  });
});

describe('parsePyInt', () => {
  it.each([
    ['404', 404],
    [' 404\n', 404],
    ['-1', -1],
    ['+7', 7],
    ['1_000', 1000],
    ['1__0', null],
    ['_1', null],
    ['0x10', null],
    ['', null],
    ['4 4', null],
  ])('%j -> %s', (text, n) => {
    expect(parsePyInt(text)).toBe(n);
  });
});
