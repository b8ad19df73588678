import { describe, expect, it } from 'vitest';
import { cookies, CookieAttrs } from '../../src/flow/index.js';

describe('cookie parsing and formatting', () => {
  it('parses Cookie headers leniently', () => {
    expect(cookies.parseCookieHeader('a=b; c; d="x y"; =e')).toEqual([
      ['a', 'b'],
      ['c', ''],
      ['d', 'x y'],
      ['', 'e'],
    ]);
    expect(cookies.parseCookieHeader('one=uno')).toEqual([['one', 'uno']]);
    expect(cookies.parseCookieHeader('one="uno; dos"; two=2')).toEqual([
      ['one', 'uno; dos'],
      ['two', '2'],
    ]);
    expect(cookies.parseCookieHeader('')).toEqual([]);
    expect(cookies.parseCookieHeaders(['a=1', 'b=2'])).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  it('formats Cookie headers, quoting special values', () => {
    expect(
      cookies.formatCookieHeader([
        ['a', 'b'],
        ['c', 'x y'],
        ['d', 'q"\\'],
      ]),
    ).toBe('a=b; c="x y"; d="q\\"\\\\"');
  });

  it('parses Set-Cookie with the comma form and expires dates', () => {
    const parsed = cookies.parseSetCookieHeader(
      'a=b; HttpOnly; Path=/; expires=Wed, 21 Oct 2015 07:28:00 GMT, c=d; Secure',
    );
    expect(parsed.map(([n, v, a]) => [n, v, a.fields])).toEqual([
      [
        'a',
        'b',
        [
          ['HttpOnly', null],
          ['Path', '/'],
          ['expires', 'Wed, 21 Oct 2015 07:28:00 GMT'],
        ],
      ],
      ['c', 'd', [['Secure', null]]],
    ]);
    expect(cookies.parseSetCookieHeader('')).toEqual([]);
    expect(cookies.parseSetCookieHeader('flag')[0]![1]).toBe('');
  });

  it('formats Set-Cookie without quoting expires/path and with bare flags', () => {
    const attrs = new CookieAttrs([
      ['expires', 'Wed, 21 Oct 2015 07:28:00 GMT'],
      ['Path', '/a b'],
      ['HttpOnly', null],
      ['Comment', 'x y'],
    ]);
    expect(cookies.formatSetCookieHeader([['n', 'v', attrs]])).toBe(
      'n=v; expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/a b; HttpOnly; Comment="x y"',
    );
  });

  it('CookieAttrs are case-insensitive and return the last value', () => {
    const a = new CookieAttrs([
      ['Max-Age', '1'],
      ['max-age', '2'],
    ]);
    expect(a.get('MAX-AGE')).toBe('2');
    expect(a.getAll('max-age')).toEqual(['1', '2']);
  });

  it('expiry helpers', () => {
    expect(cookies.isExpired(new CookieAttrs([['expires', 'Thu, 01 Jan 1970 00:00:01 GMT']]))).toBe(true);
    expect(cookies.isExpired(new CookieAttrs([['max-age', '3600']]))).toBe(false);
    expect(cookies.isExpired(new CookieAttrs([['max-age', '-1']]))).toBe(true);
    expect(cookies.isExpired(new CookieAttrs([]))).toBe(false);
    expect(cookies.getExpirationTs(new CookieAttrs([['expires', 'Thu, 01 Jan 1970 00:00:10 GMT']]))).toBe(10);
    const grouped = cookies.groupCookies([
      ['a', '1'],
      ['Path', '/'],
      ['b', '2'],
    ]);
    expect(grouped.map(([n, v, a]) => [n, v, a.fields])).toEqual([
      ['a', '1', [['Path', '/']]],
      ['b', '2', []],
    ]);
  });
});

describe('HTTP dates', () => {
  it('parses the formats Python parsedate_tz accepts, rejects garbage', () => {
    expect(cookies.parseHttpDate('Tue, 08-Mar-2011 00:20:38 GMT')).toBe(1299543638);
    expect(cookies.parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(784111777);
    expect(cookies.parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(784111777);
    expect(cookies.parseHttpDate('Wed, 21 Oct 2015 07:28:00 +0200')).toBe(1445405280);
    expect(cookies.parseHttpDate('garbage 12')).toBeNull();
    expect(cookies.parseHttpDate('2015-10-21')).toBeNull();
    expect(cookies.formatHttpDate(1445412480.9)).toBe('Wed, 21 Oct 2015 07:28:00 GMT');
  });
});
