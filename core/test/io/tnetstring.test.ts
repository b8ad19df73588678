import { describe, expect, it } from 'vitest';
import { TnetstringDepthError, TnetstringError } from '../../src/io/errors.js';
import { parsePyFloat, pyFloatRepr } from '../../src/io/pyfloat.js';
import { decode, decodeAt, encode, FLOAT, measure, TnetFloat } from '../../src/io/tnetstring.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('pyFloatRepr: Python repr(float)', () => {
  // Pairs produced by CPython 3.11: repr(float(x)).
  const cases: Array<[number, string]> = [
    [1, '1.0'],
    [946681200, '946681200.0'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [1e16, '1e+16'],
    [1.5e16, '1.5e+16'],
    [123456789.125, '123456789.125'],
    [-0, '-0.0'],
    [0, '0.0'],
    [1e300, '1e+300'],
    [2.5e-310, '2.5e-310'],
    [1234567890123456, '1234567890123456.0'],
    [9999999999999998, '9999999999999998.0'],
    [0.1 + 0.2, '0.30000000000000004'],
    [1e22, '1e+22'],
    [5e-324, '5e-324'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [NaN, 'nan'],
    [-1e-7, '-1e-07'],
    [1.7e308, '1.7e+308'],
    [12345678901234567890, '1.2345678901234567e+19'],
    [1795308226.2792192, '1795308226.2792192'],
    [0.5, '0.5'],
    [-2.5, '-2.5'],
    [0.00012, '0.00012'],
    [0.000012, '1.2e-05'],
  ];
  it.each(cases)('%s -> %s', (x, want) => {
    expect(pyFloatRepr(x)).toBe(want);
  });
  it('parses what Python float() accepts and rejects the rest', () => {
    expect(parsePyFloat('1e-05')).toBe(1e-5);
    expect(parsePyFloat('946681200.0')).toBe(946681200);
    expect(parsePyFloat('1.')).toBe(1);
    expect(parsePyFloat('.5')).toBe(0.5);
    expect(parsePyFloat('inf')).toBe(Infinity);
    expect(parsePyFloat('-Infinity')).toBe(-Infinity);
    expect(parsePyFloat('nan')).toBeNaN();
    expect(parsePyFloat(' 2.5 ')).toBe(2.5);
    for (const bad of ['', '.', 'e5', '1e', '0x10', 'abc', '1.2.3', '--1', 'constructor']) {
      expect(parsePyFloat(bad), bad).toBeUndefined();
    }
  });
});

describe('tnetstring encode', () => {
  it('writes exactly what mitmproxy writes (dict entries in reverse, lists in order)', () => {
    // Output of mitmproxy.io.tnetstring.dumps for the same value (CPython, mitmproxy 8.1.1).
    const value = {
      k: [1, -2, 3.25, true, false, null, b('\x00\xff'), 'é', [], {}],
      big: 12345678901234567890n,
    };
    expect(encode(value).toString('latin1')).toBe(
      '88:3:big;20:12345678901234567890#1:k;50:1:1#2:-2#4:3.25^4:true!5:false!0:~2:\x00\xff,2:\xc3\xa9;0:]0:}]}',
    );
  });
  it('writes integral floats as floats where the schema or TnetFloat says so', () => {
    expect(encode(946681200).toString()).toBe('9:946681200#');
    expect(encode(946681200, FLOAT).toString()).toBe('11:946681200.0^');
    expect(encode(new TnetFloat(1)).toString()).toBe('3:1.0^');
    expect(encode({ t: 5, n: 5 }, { fields: { t: FLOAT } }).toString()).toBe('18:1:n;1:5#1:t;3:5.0^}');
    expect(encode([1, 2], { tuple: [undefined, FLOAT] }).toString()).toBe('10:1:1#3:2.0^]');
    expect(encode([1, 2], { items: FLOAT }).toString()).toBe('12:3:1.0^3:2.0^]');
  });
  it('orders dict keys by schema order, extras after', () => {
    const out = encode({ z: 1, b: 2, a: 3 }, { fields: {}, order: ['a', 'b'] }).toString();
    // Reverse of a, b, z on disk.
    expect(out).toBe('24:1:z;1:1#1:b;1:2#1:a;1:3#}');
  });
  it('grows its buffer for large values', () => {
    const big = Buffer.alloc(100_000, 0x61);
    const out = encode([big, 'x'.repeat(10_000), { k: big }]);
    expect(decode(out)).toEqual([big, 'x'.repeat(10_000), { k: big }]);
  });
  it('writes huge integral numbers without exponent', () => {
    expect(encode(1e21).toString()).toBe('22:1000000000000000000000#');
  });
  it('rejects unencodable values', () => {
    expect(() => encode(() => 1)).toThrow(TypeError);
  });
});

