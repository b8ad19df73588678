/** The pieces of `mitmts flows` recon output, table-driven. */
import { describe, expect, it } from 'vitest';
import {
  bodyJson,
  isIdSegment,
  isSecretName,
  parseSse,
  pathTemplate,
  Redactor,
  redactText,
  Shape,
  SseParser,
  TnetFloat,
} from '../../src/io/index.js';
import { fitJson, shrink, NO_LIMITS } from '../../src/io/recon/json.js';
import { boundedLine } from '../../src/io/recon/output.js';

describe('secret names', () => {
  it.each([
    'Authorization',
    'proxy-authorization',
    'Cookie',
    'Set-Cookie',
    'x-api-key',
    'X-Goog-Api-Key',
    'api_key',
    'apiKey',
    'APIKEY',
    'access_token',
    'refresh_token',
    'id_token',
    'client_secret',
    'password',
    'passwd',
    'sessionId',
    'session_id',
    'sid',
    'x-auth-token',
    'X-Amz-Security-Token',
    'X-Amz-Signature',
    'sig',
    'key',
    'privateKey',
    'x-csrf-token',
    'jwt',
    'credentials',
  ])('%s is secret', (name) => expect(isSecretName(name)).toBe(true));

  it.each([
    'content-type',
    'user-agent',
    'max_tokens',
    'input_tokens',
    'token_type',
    'token_url',
    'authorization_endpoint',
    'author',
    'keyboard',
    'Sec-WebSocket-Key',
    'monkey',
    'session_count',
    'host',
    'x-request-id',
    'model',
  ])('%s is not secret', (name) => expect(isSecretName(name)).toBe(false));

  it('finds credential formats in free text, keeping what is around them', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    expect(redactText(`token ${jwt} end`)).toBe(`token <redacted ${jwt.length} chars> end`);
    expect(redactText('curl -H "Authorization: Bearer abcdefghijklmnop"')).toBe(
      'curl -H "Authorization: Bearer <redacted 16 chars>"',
    );
    expect(redactText('key=sk-ant-api03-abcdefghijklmnopqrstuvwxyz')).toBe('key=<redacted 39 chars>');
    expect(redactText('AKIAIOSFODNN7EXAMPLE is an example')).toBe('<redacted 20 chars> is an example');
    expect(redactText('nothing to see here, move along')).toBe('nothing to see here, move along');
  });

  it('redacts by name in headers, params, URLs and JSON; keeps numbers, schemes and cookie names', () => {
    const r = new Redactor(true);
    expect(r.header('Authorization', 'Basic dXNlcjpwYXNz')).toBe('Basic <redacted 12 chars>');
    expect(r.header('authorization', 'opaque')).toBe('<redacted 6 chars>');
    expect(r.header('Cookie', 'a=1; bb=22')).toBe('a=<redacted 1 char>; bb=<redacted 2 chars>');
    expect(r.header('Set-Cookie', 'sid=xyz; Path=/; Secure')).toBe('sid=<redacted 3 chars>; Path=/; Secure');
    expect(r.header('content-type', 'text/plain')).toBe('text/plain');
    expect(r.url('/a?token=abc&x=1#frag')).toBe('/a?token=%3Credacted%203%20chars%3E&x=1#frag');
    expect(r.json({ user: { password: 'p', pin_count: 3, credentials: { a: 'b', n: 1 } }, max_tokens: 5 })).toEqual({
      user: { password: '<redacted 1 char>', pin_count: 3, credentials: { a: '<redacted 1 char>', n: 1 } },
      max_tokens: 5,
    });
    const off = new Redactor(false);
    expect(off.header('Authorization', 'Bearer x')).toBe('Bearer x');
    expect(off.json({ password: 'p' })).toEqual({ password: 'p' });
  });
});

