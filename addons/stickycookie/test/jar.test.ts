import { describe, expect, it } from 'vitest';
import { CookieAttrs } from '@mitmts/sdk';
import { CookieJar, domainMatches, expiryOf, pathMatches } from '../src/jar.js';

const NOW = 1_700_000_000;
const attrs = (pairs: Array<[string, string | null]> = []) => new CookieAttrs(pairs);

describe('domainMatches', () => {
  const cases: Array<[string, string, boolean]> = [
    ['example.com', 'example.com', true],
    ['www.example.com', 'example.com', false], // host-only cookie
    ['www.example.com', '.example.com', true],
    ['example.com', '.example.com', true],
    ['a.b.example.com', '.example.com', true],
    ['notexample.com', '.example.com', false],
    ['example.com.evil', '.example.com', false],
    ['10.0.0.1', '.0.0.1', false],
    ['10.0.0.1', '10.0.0.1', true],
    ['::1', '::1', true],
  ];
  it.each(cases)('%s against %s: %s', (host, domain, expected) => {
    expect(domainMatches(host, domain)).toBe(expected);
  });
});

describe('pathMatches', () => {
  const cases: Array<[string, string, boolean]> = [
    ['/', '/', true],
    ['/anything', '/', true],
    ['/api', '/api', true],
    ['/api/x', '/api', true],
    ['/api/x', '/api/', true],
    ['/apix', '/api', false],
    ['/', '/api', false],
    ['/ap', '/api', false],
  ];
  it.each(cases)('%s against cookie path %s: %s', (path, cookiePath, expected) => {
    expect(pathMatches(path, cookiePath)).toBe(expected);
  });
});

describe('expiryOf', () => {
  it('reads Max-Age before Expires, and treats Max-Age <= 0 as expired', () => {
    expect(expiryOf(attrs(), NOW)).toBeNull();
    expect(expiryOf(attrs([['Max-Age', '60']]), NOW)).toBe(NOW + 60);
    expect(expiryOf(attrs([['max-age', '0']]), NOW)).toBe(-Infinity);
    expect(expiryOf(attrs([['max-age', '-5']]), NOW)).toBe(-Infinity);
    expect(expiryOf(attrs([['expires', 'Wed, 21 Oct 2015 07:28:00 GMT']]), NOW)).toBe(1445412480);
    expect(
      expiryOf(
        attrs([
          ['expires', 'Wed, 21 Oct 2015 07:28:00 GMT'],
          ['max-age', '60'],
        ]),
        NOW,
      ),
    ).toBe(NOW + 60);
    expect(expiryOf(attrs([['expires', 'not a date']]), NOW)).toBeNull();
    expect(
      expiryOf(
        attrs([
          ['max-age', 'soon'],
          ['expires', 'Wed, 21 Oct 2015 07:28:00 GMT'],
        ]),
        NOW,
      ),
    ).toBe(1445412480);
  });
});

describe('CookieJar', () => {
  it('keys cookies by domain, port and path', () => {
    const jar = new CookieJar();
    jar.store('Example.com', 80, 'a', '1', attrs(), NOW);
    jar.store('example.com', 80, 'b', '2', attrs([['Path', '/api']]), NOW);
    jar.store('www.example.com', 80, 'c', '3', attrs([['Domain', 'Example.com']]), NOW);
    jar.store('example.com', 8080, 'd', '4', attrs(), NOW);
    expect(jar.entries()).toEqual([
      ['example.com', 80, '/', [['a', '1']]],
      ['example.com', 80, '/api', [['b', '2']]],
      ['.example.com', 80, '/', [['c', '3']]],
      ['example.com', 8080, '/', [['d', '4']]],
    ]);
    expect(jar.cookiesFor('EXAMPLE.COM', 80, '/api/v1', NOW)).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]);
    expect(jar.cookiesFor('api.example.com', 80, '/', NOW)).toEqual([['c', '3']]);
    expect(jar.cookiesFor('example.com', 8080, '/', NOW)).toEqual([['d', '4']]);
    expect(jar.cookiesFor('example.org', 80, '/', NOW)).toEqual([]);
  });

  it('ignores a Domain that does not cover the host that set it', () => {
    const jar = new CookieJar();
    jar.store('www.example.com', 80, 'a', '1', attrs([['domain', 'evil.com']]), NOW);
    jar.store('example.com', 80, 'b', '1', attrs([['domain', 'www.example.com']]), NOW);
    jar.store('10.0.0.1', 80, 'c', '1', attrs([['domain', '0.0.1']]), NOW);
    expect(jar.size).toBe(0);
    jar.store('example.com', 80, 'd', '1', attrs([['domain', '.']]), NOW); // empty Domain: host-only
    expect(jar.entries()).toEqual([['example.com', 80, '/', [['d', '1']]]]);
  });

  it('replaces a cookie of the same name and removes expired ones, dropping empty entries', () => {
    const jar = new CookieJar();
    jar.store('h', 80, 'a', '1', attrs(), NOW);
    jar.store('h', 80, 'b', '1', attrs(), NOW);
    jar.store('h', 80, 'a', '2', attrs(), NOW);
    expect(jar.cookiesFor('h', 80, '/', NOW)).toEqual([
      ['a', '2'],
      ['b', '1'],
    ]);
    jar.store('h', 80, 'a', 'x', attrs([['Max-Age', '0']]), NOW);
    expect(jar.cookiesFor('h', 80, '/', NOW)).toEqual([['b', '1']]);
    jar.store('h', 80, 'b', 'x', attrs([['expires', 'Thu, 01 Jan 1970 00:00:00 GMT']]), NOW);
    expect(jar.size).toBe(0);
    jar.store('h', 80, 'c', 'x', attrs([['max-age', '-1']]), NOW);
    expect(jar.size).toBe(0);
  });

  it('stops sending a cookie once its lifetime is over', () => {
    const jar = new CookieJar();
    jar.store('h', 80, 'short', '1', attrs([['max-age', '10']]), NOW);
    jar.store('h', 80, 'session', '1', attrs(), NOW);
    expect(jar.cookiesFor('h', 80, '/', NOW + 9)).toEqual([
      ['short', '1'],
      ['session', '1'],
    ]);
    expect(jar.cookiesFor('h', 80, '/', NOW + 10)).toEqual([['session', '1']]);
    expect(jar.entries()).toEqual([['h', 80, '/', [['session', '1']]]]);
  });

  it('leaves out names the request already sends', () => {
    const jar = new CookieJar();
    jar.store('h', 80, 'a', '1', attrs(), NOW);
    jar.store('h', 80, 'b', '2', attrs(), NOW);
    expect(jar.cookiesFor('h', 80, '/', NOW, new Set(['a']))).toEqual([['b', '2']]);
    jar.clear();
    expect(jar.size).toBe(0);
  });
});