describe('tnetstring decode', () => {
  it('round-trips every type', () => {
    const v = { a: [1, -2, 2.5, true, false, null, b('bytes'), 'téxt', [[]], { x: {} }], '': 0 };
    expect(decode(encode(v))).toEqual(v);
  });
  it('returns bytes as views of the input (no copy)', () => {
    const buf = b('5:hello,');
    const v = decode(buf) as Buffer;
    expect(v.buffer).toBe(buf.buffer);
    expect(v.toString()).toBe('hello');
  });
  it('decodes bytes keys (Python 2 files) as strings and guards __proto__', () => {
    const v = decode(b('32:7:version,4:0.11;9:__proto__;0:~}')) as Record<string, unknown>;
    expect(v.version).toBe('0.11');
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['version', '__proto__']);
  });
  it('decodes big ints as bigint and keeps safe ones as numbers', () => {
    expect(decode(b('20:12345678901234567890#'))).toBe(12345678901234567890n);
    expect(decode(b('16:9007199254740991#'))).toBe(9007199254740991);
    expect(decode(b('3:-12#'))).toBe(-12);
    // And they are written back as they were read.
    expect(encode(12345678901234567890n).toString()).toBe('20:12345678901234567890#');
    expect(encode(-(2n ** 64n)).toString()).toBe('21:-18446744073709551616#');
  });
  it('decodes Python float literals', () => {
    expect(decode(b('5:1e-05^'))).toBe(1e-5);
    expect(decode(b('3:inf^'))).toBe(Infinity);
  });
  const bad: Array<[string, RegExp, number, boolean]> = [
    ['', /length prefix at byte 0, but the input ends/, 0, true],
    ['12', /input ends inside the length prefix/, 0, true],
    ['5:abc', /declares 5 payload bytes but the input ends after 3/, 0, true],
    ['x:', /expected a decimal length prefix and ':' at byte 0, found 'x'/, 0, false],
    [':~', /expected a decimal length prefix before ':' at byte 0/, 0, false],
    ['1234567890123:', /longer than 12 digits/, 0, false],
    ['1:a?', /unknown tnetstring type tag '\?' \(0x3f\) at byte 3/, 3, false],
    ['2:1x#', /invalid integer literal "1x" at byte 2/, 2, false],
    ['1:-#', /invalid integer literal/, 2, false],
    ['3:1.x^', /invalid float literal "1.x"/, 2, false],
    ['3:yes!', /invalid boolean literal "yes"/, 2, false],
    ['1:x~', /null at byte 0 has a non-empty payload/, 0, false],
    ['5:1:a;1}', /its enclosing list or dict ends inside the length prefix that starts at byte 6/, 6, false],
    ['4:1:a;}', /dict at byte 0 has a key without a value/, 2, false],
    ['10:9:abc,1:x,]', /value at byte 3 declares 9 payload bytes, more than the 8 left in its enclosing/, 3, false],
    ['6:0:~0:~}', /dict key at byte 2 is not a string \(found null\)/, 2, false],
  ];
  it.each(bad)('rejects %j', (input, msg, offset, truncated) => {
    let err: unknown;
    try {
      decode(b(input));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TnetstringError);
    const e = err as TnetstringError;
    expect(e.message).toMatch(msg);
    expect(e.offset).toBe(offset);
    expect(e.truncated).toBe(truncated);
  });
  it('rejects trailing data in decode() and reports positions relative to base', () => {
    expect(() => decode(b('0:~x'))).toThrow(/unexpected data after the tnetstring at byte 3/);
    expect(() => decodeAt(b('xx1:a?'), 2, 6, 100)).toThrow(
      /type tag '\?' \(0x3f\) at byte 105 \(value starting at byte 102\)/,
    );
  });
  it('measure() returns the record length or -1 for an incomplete prefix', () => {
    expect(measure(b('5:hello,rest'), 0, 12)).toBe(8);
    expect(measure(b('123'), 0, 3)).toBe(-1);
    expect(measure(b('5:he'), 0, 4)).toBe(8);
    expect(() => measure(b('x'), 0, 1)).toThrow(TnetstringError);
  });
});

/** `depth` lists nested around a null, written inside out (`[[[null]]]`). */
function nestedLists(depth: number): Buffer {
  let inner = '0:~';
  for (let i = 0; i < depth; i++) inner = `${inner.length}:${inner}]`;
  return Buffer.from(inner, 'latin1');
}

describe('tnetstring decode: nesting limit', () => {
  it(`decodes ${TnetstringDepthError.LIMIT} nested lists`, () => {
    let v = decode(nestedLists(TnetstringDepthError.LIMIT));
    let depth = 0;
    while (Array.isArray(v)) {
      v = v[0]!;
      depth++;
    }
    expect(depth).toBe(TnetstringDepthError.LIMIT);
  });

  it('refuses one level more with a TnetstringDepthError, not a RangeError, and decodes on afterwards', () => {
    const err = (() => {
      try {
        decode(nestedLists(TnetstringDepthError.LIMIT + 1));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TnetstringDepthError);
    expect(err).toBeInstanceOf(TnetstringError);
    expect((err as TnetstringDepthError).truncated).toBe(false);
    expect((err as Error).message).toMatch(/more than 1000 levels deep/);
    // The depth counter starts over with the next input.
    expect(decode(nestedLists(3))).toEqual([[[null]]]);
  });

  it('refuses 100,000 levels (a hostile file) without exhausting the stack', () => {
    expect(() => decode(nestedLists(100_000))).toThrow(TnetstringDepthError);
  });
});
