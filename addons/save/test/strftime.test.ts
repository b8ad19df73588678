import { describe, expect, it } from 'vitest';
import { hasDirectives, strftime } from '../src/strftime.js';
import { parsePathSpec } from '../src/path.js';
import { homedir } from 'node:os';

// Expected values from Python's datetime.strftime (C locale) for the same local times.
describe('strftime', () => {
  const d = new Date(2024, 0, 7, 15, 4, 5, 123);
  it.each([
    ['%a %A %w %u %d %e %b %h %B %m %y %Y %C', 'Sun Sunday 0 7 07  7 Jan Jan January 01 24 2024 20'],
    ['%H %k %I %l %p %M %S %f %j %U %W %V %G %g', '15 15 03  3 PM 04 05 123000 007 01 01 01 2024 24'],
    [
      '%F %T %R %D %x %X %c %r %%',
      '2024-01-07 15:04:05 15:04 01/07/24 01/07/24 15:04:05 Sun Jan  7 15:04:05 2024 03:04:05 PM %',
    ],
    ['%Q %n%t end', '%Q \n\t end'],
    ['%', '%'],
    ['flows/%Y-%m-%d/%H%M.mitm', 'flows/2024-01-07/1504.mitm'],
  ])('%j', (pattern, expected) => {
    expect(strftime(pattern, d)).toBe(expected);
  });

  it('numbers weeks like Python at year boundaries', () => {
    expect(strftime('%j %U %W %V %G %g %a', new Date(2021, 0, 1))).toBe('001 00 00 53 2020 20 Fri');
    expect(strftime('%j %U %W %V %G %g %a %I %p', new Date(2020, 11, 31, 23, 59, 59))).toBe(
      '366 52 52 53 2020 20 Thu 11 PM',
    );
  });

  it('gives the UTC offset and epoch seconds', () => {
    expect(strftime('%z', d)).toMatch(/^[+-]\d{4}$/);
    expect(strftime('%s', d)).toBe(String(Math.floor(d.getTime() / 1000)));
  });

  it('knows whether a pattern changes with time', () => {
    expect(hasDirectives('a/%Y.mitm')).toBe(true);
    expect(hasDirectives('a/b.mitm')).toBe(false);
  });
});

describe('path specs', () => {
  it.each([
    ['out.mitm', 'out.mitm', false],
    ['+out.mitm', 'out.mitm', true],
    ['~/x.mitm', `${homedir()}/x.mitm`, false],
    ['+~/x.mitm', `${homedir()}/x.mitm`, true],
  ])('%s', (spec, path, append) => {
    expect(parsePathSpec(spec)).toEqual({ path, append });
  });
});
