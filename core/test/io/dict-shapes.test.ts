/**
 * Dicts decoded through learned shapes (one object literal per key sequence) are the same
 * objects as dicts built key by key: same keys, same order, same values, in every corner.
 */
import { describe, expect, it } from 'vitest';
import { TnetstringError } from '../../src/io/errors.js';
import { decode, encode, type TnetValue } from '../../src/io/tnetstring.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A dict as key/value pairs, encoded in this order (the encoder writes objects back to front). */
function dictBytes(pairs: Array<[string, string]>): Buffer {
  const body = pairs.map(([k, v]) => `${Buffer.byteLength(k)}:${k};${v}`).join('');
  return b(`${Buffer.byteLength(body, 'latin1')}:${body}}`);
}

/** What building the dict key by key gives. */
function keyByKey(pairs: Array<[string, TnetValue]>): Record<string, TnetValue> {
  const o: Record<string, TnetValue> = {};
  for (const [k, v] of pairs) {
    if (k === '__proto__')
      Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    else o[k] = v;
  }
  return o;
}

function same(actual: unknown, pairs: Array<[string, TnetValue]>): void {
  const want = keyByKey(pairs);
  expect(Object.getPrototypeOf(actual)).toBe(Object.prototype);
  expect(Object.keys(actual as object)).toEqual(Object.keys(want));
  expect(actual).toEqual(want);
}

describe('dict shapes', () => {
  it('decodes the same dict the same way the first time and every time after', () => {
    const v = { a: 1, b: [b('x'), 'y'], c: { d: null, e: true }, f: 2.5 };
    const bytes = encode(v);
    for (let i = 0; i < 5; i++) expect(decode(bytes)).toEqual(v);
  });

  it('keeps insertion order, duplicate keys (last value, first position) and integer-like keys as key by key', () => {
    const pairs: Array<[string, string]> = [
      ['z', '1:1#'],
      ['10', '1:2#'],
      ['a', '1:3#'],
      ['z', '1:4#'],
      ['2', '1:5#'],
    ];
    const values: Array<[string, TnetValue]> = [
      ['z', 1],
      ['10', 2],
      ['a', 3],
      ['z', 4],
      ['2', 5],
    ];
    for (let i = 0; i < 3; i++) same(decode(dictBytes(pairs)), values);
  });

  it('never lets a __proto__ key set the prototype', () => {
    const pairs: Array<[string, string]> = [
      ['x', '1:1#'],
      ['__proto__', '0:}'],
    ];
    for (let i = 0; i < 3; i++) {
      const v = decode(dictBytes(pairs)) as Record<string, unknown>;
      expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
      expect(Object.keys(v)).toEqual(['x', '__proto__']);
      expect(Object.getOwnPropertyDescriptor(v, '__proto__')!.value).toEqual({});
    }
  });

  it('tells keys apart that differ in one byte, in their type (text or bytes) or in length', () => {
    const a = decode(b('8:1:a;1:1#}')) as Record<string, unknown>;
    const bytesKey = decode(b('8:1:a,1:2#}')) as Record<string, unknown>;
    const other = decode(b('8:1:b;1:3#}')) as Record<string, unknown>;
    const longer = decode(b('9:2:ab;1:4#}')) as Record<string, unknown>;
    expect([a, bytesKey, other, longer]).toEqual([{ a: 1 }, { a: 2 }, { b: 3 }, { ab: 4 }]);
    // Keys that share their first four bytes (matched a word at a time) and an empty key.
    const words = ['timestamp_start', 'timestamp_end', 'timestamp_tls_setup', 'timestamp_tcp_setup', ''];
    for (let i = 0; i < 3; i++) {
      for (const k of words) expect(decode(dictBytes([[k, '1:7#']]))).toEqual({ [k]: 7 });
    }
  });

  it('builds dicts with more keys or more variants than the shape trie holds, key by key', () => {
    const many: Array<[string, string]> = Array.from({ length: 100 }, (_, i) => [`k${i}`, `${String(i).length}:${i}#`]);
    const values = many.map(([k], i): [string, TnetValue] => [k, i]);
    for (let i = 0; i < 3; i++) same(decode(dictBytes(many)), values);
    // 50 dicts whose first keys differ: more children than one node takes.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 50; i++) {
        const pairs: Array<[string, string]> = [
          [`first${i}`, '0:~'],
          ['second', '1:1#'],
          [`third${i % 3}`, '4:true!'],
        ];
        same(decode(dictBytes(pairs)), [
          [`first${i}`, null],
          ['second', 1],
          [`third${i % 3}`, true],
        ]);
      }
    }
  });

  it('reports a key without a value at its position, also for a known key sequence', () => {
    decode(b('8:1:a;1:1#}'));
    expect(() => decode(b('4:1:a;}'))).toThrow(/dict at byte 0 has a key without a value \(key at byte 2\)/);
    expect(() => decode(b('12:1:a;1:1#1:a;}'))).toThrow(/key without a value \(key at byte 11\)/);
  });

  it('recovers after a decode failed inside nested dicts', () => {
    const good = encode({ a: { b: { c: 1, d: 2 } } });
    const bad = Buffer.from(good);
    bad[bad.indexOf('#')] = 0x3f; // '?': an unknown type tag in the innermost dict
    expect(() => decode(bad)).toThrow(TnetstringError);
    expect(decode(good)).toEqual({ a: { b: { c: 1, d: 2 } } });
    expect(decode(encode({ a: { b: { c: 1 } } }))).toEqual({ a: { b: { c: 1 } } });
  });
});
