/**
 * Floats parsed straight from bytes must be exactly what `Number(text)` gives (a timestamp one
 * ulp off would be written back differently), or hand the literal back to the text parser.
 */
import { describe, expect, it } from 'vitest';
import { parseDecimalBytes, parsePyFloat, pyFloatRepr } from '../../src/io/pyfloat.js';
import { decode } from '../../src/io/tnetstring.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const parse = (s: string): number | undefined => parseDecimalBytes(bytes(s), 0, s.length);

// xorshift32: deterministic, so a failure can be replayed.
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Parse `text` and check the result against Number(); returns whether the fast path took it. */
function check(text: string): boolean {
  const v = parse(text);
  if (v === undefined) return false;
  if (!Object.is(v, Number(text))) throw new Error(`${text}: got ${v}, Number() gives ${Number(text)}`);
  return true;
}

describe('parseDecimalBytes', () => {
  it('parses plain decimals exactly like Number()', () => {
    for (const t of [
      '0.0',
      '-0.0',
      '1.',
      '.5',
      '00012.5',
      '946681200.0',
      '1700000000.7756329',
      '1795308226.2792192',
      '0.30000000000000004',
      '9007199254740993',
      '123456789012345678.9',
      '0.000123',
      '-2.5',
    ]) {
      expect(check(t), t).toBe(true);
    }
    expect(Object.is(parse('-0.0'), -0)).toBe(true);
    // 2^53 + 1 lies exactly between two doubles: a tie goes back to the text parser.
    expect(parse('9007199254740993.0')).toBeUndefined();
  });

  it('leaves exponents, specials, blanks, long literals and invalid text to the text parser', () => {
    for (const t of [
      '1e-05',
      '1.5e+16',
      'inf',
      '-inf',
      'nan',
      ' 2.5',
      '2.5 ',
      '+1.0',
      '',
      '.',
      '-',
      '1.2.3',
      '1_000.0',
      '12345678901234567890.5',
      '1.00000000000000000000001',
    ]) {
      expect(parse(t), t).toBeUndefined();
    }
  });

  it('agrees with Number() on a million timestamps as mitmproxy writes them', () => {
    const r = rng(42);
    let fast = 0;
    for (let i = 0; i < 1_000_000; i++) if (check(pyFloatRepr(1.6e9 + r() * 2e8))) fast++;
    // Python's repr of a timestamp has at most 17 digits: every one takes the fast path.
    expect(fast).toBe(1_000_000);
  });

  it('agrees with Number() on random digit strings and on decimals next to binary ties', () => {
    const r = rng(7);
    const digits = (n: number): string => Array.from({ length: n }, () => String(Math.floor(r() * 10))).join('');
    for (let i = 0; i < 300_000; i++) {
      const n = 1 + Math.floor(r() * 19);
      const d = digits(n);
      const dot = Math.floor(r() * (n + 1));
      check(`${r() < 0.3 ? '-' : ''}${d.slice(0, dot)}.${d.slice(dot)}`);
    }
    // Exact midpoints between two doubles, written as decimals: (2m + 1) * 2^-k for 53-bit m.
    for (let i = 0; i < 50_000; i++) {
      const m = BigInt(Math.floor(r() * 2 ** 52)) + 2n ** 52n;
      const k = 1 + Math.floor(r() * 4);
      const num = ((2n * m + 1n) * 5n ** BigInt(k)).toString();
      check(`${num.slice(0, num.length - k)}.${num.slice(num.length - k)}`);
      // And one unit in the last place to either side of the tie.
      const up = ((2n * m + 1n) * 5n ** BigInt(k) + 1n).toString();
      check(`${up.slice(0, up.length - k)}.${up.slice(up.length - k)}`);
    }
  });

  it('is what the tnetstring decoder returns for floats', () => {
    for (const t of ['1700000000.7756329', '1e-05', 'inf', '0.0']) {
      expect(Object.is(decode(bytes(`${t.length}:${t}^`)), parsePyFloat(t))).toBe(true);
    }
  });
});
