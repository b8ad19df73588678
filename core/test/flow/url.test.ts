import { describe, expect, it } from 'vitest';
import { url, decodeMultipart, encodeMultipart } from '../../src/flow/index.js';

describe('url helpers', () => {
  it('parseUrl', () => {
    expect(url.parseUrl('http://example.com')).toEqual(['http', 'example.com', 80, '/']);
    expect(url.parseUrl('https://example.com?x')).toEqual(['https', 'example.com', 443, '/?x']);
    expect(url.parseUrl('  HTTP://EXAMPLE.com:0/a?')).toEqual(['http', 'example.com', 80, '/a']);
    expect(url.parseUrl('http://under_score.example/')).toEqual(['http', 'under_score.example', 80, '/']);
    expect(url.parseUrl('http://127.0.0.1:8080/a;p?q=1#f')).toEqual(['http', '127.0.0.1', 8080, '/a;p?q=1#f']);
    expect(() => url.parseUrl('example.com/path')).toThrow(/No hostname/);
    expect(() => url.parseUrl('http://[::1/')).toThrow(/Invalid IPv6/);
  });

  it('hostport, unparse, defaultPort', () => {
    expect(url.hostport('http', 'a', 80)).toBe('a');
    expect(url.hostport('https', 'a', 80)).toBe('a:80');
    expect(url.hostport('https', '::1', 8443)).toBe('[::1]:8443');
    expect(url.unparse('http', 'a', 81, '*')).toBe('http://a:81');
    expect(url.defaultPort('ftp')).toBeNull();
  });

  it('parseAuthority', () => {
    expect(url.parseAuthority('example.com:8080', true)).toEqual(['example.com', 8080]);
    expect(url.parseAuthority('[::1]', true)).toEqual(['::1', null]);
    expect(url.parseAuthority('a b', false)).toEqual(['a b', null]);
    expect(() => url.parseAuthority('a:99999', true)).toThrow(/Invalid authority/);
  });

  it('parseAuthorityCached answers as the unchecked parseAuthority, the same host twice or alternating', () => {
    const inputs = ['example.com:8080', 'example.com:8080', '[::1]:443', 'a b', 'a:99999', 'example.com:8080', 'h', ''];
    for (const a of [...inputs, ...inputs.reverse()])
      expect(url.parseAuthorityCached(a)).toEqual(url.parseAuthority(a, false));
    // A repeat is the same answer, not parsed again.
    expect(url.parseAuthorityCached('x.example:1')).toBe(url.parseAuthorityCached('x.example:1'));
  });

  it('quote, unquote, query encoding', () => {
    expect(url.quote('a b/c€')).toBe('a%20b/c%E2%82%AC');
    expect(url.quote('a/b', '')).toBe('a%2Fb');
    expect(url.unquote('%E2%82%AC%20%zz%ff')).toBe('€ %zz\u00ff');
    expect(url.decodeQuery('a=1&&b&c=%20+x&=v')).toEqual([
      ['a', '1'],
      ['b', ''],
      ['c', '  x'],
      ['', 'v'],
    ]);
    expect(
      url.encodeQuery([
        ['a b', 'c&d'],
        ['e', ''],
      ]),
    ).toBe('a+b=c%26d&e=');
    expect(
      url.encodeQuery(
        [
          ['e', ''],
          ['f', ''],
        ],
        'e&f',
      ),
    ).toBe('e&f');
  });
});

describe('multipart', () => {
  it('round-trips and rejects values containing the boundary', () => {
    const ct = 'multipart/form-data; boundary=B0';
    const body = encodeMultipart(ct, [
      ['a', 'x'],
      [Buffer.from('b'), Buffer.from('y\r\nz')],
    ]);
    expect(body.toString()).toBe(
      '--B0\r\nContent-Disposition: form-data; name="a"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nx\r\n' +
        '--B0\r\nContent-Disposition: form-data; name="b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ny\r\nz\r\n--B0--\r\n',
    );
    expect(decodeMultipart(ct, body).map(([k, v]) => [k.toString(), v.toString()])).toEqual([
      ['a', 'x'],
      ['b', 'y\r\nz'],
    ]);
    expect(() => encodeMultipart(ct, [['a', 'x\r\n--B0\r\n']])).toThrow(/contains the boundary/);
    expect(encodeMultipart('text/plain', [['a', 'b']]).length).toBe(0);
    expect(
      decodeMultipart(
        'multipart/form-data; boundary="q"',
        Buffer.from('--q\nContent-Disposition: form-data; name="k"\n\nv\n--q--'),
      ),
    ).toEqual([[Buffer.from('k'), Buffer.from('v')]]);
    expect(decodeMultipart(null, Buffer.from(''))).toEqual([]);
  });
});
