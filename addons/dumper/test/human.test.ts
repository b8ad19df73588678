import { describe, expect, it } from 'vitest';
import {
  bytesToEscaped,
  cutAfterNLines,
  escapeControl,
  formatAddress,
  indent,
  prettySize,
  pyFixed,
} from '../src/human.js';
import { ansi } from '../src/style.js';

describe('human helpers (mitmproxy.utils.human / strutils)', () => {
  it.each([
    [0, '0b'],
    [100, '100b'],
    [1023, '1023b'],
    [1024, '1.0k'],
    [1280, '1.2k'], // an exact tie: Python rounds half to even
    [1536, '1.5k'],
    [2000, '2.0k'],
    [102348, '99.9k'],
    [102349, '100k'],
    [1024 * 1024 - 1, '1024k'],
    [1024 ** 3 * 5, '5.0g'],
    [1024 ** 4 * 2000, '2000t'],
  ])('prettySize(%i) = %s', (n, s) => {
    expect(prettySize(n)).toBe(s);
  });

  it('rounds ties to even like Python', () => {
    expect(pyFixed(0.125, 2)).toBe('0.12');
    expect(pyFixed(0.375, 2)).toBe('0.38');
    expect(pyFixed(2.5, 0)).toBe('2');
    expect(pyFixed(1.25, 1)).toBe('1.2');
    expect(pyFixed(1.35, 1)).toBe('1.4');
  });

  it.each([
    [['127.0.0.1', 80], '127.0.0.1:80'],
    [['0.0.0.0', 8080], '*:8080'],
    [['::', 8080], '*:8080'],
    [['::ffff:10.0.0.1', 5], '10.0.0.1:5'],
    [['::ffff:7f00:1', 5], '127.0.0.1:5'],
    [['2001:DB8:0:0:0::1', 443], '[2001:db8::1]:443'],
    [['example.com', 443], 'example.com:443'],
    [null, '<no address>'],
  ] as const)('formatAddress(%j) = %s', (addr, s) => {
    expect(formatAddress(addr as never)).toBe(s);
  });

  it('escapes bytes like bytes_to_escaped_str', () => {
    expect(bytesToEscaped(Buffer.from('ab\x00\xff\'"\\\t\n\xe4\x7f', 'latin1'))).toBe(
      'ab\\x00\\xff\'"\\\\\\t\\n\\xe4\\x7f',
    );
    expect(bytesToEscaped(Buffer.from('a\tb\r\n'), true)).toBe('a\tb\r\n');
    expect(bytesToEscaped(Buffer.from('plain'))).toBe('plain');
  });

  it('replaces control characters', () => {
    expect(escapeControl('a\x00b\tc\nd\x7f')).toBe('a.b\tc\nd.');
    expect(escapeControl('a\tb\n', false)).toBe('a.b.');
  });

  it('indents like Python (strip, splitlines)', () => {
    expect(indent(4, '  a\r\nb\rc\n\n')).toBe('    a\n    b\n    c');
    expect(indent(2, '   ')).toBe('');
  });

  it('cuts after n lines', () => {
    expect(cutAfterNLines('a\nb\nc\n', 2)).toBe('a\nb\n');
    expect(cutAfterNLines('a\nb', 2)).toBe('a\nb');
    expect(cutAfterNLines('a', 1)).toBe('a');
  });

  it('styles with click escape sequences', () => {
    expect(ansi('x', { fg: 'bright_blue' })).toBe('\x1b[94mx\x1b[0m');
    expect(ansi('x', { dim: true })).toBe('\x1b[2mx\x1b[0m');
    expect(ansi('x', { fg: null, bold: true })).toBe('\x1b[1mx\x1b[0m');
    expect(ansi('x', { fg: 'red', bold: true, blink: true })).toBe('\x1b[31m\x1b[1m\x1b[5mx\x1b[0m');
    expect(ansi('x', {})).toBe('x');
  });
});
