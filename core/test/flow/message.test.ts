import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  ContentEncodingError,
  Headers,
  Response,
  treq,
  tresp,
  inferContentEncoding,
  decodeText,
  encodeText,
} from '../../src/flow/index.js';

describe('Message content', () => {
  it('rawContent is the wire body, content the decoded one', () => {
    const r = tresp();
    const gz = zlib.gzipSync(Buffer.from('hello'));
    r.headers.set('content-encoding', 'gzip');
    r.rawContent = gz;
    expect(r.rawContent).toBe(gz);
    expect(r.content!.toString()).toBe('hello');
    expect(r.text).toBe('hello');
  });

  it('setting content re-encodes per content-encoding and updates content-length', () => {
    const r = tresp();
    r.headers.set('content-encoding', 'br');
    r.content = Buffer.from('brotli body');
    expect(zlib.brotliDecompressSync(r.rawContent!).toString()).toBe('brotli body');
    expect(r.headers.get('content-length')).toBe(String(r.rawContent!.length));
    expect(r.content!.toString()).toBe('brotli body');
  });

  it('an unknown content-encoding is removed when content is set', () => {
    const r = tresp();
    r.headers.set('content-encoding', 'x-weird');
    r.content = Buffer.from('abc');
    expect(r.headers.has('content-encoding')).toBe(false);
    expect(r.rawContent!.toString()).toBe('abc');
    expect(r.headers.get('content-length')).toBe('3');
  });

  it('does not set content-length when transfer-encoding is present', () => {
    const r = tresp();
    r.headers.delete('content-length');
    r.headers.set('transfer-encoding', 'chunked');
    r.content = Buffer.from('abc');
    expect(r.headers.has('content-length')).toBe(false);
  });

  it('getContent(strict) throws on corrupt bodies, returns raw bytes when not strict', () => {
    const r = tresp();
    r.headers.set('content-encoding', 'gzip');
    r.rawContent = Buffer.from('not gzip');
    expect(() => r.content).toThrow(ContentEncodingError);
    expect(r.getContent(false)!.toString()).toBe('not gzip');
    expect(r.getText(false)).toBe('not gzip');
    expect(() => r.text).toThrow(ContentEncodingError);
  });

  it('null content stays null', () => {
    const r = tresp();
    r.content = null;
    expect(r.rawContent).toBeNull();
    expect(r.content).toBeNull();
    expect(r.text).toBeNull();
    r.text = null;
    expect(r.rawContent).toBeNull();
    expect(() => r.json()).toThrow(TypeError);
  });

  it('rejects strings assigned to content', () => {
    const r = tresp();
    expect(() => r.setContent('x' as unknown as Buffer)).toThrow(/Use .text to assign a string/);
  });

  it('decode() removes content-encoding, encode() adds it', () => {
    const r = tresp();
    r.encode('gzip');
    expect(r.headers.get('content-encoding')).toBe('gzip');
    expect(zlib.gunzipSync(r.rawContent!).toString()).toBe('message');
    expect(r.content!.toString()).toBe('message');
    r.decode();
    expect(r.headers.has('content-encoding')).toBe(false);
    expect(r.rawContent!.toString()).toBe('message');
    expect(r.headers.get('content-length')).toBe('7');
    expect(() => r.encode('nonsense')).toThrow(/Invalid content encoding 'nonsense'/);
    expect(r.headers.has('content-encoding')).toBe(false);
    for (const e of ['deflate', 'br', 'zstd', 'identity']) {
      r.encode(e);
      expect(r.content!.toString()).toBe('message');
      r.decode();
    }
  });

  it('decode(strict=false) keeps undecodable bytes', () => {
    const r = tresp();
    r.headers.set('content-encoding', 'gzip');
    r.rawContent = Buffer.from('oops');
    expect(() => r.decode()).toThrow(ContentEncodingError);
    r.decode(false);
    expect(r.headers.has('content-encoding')).toBe(false);
    expect(r.rawContent!.toString()).toBe('oops');
  });
});

