import { describe, expect, it } from 'vitest';
import { CookieAttrs, Headers, Response, tresp } from '../../src/flow/index.js';

describe('Response', () => {
  it('make() fills reason and body', () => {
    const r = Response.make(404, 'nö', { 'content-type': 'text/plain' });
    expect([r.statusCode, r.reason, r.httpVersion]).toEqual([404, 'Not Found', 'HTTP/1.1']);
    expect(r.rawContent).toEqual(Buffer.from([0x6e, 0xf6]));
    expect(r.headers.get('content-length')).toBe('2');
    const d = Response.make();
    expect([d.statusCode, d.reason, d.rawContent!.length]).toEqual([200, 'OK', 0]);
    expect(Response.make(599).reason).toBe('');
    expect(Response.make(200, Buffer.from('x'), [['a', 'b']]).headers.get('a')).toBe('b');
  });

  it('reason is latin1 and state round-trips', () => {
    const r = tresp({ reason: Buffer.from([0x4f, 0xe9]) });
    expect(r.reason).toBe('O\u00e9');
    expect(r.getState().reason).toEqual(Buffer.from([0x4f, 0xe9]));
    expect(Object.keys(r.getState()).sort()).toEqual(
      [
        'content',
        'headers',
        'http_version',
        'reason',
        'status_code',
        'timestamp_end',
        'timestamp_start',
        'trailers',
      ].sort(),
    );
    const c = r.copy();
    expect(c.getState()).toEqual(r.getState());
    expect(String(r)).toBe('Response(200, unknown content type, 7b)');
  });

  it('cookies parse Set-Cookie headers into name -> [value, attrs]', () => {
    const r = tresp();
    r.headers.add('set-cookie', 'sid=123; Path=/; HttpOnly');
    r.headers.add('set-cookie', 'x=1, y=2; expires=Wed, 21 Oct 2015 07:28:00 GMT');
    const items = r.cookies.items(true);
    expect(items.map(([k, [v, a]]) => [k, v, a.fields])).toEqual([
      [
        'sid',
        '123',
        [
          ['Path', '/'],
          ['HttpOnly', null],
        ],
      ],
      ['x', '1', []],
      ['y', '2', [['expires', 'Wed, 21 Oct 2015 07:28:00 GMT']]],
    ]);
    const [, attrs] = r.cookies.get('sid')!;
    expect(attrs.get('path')).toBe('/');
    expect(attrs.has('httponly')).toBe(true);
  });

  it('cookies write through to Set-Cookie headers', () => {
    const r = tresp();
    r.headers.add('set-cookie', 'sid=123; Path=/; HttpOnly');
    const [value, attrs] = r.cookies.get('sid')!;
    attrs.set('Domain', 'example.com');
    r.cookies.set('sid', [value + '4', attrs]);
    expect(r.headers.getAll('set-cookie')).toEqual(['sid=1234; Path=/; HttpOnly; Domain=example.com']);
    r.cookies.add('new', ['a b', new CookieAttrs([['Secure', null]])]);
    expect(r.headers.getAll('set-cookie')).toEqual([
      'sid=1234; Path=/; HttpOnly; Domain=example.com',
      'new="a b"; Secure',
    ]);
    r.cookies.delete('sid');
    expect(r.headers.getAll('set-cookie')).toEqual(['new="a b"; Secure']);
    r.cookies = [];
    expect(r.headers.has('set-cookie')).toBe(false);
  });

  it('refresh() shifts dates and cookie expiry for replay', () => {
    const r = tresp({
      timestampStart: Date.parse('Wed, 21 Oct 2015 07:28:00 GMT') / 1000,
      headers: new Headers([
        ['Date', 'Wed, 21 Oct 2015 07:28:00 GMT'],
        ['Expires', 'Wed, 21 Oct 2015 08:28:00 GMT'],
        ['Last-Modified', 'garbage'],
        ['Set-Cookie', 'a=b; expires=Wed, 21 Oct 2015 09:28:00 GMT; Path=/'],
        ['Set-Cookie', 'c=d; expires=nonsense'],
        ['Set-Cookie', '=novalue'],
      ]),
    });
    const now = Date.parse('Thu, 22 Oct 2015 07:28:00 GMT') / 1000;
    r.refresh(now);
    expect(r.headers.get('date')).toBe('Thu, 22 Oct 2015 07:28:00 GMT');
    expect(r.headers.get('expires')).toBe('Thu, 22 Oct 2015 08:28:00 GMT');
    expect(r.headers.get('last-modified')).toBe('garbage');
    expect(r.headers.getAll('set-cookie')).toEqual([
      'a=b; expires=Thu, 22 Oct 2015 09:28:00 GMT; Path=/',
      'c=d',
      '=novalue',
    ]);
  });
});
