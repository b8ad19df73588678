import { describe, expect, it } from 'vitest';
import { HTTPHeaders, HTTPRequest } from '@mitmts/sdk';
import { tflow } from '@mitmts/sdk/testing';
import { matchKey, type MatchOptions } from '../src/index.js';

const NONE: MatchOptions = {
  ignoreContent: false,
  ignoreHost: false,
  ignorePort: false,
  ignoreParams: [],
  ignorePayloadParams: [],
  useHeaders: [],
};

function flow(method: string, url: string, body = '', headers: Record<string, string> = {}): ReturnType<typeof tflow> {
  return tflow({ req: HTTPRequest.make(method, url, body, new HTTPHeaders(Object.entries(headers))) });
}

const key = (f: ReturnType<typeof tflow>, o: Partial<MatchOptions> = {}): string => matchKey(f, { ...NONE, ...o });

describe('matchKey', () => {
  const base = flow('GET', 'http://example.com/a?x=1&y=2');

  it.each([
    ['method', flow('POST', 'http://example.com/a?x=1&y=2')],
    ['scheme', flow('GET', 'https://example.com:80/a?x=1&y=2')],
    ['host', flow('GET', 'http://example.org/a?x=1&y=2')],
    ['port', flow('GET', 'http://example.com:8080/a?x=1&y=2')],
    ['path', flow('GET', 'http://example.com/b?x=1&y=2')],
    ['query value', flow('GET', 'http://example.com/a?x=1&y=3')],
    ['query order', flow('GET', 'http://example.com/a?y=2&x=1')],
    ['body', flow('GET', 'http://example.com/a?x=1&y=2', 'body')],
  ])('tells requests apart by %s', (_what, other) => {
    expect(key(other)).not.toBe(key(base));
  });

  it('matches the same request, whatever its other headers', () => {
    expect(key(flow('GET', 'http://example.com/a?x=1&y=2', '', { 'user-agent': 'other' }))).toBe(key(base));
  });

  it('ignores host, port, content and query parameters when asked', () => {
    expect(key(flow('GET', 'http://example.org/a?x=1&y=2'), { ignoreHost: true })).toBe(
      key(base, { ignoreHost: true }),
    );
    expect(key(flow('GET', 'http://example.com:8080/a?x=1&y=2'), { ignorePort: true })).toBe(
      key(base, { ignorePort: true }),
    );
    expect(key(flow('GET', 'http://example.com/a?x=1&y=2', 'body'), { ignoreContent: true })).toBe(
      key(base, { ignoreContent: true }),
    );
    expect(key(flow('GET', 'http://example.com/a?x=9&y=2'), { ignoreParams: ['x'] })).toBe(
      key(base, { ignoreParams: ['x'] }),
    );
    expect(key(flow('GET', 'http://example.com/a?x=9&y=2'), { ignoreParams: ['y'] })).not.toBe(
      key(base, { ignoreParams: ['y'] }),
    );
  });

  it('uses the host the client named (Host header), not the address', () => {
    const a = flow('GET', 'http://10.0.0.1/a');
    const b = flow('GET', 'http://10.0.0.2/a');
    a.request.headers.set('host', 'example.com');
    b.request.headers.set('host', 'example.com');
    expect(key(a)).toBe(key(b));
    expect(key(a, { ignoreHost: true })).toBe(key(flow('GET', 'http://example.org/a'), { ignoreHost: true }));
  });

  it('ignores the listed form fields of urlencoded and multipart bodies', () => {
    const form = (body: string): ReturnType<typeof tflow> =>
      flow('POST', 'http://example.com/f', body, { 'content-type': 'application/x-www-form-urlencoded' });
    const o = { ignorePayloadParams: ['token'] };
    expect(key(form('a=1&token=x'), o)).toBe(key(form('a=1&token=y'), o));
    expect(key(form('a=1&token=x'), o)).not.toBe(key(form('a=2&token=x'), o));
    const multipart = (token: string): ReturnType<typeof tflow> => {
      const f = flow('POST', 'http://example.com/f');
      f.request.multipartForm = [
        ['a', '1'],
        ['token', token],
      ];
      return f;
    };
    const m1 = multipart('x');
    const m2 = multipart('y');
    expect(m1.request.rawContent!.equals(m2.request.rawContent!)).toBe(false);
    expect(key(m1, o)).toBe(key(m2, o));
  });

  it('compares the listed headers (a missing header differs from an empty one)', () => {
    const o = { useHeaders: ['accept'] };
    const json = flow('GET', 'http://example.com/a', '', { accept: 'application/json' });
    const html = flow('GET', 'http://example.com/a', '', { accept: 'text/html' });
    const empty = flow('GET', 'http://example.com/a', '', { accept: '' });
    expect(key(json, o)).not.toBe(key(html, o));
    expect(key(flow('GET', 'http://example.com/a'), o)).not.toBe(key(empty, o));
    expect(key(json)).toBe(key(html));
  });
});