describe('endpoint templates', () => {
  it.each([
    ['/v1/users/123', '/v1/users/{id}'],
    ['/v1/users/123/orders/9f1c2b3a-0d4e-4f5a-8b6c-7d8e9f0a1b2c', '/v1/users/{id}/orders/{id}'],
    ['/objects/507f1f77bcf86cd799439011', '/objects/{id}'],
    ['/files/file-abc123def456ghi789/content', '/files/{id}/content'],
    ['/customers/cus_NffrFeUfNV2Hib', '/customers/{id}'],
    ['/img/42.png?size=2', '/img/{id}.png'],
    ['/t/dGhpcyBpcyBhIHRva2VuMTIzNDU2', '/t/{id}'],
    ['/api/getUserProfileV2', '/api/getUserProfileV2'],
    ['/deadbeef', '/deadbeef'],
    ['/v2/chat/completions', '/v2/chat/completions'],
    ['/', '/'],
  ])('%s -> %s', (path, template) => expect(pathTemplate(path)).toBe(template));

  it('ids as keys', () => {
    expect(['123', 'a1b2c3d4e5', '550e8400-e29b-41d4-a716-446655440000'].every(isIdSegment)).toBe(true);
    expect(['users', 'v1', 'content', ''].some(isIdSegment)).toBe(false);
  });
});

