import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bytesToDisplay, printfBytes, shQuote } from '../src/index.js';

describe('shell quoting', () => {
  it.each([
    ['plain', 'plain'],
    ['', "''"],
    ['a b', "'a b'"],
    ["it's", `'it'"'"'s'`],
    ['$HOME `id` "x" \\n', `'$HOME \`id\` "x" \\n'`],
    ['https://example.com/a?b=c&d', "'https://example.com/a?b=c&d'"],
  ])('quotes %j as %s', (input, quoted) => {
    expect(shQuote(input)).toBe(quoted);
  });

  it.each(['sh', 'bash'])('%s reads every quoted word back unchanged', (shell) => {
    const words = ["it's", '$HOME', '`id`', 'a\nb', 'tab\there', 'ünïcødé', '!', '*', '"', '\\'];
    const out = execFileSync(shell, ['-c', `printf '%s\\0' ${words.map(shQuote).join(' ')}`]);
    expect(out.toString('utf8').split('\0').slice(0, -1)).toEqual(words);
  });

  it.each(['sh', 'bash'])('%s: printf writes every byte value back exactly', (shell) => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const text = Buffer.from("100% sure: it's a \\ back\nslash\tand ünïcødé\r\n", 'utf8');
    for (const bytes of [all, text]) {
      expect(execFileSync(shell, ['-c', printfBytes(bytes)]).equals(bytes)).toBe(true);
    }
  });

  it('keeps UTF-8 text readable in printf, escaping only what the shell or printf would change', () => {
    expect(printfBytes(Buffer.from("ü 100% it's\n"))).toBe("printf 'ü 100%% it\\047s\\n'");
  });

  it('shows bytes that are not UTF-8 as \\xNN, like Python backslashreplace', () => {
    expect(bytesToDisplay(Buffer.from([0x61, 0xff, 0xc3, 0xa9, 0xe0, 0x80, 0x62]))).toBe('a\\xffé\\xe0\\x80b');
    expect(bytesToDisplay(Buffer.from('plain ✓', 'utf8'))).toBe('plain ✓');
  });
});
