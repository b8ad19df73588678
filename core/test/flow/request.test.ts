import { describe, expect, it } from 'vitest';
import { Headers, MultiDict, Request, treq, UrlError } from '../../src/flow/index.js';

describe('Request basics', () => {
  it('has mitmproxy attribute semantics', () => {
    const r = treq();
    expect([r.host, r.port, r.method, r.scheme, r.authority, r.path, r.httpVersion]).toEqual([
      'address',
      22,
      'GET',
      'http',
      '',
      '/path',
      'HTTP/1.1',
    ]);
    expect(r.url).toBe('http://address:22/path');
    expect(r.prettyUrl).toBe('http://address:22/path');
    expect(r.prettyHost).toBe('address');
    expect(r.firstLineFormat).toBe('relative');
    expect(String(r)).toBe('Request(GET address:22/path)');
  });

  it('method is uppercased, rawMethod is as received', () => {
    const r = treq({ method: Buffer.from('get') });
    expect(r.method).toBe('GET');
    expect(r.rawMethod).toBe('get');
    r.method = 'post';
    expect(r.method).toBe('POST');
  });

  it('keeps raw path bytes exactly and decodes them lazily', () => {
    const raw = Buffer.from([0x2f, 0xd1, 0x8f, 0x2f, 0xff]);
    const r = treq({ path: raw });
    expect(r.rawPath).toBe(raw);
    expect(r.path).toBe('/\u00d1\u008f/\u00ff'); // not valid UTF-8 as a whole: byte view
    const u = treq({ path: Buffer.from('/яч', 'utf8') });
    expect(u.path).toBe('/яч');
    u.path = '/new';
    expect(u.rawPath.toString()).toBe('/new');
  });

  it('setting url re-parses scheme, host, port and path', () => {
    const r = treq();
    r.url = 'https://Example.COM:8443/p?x=1';
    expect([r.scheme, r.host, r.port, r.path]).toEqual(['https', 'example.com', 8443, '/p?x=1']);
    expect(r.headers.has('host')).toBe(false);
    expect(r.url).toBe('https://example.com:8443/p?x=1');
    r.url = 'http://user:pw@foo.bar';
    expect([r.host, r.port, r.path]).toEqual(['foo.bar', 80, '/']);
    r.url = 'https://[::1]/x#frag';
    expect([r.host, r.port, r.path]).toEqual(['::1', 443, '/x#frag']);
    expect(r.url).toBe('https://[::1]/x#frag');
    r.url = 'http://bücher.de/?q';
    expect(r.host).toBe('xn--bcher-kva.de');
    expect(() => (r.url = 'http:///nohost')).toThrow(UrlError);
    expect(() => (r.url = 'http://a:99999/')).toThrow(/Port out of range/);
    expect(() => (r.url = 'http://a:x/')).toThrow(/Port could not be cast/);
    expect(() => (r.url = 'http://a b/')).toThrow(/Invalid host/);
  });

  it('setting host updates the Host header and authority if present', () => {
    const r = treq();
    r.host = 'example.com';
    expect(r.headers.has('host')).toBe(false);
    r.headers.set('Host', 'foo');
    r.authority = 'foo';
    r.host = 'example.org';
    // Current mitmproxy writes host:port (port left out when it is the scheme's default).
    expect(r.headers.get('Host')).toBe('example.org:22');
    expect(r.authority).toBe('example.org:22');
    r.url = 'http://foo.bar/baz';
    expect(r.headers.get('host')).toBe('foo.bar');
    expect(r.authority).toBe('foo.bar');
    r.url = 'http://localhost:8000/x';
    expect(r.headers.get('host')).toBe('localhost:8000');
    expect(r.authority).toBe('localhost:8000');
  });

  it('setting port updates the Host header and authority if present', () => {
    const r = treq();
    r.port = 8080;
    expect(r.headers.has('host')).toBe(false);
    r.headers.set('Host', 'address:22');
    r.port = 80;
    expect(r.headers.get('Host')).toBe('address');
    r.authority = 'address';
    r.port = 81;
    expect([r.headers.get('Host'), r.authority]).toEqual(['address:81', 'address:81']);
    expect(() => (r.port = 1.5)).toThrow(/Port must be an integer/);
  });

  it('prettyHost/prettyUrl prefer the Host header', () => {
    const r = treq();
    r.url = 'https://example.com:8443/p?x=1';
    r.headers.set('Host', 'example.org:9000');
    expect(r.prettyHost).toBe('example.org');
    expect(r.prettyUrl).toBe('https://example.org:9000/p?x=1');
    r.headers.set('Host', 'example.org');
    expect(r.prettyUrl).toBe('https://example.org/p?x=1');
    r.headers.set('Host', '[::1]:81');
    expect(r.prettyHost).toBe('::1');
    r.headers.set('Host', 'bad host');
    expect(r.prettyHost).toBe('bad host');
  });

  it('hostHeader maps to :authority on HTTP/2 and HTTP/3', () => {
    const r = treq();
    expect(r.hostHeader).toBeNull();
    r.hostHeader = 'h1.example';
    expect(r.headers.get('Host')).toBe('h1.example');
    r.hostHeader = null;
    expect(r.headers.has('Host')).toBe(false);
    r.httpVersion = 'HTTP/2.0';
    r.hostHeader = 'h2.example';
    expect(r.authority).toBe('h2.example');
    expect(r.headers.has('Host')).toBe(false);
    expect(r.hostHeader).toBe('h2.example');
    expect(r.firstLineFormat).toBe('absolute');
    r.hostHeader = null;
    expect(r.authority).toBe('');
    r.httpVersion = 'HTTP/3';
    r.headers.set('Host', 'fallback');
    expect(r.hostHeader).toBe('fallback');
  });

  it('CONNECT requests use authority form', () => {
    const r = treq({ method: 'CONNECT', authority: 'example.com:443', host: 'example.com', port: 443, path: '' });
    expect(r.firstLineFormat).toBe('authority');
    expect(r.url).toBe('example.com:443');
    expect(r.prettyUrl).toBe('example.com:443');
    expect(r.query.fields).toEqual([]);
  });

  it('authority decodes punycode and encodes international names', () => {
    const r = treq({ authority: Buffer.from('xn--bcher-kva.de:8080') });
    expect(r.authority).toBe('bücher.de:8080');
    r.authority = 'müller.de';
    expect(r.rawAuthority.toString()).toBe('xn--mller-kva.de');
  });

  it('make() builds a request with body and content-length', () => {
    const r = Request.make('GET', 'http://a.com/x', 'héllo€');
    expect(r.headers.items(true)).toEqual([
      ['content-type', 'text/plain; charset=utf-8'],
      ['content-length', '9'],
    ]);
    expect(r.rawContent).toEqual(Buffer.from('héllo€', 'utf8'));
    const p = Request.make('POST', 'https://b.com/', Buffer.from('data'), { 'X-A': '1' });
    expect(p.headers.items(true)).toEqual([
      ['X-A', '1'],
      ['content-length', '4'],
    ]);
    expect([p.method, p.port, p.hostHeader, p.scheme]).toEqual(['POST', 443, null, 'https']);
    const h = Request.make('GET', 'http://c/', '', [['A', 'b']]);
    expect(h.headers.get('a')).toBe('b');
    const hh = new Headers([['z', '1']]);
    expect(Request.make('GET', 'http://c/', '', hh).headers).toBe(hh);
    expect(() => Request.make('GET', 'http://c/', 5 as unknown as string)).toThrow(TypeError);
  });

  it('anticache, anticomp, constrainEncoding', () => {
    const r = treq();
    r.headers.set('If-Modified-Since', 'x');
    r.headers.set('If-None-Match', 'y');
    r.anticache();
    expect(r.headers.has('if-modified-since') || r.headers.has('if-none-match')).toBe(false);
    r.anticomp();
    expect(r.headers.get('accept-encoding')).toBe('identity');
    r.headers.set('accept-encoding', 'gzip, deflate, br, zstd, compress');
    r.constrainEncoding();
    expect(r.headers.get('accept-encoding')!.split(', ').sort()).toEqual(['br', 'deflate', 'gzip', 'zstd']);
    r.headers.delete('accept-encoding');
    r.constrainEncoding();
    expect(r.headers.has('accept-encoding')).toBe(false);
  });

  it('copy() and state round-trip', () => {
    const r = treq({ path: Buffer.from([0x2f, 0xff]) });
    const c = r.copy();
    expect(c.getState()).toEqual(r.getState());
    c.headers.set('x', 'y');
    expect(r.headers.has('x')).toBe(false);
    const s = r.getState();
    expect(Object.keys(s).sort()).toEqual(
      [
        'authority',
        'content',
        'headers',
        'host',
        'http_version',
        'method',
        'path',
        'port',
        'scheme',
        'timestamp_end',
        'timestamp_start',
        'trailers',
      ].sort(),
    );
    expect(s.path).toEqual(Buffer.from([0x2f, 0xff]));
    expect(Request.fromState(s).rawPath).toEqual(Buffer.from([0x2f, 0xff]));
  });
});