describe('Message text and charsets', () => {
  it('uses the content-type charset', () => {
    const r = tresp();
    r.headers.set('content-type', 'text/html; charset=utf-16le');
    r.rawContent = Buffer.from('hé', 'utf16le');
    expect(r.text).toBe('hé');
    r.headers.set('content-type', 'text/plain; charset=ISO-8859-1');
    r.rawContent = Buffer.from([0x68, 0xe9, 0x80]);
    expect(r.text).toBe('h\u00e9\u0080');
    r.headers.set('content-type', 'text/plain; charset=gbk');
    r.rawContent = Buffer.from([0xc4, 0xe3]);
    expect(r.text).toBe('你');
    r.headers.set('content-type', 'text/plain; charset=shift_jis');
    r.rawContent = Buffer.from([0x82, 0xa0]);
    expect(r.text).toBe('あ');
  });

  it('defaults like mitmproxy: utf-8 for json/html/xml/js/css, latin-1 otherwise', () => {
    const utf = Buffer.from('é', 'utf8');
    const cases: Array<[string, string]> = [
      ['application/json', 'é'],
      ['text/html', 'é'],
      ['application/xml', 'é'],
      ['text/javascript', 'é'],
      ['text/css', 'é'],
      ['text/plain', 'Ã©'],
      ['application/octet-stream', 'Ã©'],
      ['', 'Ã©'],
    ];
    for (const [ct, text] of cases) {
      const r = tresp({ headers: new Headers(ct ? [['content-type', ct]] : []), content: utf });
      expect([ct, r.text]).toEqual([ct, text]);
    }
  });

  it('honours BOMs and in-document declarations', () => {
    expect(inferContentEncoding('text/plain', Buffer.from([0xef, 0xbb, 0xbf, 0x41]))).toBe('utf-8-sig');
    expect(inferContentEncoding('text/plain', Buffer.from([0xff, 0xfe, 0x41, 0]))).toBe('utf-16le');
    expect(inferContentEncoding('text/html', Buffer.from('<meta charset="windows-1251">'))).toBe('windows-1251');
    expect(inferContentEncoding('application/xml', Buffer.from('<?xml version="1.0" encoding="ISO-8859-2"?>'))).toBe(
      'ISO-8859-2',
    );
    expect(inferContentEncoding('text/css', Buffer.from('@charset "koi8-r";'))).toBe('koi8-r');
    expect(inferContentEncoding('text/html; charset=gb2312')).toBe('gb18030');
    const r = tresp({
      headers: new Headers([['content-type', 'text/plain']]),
      content: Buffer.from([0xef, 0xbb, 0xbf, 0x68, 0x69]),
    });
    expect(r.text).toBe('hi');
  });

  it('strict text decoding fails on invalid bytes; non-strict falls back to lossy UTF-8', () => {
    const r = tresp({
      headers: new Headers([['content-type', 'application/json']]),
      content: Buffer.from([0x7b, 0xff, 0x7d]),
    });
    expect(() => r.text).toThrow();
    expect(r.getText(false)).toBe('{\ufffd}');
  });

  it('setting text encodes with the charset, falling back to UTF-8 (and saying so in content-type)', () => {
    const r = tresp({ headers: new Headers([['content-type', 'text/plain']]) });
    r.text = 'é';
    expect(r.rawContent).toEqual(Buffer.from([0xe9]));
    r.text = '€';
    expect(r.rawContent).toEqual(Buffer.from('€', 'utf8'));
    expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(r.text).toBe('€');
    const j = tresp({ headers: new Headers([['content-type', 'application/json']]) });
    j.text = '{"a":"€"}';
    expect(j.rawContent).toEqual(Buffer.from('{"a":"€"}', 'utf8'));
    expect(j.headers.get('content-type')).toBe('application/json');
    const n = tresp({ headers: new Headers() });
    n.text = 'ü€';
    expect(n.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(n.headers.get('content-length')).toBe('5');
  });

  it('json() parses decoded content', () => {
    const r = Response.make(200, Buffer.from('{"a": [1, 2]}'), { 'content-type': 'application/json' });
    expect(r.json()).toEqual({ a: [1, 2] });
    r.encode('gzip');
    expect(r.json()).toEqual({ a: [1, 2] });
    r.rawContent = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[1]')]);
    r.headers.delete('content-encoding');
    expect(r.json()).toEqual([1]);
    r.rawContent = Buffer.from('nope');
    expect(() => r.json()).toThrow(SyntaxError);
  });

  it('charset codecs', () => {
    expect(decodeText(Buffer.from([0x80]), 'latin-1')).toBe('\u0080');
    expect(() => decodeText(Buffer.from([0x80]), 'ascii')).toThrow(/can't decode byte 0x80/);
    expect(decodeText(Buffer.from([0x80]), 'ascii', false)).toBe('\ufffd');
    expect(decodeText(Buffer.from([0, 0, 0, 0x41]), 'utf-32be')).toBe('A');
    expect(decodeText(Buffer.from([0x41, 0, 0, 0]), 'utf_32')).toBe('A');
    expect(() => decodeText(Buffer.from('x'), 'no-such-codec')).toThrow(/unknown encoding/);
    expect(encodeText('A', 'utf-16be')).toEqual(Buffer.from([0, 0x41]));
    expect(encodeText('A', 'utf-32le')).toEqual(Buffer.from([0x41, 0, 0, 0]));
    expect(() => encodeText('€', 'latin-1')).toThrow(/can't encode character U\+20ac/);
    expect(() => encodeText('x', 'shift_jis')).toThrow(/cannot encode text as 'shift_jis'/);
  });

  it('http version helpers', () => {
    const r = treq();
    expect([r.isHttp10, r.isHttp11, r.isHttp2, r.isHttp3]).toEqual([false, true, false, false]);
    r.httpVersion = 'HTTP/2.0';
    expect(r.isHttp2).toBe(true);
    r.httpVersion = Buffer.from('HTTP/3');
    expect(r.isHttp3).toBe(true);
    r.httpVersion = 'HTTP/1.0';
    expect(r.isHttp10).toBe(true);
  });
});

describe('cases from mitmproxy’s own test suite', () => {
  it('content-length follows content, not rawContent', () => {
    const r = tresp();
    r.content = Buffer.from('foo');
    expect(r.headers.get('content-length')).toBe('3');
    r.content = Buffer.alloc(0);
    expect(r.headers.get('content-length')).toBe('0');
    r.rawContent = Buffer.from('bar');
    expect(r.headers.get('content-length')).toBe('0');
  });

  it('unknown and byte-to-text content encodings', () => {
    for (const ce of ['zopfli', 'utf8']) {
      const r = tresp();
      r.headers.set('content-encoding', ce);
      r.rawContent = Buffer.from('foo');
      expect(() => r.content).toThrow(ContentEncodingError);
      expect(r.headers.get('content-encoding')).toBe(ce);
      expect(r.getContent(false)!.toString()).toBe('foo');
    }
  });

  it('text guesses like mitmproxy', () => {
    const r = tresp({ content: Buffer.from([0xfc]) });
    expect(r.text).toBe('ü');
    r.encode('gzip');
    expect(r.text).toBe('ü');
    r.headers.set('content-type', 'text/html; charset=latin1');
    expect(r.text).toBe('ü');
    r.headers.set('content-type', 'text/html; charset=utf8');
    expect(() => r.text).toThrow();
    const j = tresp({ content: Buffer.from('"ü"') });
    j.headers.set('content-type', 'application/json');
    expect(j.text).toBe('"ü"');
  });

  it('falls back to UTF-8 when the charset cannot encode the text', () => {
    const r = tresp();
    r.content = null;
    expect(r.headers.has('content-type')).toBe(false);
    r.headers.set('content-type', 'text/html; charset=latin1; foo=bar');
    r.text = '☃';
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8; foo=bar');
    expect(r.rawContent).toEqual(Buffer.from([0xe2, 0x98, 0x83]));
    r.headers.set('content-type', 'gibberish');
    r.text = '☃';
    expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    r.headers.delete('content-type');
    r.text = '☃';
    expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(r.rawContent).toEqual(Buffer.from([0xe2, 0x98, 0x83]));
  });

  it('response cookies with parameters, empty values and several headers', () => {
    const r = tresp({
      headers: new Headers([
        ['Set-Cookie', 'cookiename=cookievalue;domain=example.com;expires=Wed Oct  21 16:29:41 2015;path=/; HttpOnly'],
      ]),
    });
    const c = r.cookies;
    expect(c.size).toBe(1);
    const [value, attrs] = c.get('cookiename')!;
    expect(value).toBe('cookievalue');
    expect(attrs.size).toBe(4);
    expect([attrs.get('domain'), attrs.get('expires'), attrs.get('path'), attrs.get('httponly')]).toEqual([
      'example.com',
      'Wed Oct  21 16:29:41 2015',
      '/',
      null,
    ]);
    const e = tresp({
      headers: new Headers([['Set-Cookie', 'cookiename=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/']]),
    });
    expect(e.cookies.get('cookiename')![0]).toBe('');
    expect(e.cookies.get('cookiename')![1].size).toBe(2);
    const two = tresp({
      headers: new Headers([
        ['Set-Cookie', 'cookiename=cookievalue'],
        ['Set-Cookie', 'othercookie=othervalue'],
      ]),
    });
    expect(two.cookies.keys()).toEqual(['cookiename', 'othercookie']);
  });

  it('refresh() keeps the date for "now = timestampStart" and moves cookies', () => {
    const r = tresp();
    r.headers.set('date', 'Sat, 01 Jan 2000 00:00:02 GMT');
    r.refresh(946681202);
    expect(r.headers.get('date')).toBe('Sat, 01 Jan 2000 00:00:02 GMT');
    r.refresh(946681262);
    expect(r.headers.get('date')).toBe('Sat, 01 Jan 2000 00:01:02 GMT');
    const cookie = 'MOO=BAR; Expires=Tue, 08-Mar-2011 00:20:38 GMT; Path=foo.com; Secure';
    r.headers.set('set-cookie', cookie);
    r.refresh();
    expect(r.headers.get('set-cookie')).not.toBe(cookie);
    expect(r.headers.get('set-cookie')).toMatch(
      /^MOO=BAR; Expires=\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT; Path=foo.com; Secure$/,
    );
  });
});