describe('schema shapes', () => {
  const shape = (...values: unknown[]): unknown => {
    const s = new Shape();
    for (const v of values) s.add(v as never);
    return s.toJson();
  };
  it('merges examples with optional keys, nullables, unions and list items', () => {
    expect(shape({ a: 1, b: 'x' }, { a: 2.5, c: null }, { a: 3, b: null })).toEqual({
      a: 'number',
      'b?': 'string|null',
      'c?': 'null',
    });
    expect(shape([{ id: 1 }, { id: 2, tag: 'x' }], [])).toEqual([{ id: 'integer', 'tag?': 'string' }]);
    expect(shape([], [])).toEqual([]);
    expect(shape({ x: { y: 1 } }, { x: null }, { x: 'z' })).toEqual({
      x: { oneOf: [{ y: 'integer' }, 'string', 'null'] },
    });
    expect(shape('550e8400-e29b-41d4-a716-446655440000', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('string(uuid)');
    expect(shape('2024-01-02T03:04:05Z', 'not a date')).toBe('string');
    expect(shape('https://a.example/x', 'http://b.example')).toBe('string(uri)');
    expect(shape(true, false)).toBe('boolean');
  });
  it('merges id-keyed maps into one {id} key', () => {
    expect(shape({ '101': { n: 1 }, '102': { n: 2 } }, { '103': { n: 3, m: true } })).toEqual({
      '{id}': { n: 'integer', 'm?': 'boolean' },
    });
  });
});

describe('server-sent events', () => {
  const stream =
    'data: one\n\n: comment\nevent: tick\nid: 7\nretry: 3000\ndata: {"n":1}\ndata: second line\n\ndata\n\nevent: last\r\ndata: x\r\n\r\n';
  const want = [
    { event: 'message', data: 'one' },
    { event: 'tick', data: '{"n":1}\nsecond line', id: '7', retry: 3000 },
    { event: 'message', data: '' },
    { event: 'last', data: 'x' },
  ];
  it('parses a whole stream as the standard says (comments, multi-line data, CRLF, empty data)', () => {
    expect(parseSse('\ufeff' + stream)).toEqual(want);
  });
  it('gives the same events whatever the chunking, a CRLF split across chunks included', () => {
    for (const size of [1, 2, 3, 7, 64]) {
      const p = new SseParser();
      const got = [];
      for (let i = 0; i < stream.length; i += size) got.push(...p.push(stream.slice(i, i + size)));
      got.push(...p.end());
      expect(got, `chunks of ${size}`).toEqual(want);
    }
  });
  it('keeps an event cut off at the end of the stream', () => {
    expect(parseSse('data: partial')).toEqual([{ event: 'message', data: 'partial' }]);
  });
});

describe('bounded JSON', () => {
  it('shrinks strings, lists, objects and depth, marking each cut', () => {
    expect(
      shrink({ s: 'abcdef', l: [1, 2, 3], o: { a: 1, b: 2, c: 3 }, d: [[[1]]] }, { str: 3, items: 2, depth: 2 }),
    ).toEqual({
      s: 'abc…[+3 chars]',
      l: [1, 2, '…[+1 item]'],
      '…': '+2 keys',
    });
    expect(shrink([[[1]]], { str: 9, items: 9, depth: 2 })).toEqual([['…[1 item]']]);
    expect(shrink(10n ** 30n, NO_LIMITS)).toBe('1000000000000000000000000000000');
    // Metadata read from flow files: bytes and wrapped floats.
    expect(shrink({ b: Buffer.from('text'), x: Buffer.from([0xff, 0]), f: new TnetFloat(1) }, NO_LIMITS)).toEqual({
      b: 'text',
      x: 'base64:/wA=',
      f: 1,
    });
  });
  it('fits a value within a byte budget with the loosest limits that work', () => {
    const v = { text: 'x'.repeat(5000), list: Array.from({ length: 500 }, (_, i) => i) };
    const fit = fitJson(v, 1200)!;
    expect(Buffer.byteLength(fit.text)).toBeLessThanOrEqual(1200);
    expect(fit.cut).toBe(true);
    expect(fitJson({ a: 1 }, 100)).toEqual({ text: '{"a":1}', value: { a: 1 }, cut: false });
  });
  it('bounds a line by shrinking its biggest field first', () => {
    const line = boundedLine({ id: 'abc', big: 'y'.repeat(10_000), small: [1, 2] }, 300);
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(300);
    const obj = JSON.parse(line);
    expect(obj).toMatchObject({ id: 'abc', small: [1, 2], _cut: 'line shortened to --max-line 300' });
    expect(obj.big).toMatch(/^y+…\[\+\d+ chars\]$/);
  });
});

describe('bodies', () => {
  const body = (s: string | Buffer, ct?: string, max = 1024): unknown =>
    bodyJson(typeof s === 'string' ? Buffer.from(s) : s, ct, max);
  it('renders by content type, falling back to text and to the binary summary', () => {
    expect(body('{"a":[1,2]}', 'application/vnd.api+json')).toEqual({
      size: 11,
      encoding: 'json',
      truncated: false,
      data: { a: [1, 2] },
    });
    expect(body('{"a":1}\n{"a":2}\n', 'application/x-ndjson')).toEqual({
      size: 16,
      encoding: 'ndjson',
      truncated: false,
      data: [{ a: 1 }, { a: 2 }],
    });
    expect(body('[1,2', 'application/json')).toEqual({ size: 4, encoding: 'utf-8', truncated: false, data: '[1,2' });
    expect(body('{"looks":"like json"}', 'text/plain')).toMatchObject({ encoding: 'json' });
    expect(body('a=1&a=2&b=', 'application/x-www-form-urlencoded')).toMatchObject({
      encoding: 'form',
      data: { a: ['1', '2'], b: '' },
    });
    expect(body(Buffer.from('caf\xe9', 'latin1'), 'text/plain; charset=iso-8859-1')).toMatchObject({
      encoding: 'utf-8',
      data: 'café',
    });
    expect(body(Buffer.from([0, 1, 2, 3, 4, 5]), undefined)).toEqual({
      size: 6,
      encoding: 'binary',
      type: 'application/octet-stream',
      sha256: '17e88db187afd62c16e5debf3e6527cd006bc012bc90b51a810cd80c2d511f43',
    });
    expect(body(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]), 'text/plain')).toMatchObject({
      encoding: 'binary',
      type: 'application/gzip',
    });
    expect(body('data: {"x":1}\n\ndata: [DONE]\n\n', 'text/event-stream')).toEqual({
      size: 29,
      encoding: 'sse',
      events: 2,
      truncated: false,
      data: [{ data: { x: 1 } }, { data: '[DONE]' }],
    });
    expect(body('', 'application/json')).toEqual({ size: 0, encoding: 'empty' });
  });
});