describe('Request views', () => {
  it('query is a write-through multidict view on the path', () => {
    const r = treq();
    r.path = '/foo?a=1&b=2&a=3&c&d=#frag';
    expect(r.query.items(true)).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
      ['c', ''],
      ['d', ''],
    ]);
    expect(r.query.get('a')).toBe('1');
    expect(r.query.getAll('a')).toEqual(['1', '3']);
    r.query.set('b', 'x y/z');
    expect(r.path).toBe('/foo?a=1&b=x+y%2Fz&a=3&c=&d=#frag');
    r.query = [
      ['k', 'v&w'],
      ['é', 'ü'],
    ];
    expect(r.path).toBe('/foo?k=v%26w&%C3%A9=%C3%BC#frag');
    expect(r.query.toObject()).toEqual({ k: 'v&w', é: 'ü' });
    r.query.delete('k');
    r.query.delete('é');
    expect(r.path).toBe('/foo#frag');
    r.query = { x: '1' };
    expect(r.path).toBe('/foo?x=1#frag');
    r.query = new MultiDict([['y', '2']]);
    expect(r.path).toBe('/foo?y=2#frag');
  });

  it('cookies is a write-through view on the Cookie header(s)', () => {
    const r = treq();
    r.headers.set('cookie', 'a=b; c=d; a=e');
    r.headers.add('Cookie', 'f="quoted \\"v\\""');
    expect(r.cookies.items(true)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['a', 'e'],
      ['f', 'quoted "v"'],
    ]);
    expect(r.cookies.get('a')).toBe('b');
    r.cookies.set('c', 'x y');
    expect(r.headers.getAll('cookie')).toEqual(['a=b; c="x y"; a=e; f="quoted \\"v\\""']);
    r.cookies = [['only', '1']];
    expect(r.headers.get('cookie')).toBe('only=1');
  });

  it('pathComponents unquote and quote', () => {
    const r = treq();
    r.path = '/a%20b/c/d;p?q#f';
    expect(r.pathComponents).toEqual(['a b', 'c', 'd']);
    r.pathComponents = ['x y', 'z/w'];
    expect(r.path).toBe('/x%20y/z%2Fw;p?q#f');
    r.path = '/';
    expect(r.pathComponents).toEqual([]);
  });

  it('urlencodedForm reads and writes the body', () => {
    const r = treq();
    expect(r.urlencodedForm.fields).toEqual([]);
    r.headers.set('content-type', 'application/x-www-form-urlencoded');
    r.content = Buffer.from('a=1&b=%20x+y&c');
    expect(r.urlencodedForm.items(true)).toEqual([
      ['a', '1'],
      ['b', ' x y'],
      ['c', ''],
    ]);
    r.urlencodedForm.set('d', '4');
    expect(r.rawContent!.toString()).toBe('a=1&b=+x+y&c&d=4');
    const n = treq();
    n.urlencodedForm = [['k', 'v w']];
    expect(n.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(n.rawContent!.toString()).toBe('k=v+w');
    expect(n.headers.get('content-length')).toBe('5');
  });

  it('multipartForm reads and writes multipart/form-data', () => {
    const r = treq();
    expect(r.multipartForm.fields).toEqual([]);
    r.headers.set('content-type', 'multipart/form-data; boundary=XYZ');
    r.content = Buffer.from(
      '--XYZ\r\nContent-Disposition: form-data; name="field1"\r\n\r\nvalue1\r\n' +
        '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nline1\r\nline2\r\n' +
        '--XYZ--\r\n',
    );
    const form = r.multipartForm;
    expect(form.keys()).toEqual(['field1', 'file']);
    expect(form.get('field1')!.toString()).toBe('value1');
    expect(form.get('file')!.toString()).toBe('line1\r\nline2');
    form.set('field1', Buffer.from('changed'));
    expect(r.multipartForm.get('field1')!.toString()).toBe('changed');
    expect(r.multipartForm.get('file')!.toString()).toBe('line1\r\nline2');
    const n = treq({ headers: new Headers() });
    n.multipartForm = [['a', Buffer.from('1')]];
    expect(n.headers.get('content-type')).toMatch(/^multipart\/form-data; boundary=-{20}[0-9a-f]{32}$/);
    expect(n.multipartForm.items(true).map(([k, v]) => [k, v.toString()])).toEqual([['a', '1']]);
    // A broken body gives an empty form rather than throwing.
    const b = treq({ headers: new Headers([['content-type', 'multipart/form-data']]) });
    expect(b.multipartForm.fields).toEqual([]);
  });
});
