import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  Http1ErrorCodes,
  type RequestHead,
  type ResponseHead,
  chunkPieces,
  encodeBody,
  encodeChunk,
  encodeLastChunk,
  findHeader,
  getHeader,
  isChunked,
  serializeRequest,
  serializeRequestHead,
  serializeResponse,
  serializeResponseHead,
  toRawHeaders,
  withContentLength,
} from '../../src/proxy/http1/index.js';
import { parseRequests, parseResponses, str } from './helpers.js';

const B = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('head serialization round trips', () => {
  const requests = [
    'GET /a?b=c HTTP/1.1\r\nhost: Example.COM\r\nX-UPPER: V\r\nx-lower: v\r\nCookie: a=1\r\nCookie: b=2\r\nEmpty: \r\n\r\n',
    'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nProxy-Connection: Keep-Alive\r\n\r\n',
    'POST http://example.com:8080/x HTTP/1.0\r\nContent-Length: 0\r\n\r\n',
    'OPTIONS * HTTP/1.1\r\n\r\n',
    'GET /caf\xc3\xa9 HTTP/1.1\r\nX-Bin: \xff\x80\x01\r\n\r\n'.replace('\x01', '!'),
  ];
  for (const raw of requests) {
    it(`request ${JSON.stringify(raw.slice(0, 30))}`, () => {
      const head = parseRequests(raw).heads[0] as RequestHead;
      // "Empty: " is received with its trailing space trimmed, so compare with the canonical form
      expect(serializeRequestHead(head).toString('latin1')).toBe(raw.replace('Empty: \r\n', 'Empty: \r\n'));
    });
  }

  const responses = [
    'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n',
    'HTTP/1.0 404 Not Found\r\n\r\n',
    'HTTP/1.1 599 \xe9trange\r\n\r\n',
  ];
  for (const raw of responses) {
    it(`response ${JSON.stringify(raw.slice(0, 30))}`, () => {
      const head = parseResponses(raw, ['HEAD']).heads[0] as ResponseHead;
      expect(serializeResponseHead(head).toString('latin1')).toBe(raw);
    });
  }

  it('writes an empty reason with the separating space', () => {
    expect(
      serializeResponseHead({ httpVersion: 'HTTP/1.1', statusCode: 204, reason: '', headers: [] }).toString(),
    ).toBe('HTTP/1.1 204 \r\n\r\n');
  });

  it('serializes changed headers in the given order and case', () => {
    const head = parseRequests('GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n').heads[0] as RequestHead;
    head.headers.splice(1, 0, [B('x-Added'), B('yes')]);
    head.headers[0]![1] = B('b.example');
    expect(serializeRequestHead(head).toString()).toBe(
      'GET / HTTP/1.1\r\nHost: b.example\r\nx-Added: yes\r\nAccept: */*\r\n\r\n',
    );
  });

  it('encodes non-latin1 targets and reasons as UTF-8', () => {
    expect(serializeRequestHead({ method: 'GET', target: '/€', httpVersion: 'HTTP/1.1', headers: [] })).toEqual(
      Buffer.from('GET /€ HTTP/1.1\r\n\r\n', 'utf8'),
    );
    expect(serializeResponseHead({ httpVersion: 'HTTP/1.1', statusCode: 200, reason: 'ok ✓', headers: [] })).toEqual(
      Buffer.from('HTTP/1.1 200 ok ✓\r\n\r\n', 'utf8'),
    );
  });

  it('refuses heads that would corrupt the stream', () => {
    const bad: Array<() => unknown> = [
      () => serializeRequestHead({ method: 'GET', target: '/a b', httpVersion: 'HTTP/1.1', headers: [] }),
      () => serializeRequestHead({ method: 'GE T', target: '/', httpVersion: 'HTTP/1.1', headers: [] }),
      () => serializeRequestHead({ method: 'G€T', target: '/', httpVersion: 'HTTP/1.1', headers: [] }),
      () => serializeRequestHead({ method: 'GET', target: '', httpVersion: 'HTTP/1.1', headers: [] }),
      () => serializeRequestHead({ method: 'GET', target: '/', httpVersion: 'HTTP/2.0', headers: [] }),
      () =>
        serializeRequestHead({
          method: 'GET',
          target: '/',
          httpVersion: 'HTTP/1.1',
          headers: [[B('X'), B('a\r\nInjected: 1')]],
        }),
      () =>
        serializeRequestHead({ method: 'GET', target: '/', httpVersion: 'HTTP/1.1', headers: [[B('X:Y'), B('a')]] }),
      () => serializeRequestHead({ method: 'GET', target: '/', httpVersion: 'HTTP/1.1', headers: [[B(''), B('a')]] }),
      () => serializeResponseHead({ httpVersion: 'HTTP/1.1', statusCode: 20, reason: 'OK', headers: [] }),
      () => serializeResponseHead({ httpVersion: 'HTTP/1.1', statusCode: 200, reason: 'OK\r\nX: 1', headers: [] }),
      () =>
        serializeResponseHead({
          httpVersion: 'HTTP/1.1',
          statusCode: 200,
          reason: 'OK',
          headers: [[B('X'), B('\x00')]],
        }),
    ];
    for (const f of bad) expect(f).toThrow(expect.objectContaining({ code: Http1ErrorCodes.BAD_OUTBOUND }));
    try {
      serializeResponseHead({
        httpVersion: 'HTTP/1.1',
        statusCode: 200,
        reason: 'OK',
        headers: [[B('X-Evil'), B('a\nb')]],
      });
    } catch (e) {
      expect(e).toMatchObject({ header: 'X-Evil', status: 502, side: 'response' });
      expect((e as Error).message).toMatch(/X-Evil.*LF/);
    }
    // validation can be skipped for heads known to come from the parser
    expect(
      serializeRequestHead(
        { method: 'GET', target: '/a b', httpVersion: 'HTTP/1.1', headers: [] },
        { validate: false },
      ).toString(),
    ).toBe('GET /a b HTTP/1.1\r\n\r\n');
  });

  it("checks only the fields that are not pairs of `checked` (the parser's)", () => {
    // A pair object from `checked` is taken as checked, even with bytes that would fail: the
    // identity is the contract (Headers shares untouched pairs and never mutates them).
    const parsed: Array<[Buffer, Buffer]> = [
      [B('A'), B('1')],
      [B('X-Raw'), B('a\x01b')],
      [B('C'), B('3')],
    ];
    const kept = [parsed[0]!, parsed[1]!, [B('New'), B('ok')] as [Buffer, Buffer], parsed[2]!];
    const head = { httpVersion: 'HTTP/1.1', statusCode: 200, reason: 'OK', headers: kept };
    expect(serializeResponseHead(head, { checked: parsed }).toString()).toBe(
      'HTTP/1.1 200 OK\r\nA: 1\r\nX-Raw: a\x01b\r\nNew: ok\r\nC: 3\r\n\r\n',
    );
    // Without `checked` every field is checked; a new or replaced field always is.
    expect(() => serializeResponseHead(head)).toThrow(/X-Raw/);
    const replaced = [parsed[0]!, [B('X-Raw'), B('a\x01b')] as [Buffer, Buffer], parsed[2]!];
    expect(() => serializeResponseHead({ ...head, headers: replaced }, { checked: parsed })).toThrow(/X-Raw/);
    expect(() =>
      serializeRequestHead(
        { method: 'GET', target: '/', httpVersion: 'HTTP/1.1', headers: [[B('Evil'), B('a\r\nb')]] },
        { checked: parsed },
      ),
    ).toThrow(/Evil/);
  });
});

describe('chunked encoding', () => {
  it('encodes chunks and the last chunk with trailers', () => {
    expect(encodeChunk(B('hello world!!!!!')).toString()).toBe('10\r\nhello world!!!!!\r\n');
    expect(encodeChunk(B('')).length).toBe(0);
    expect(chunkPieces(B('abc')).map(String)).toEqual(['3\r\n', 'abc', '\r\n']);
    expect(chunkPieces(B(''))).toEqual([]);
    expect(encodeLastChunk().toString()).toBe('0\r\n\r\n');
    expect(
      encodeLastChunk([
        [B('X-Checksum'), B('abc')],
        [B('x-b'), B('1')],
      ]).toString(),
    ).toBe('0\r\nX-Checksum: abc\r\nx-b: 1\r\n\r\n');
  });

  it('round-trips through the parser', () => {
    const body = Buffer.concat([
      encodeChunk(B('hello ')),
      encodeChunk(B('world')),
      encodeLastChunk([[B('Trailer-A'), B('1')]]),
    ]).toString('latin1');
    const rec = parseRequests('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n' + body);
    expect(rec.events.slice(1)).toEqual([
      { type: 'data', data: 'hello world' },
      { type: 'trailers', trailers: [['Trailer-A', '1']] },
      { type: 'end' },
    ]);
  });
});

describe('raw header helpers and whole messages', () => {
  const headers = toRawHeaders([
    ['Host', 'a'],
    ['content-length', '3'],
    ['X', '1'],
    ['Content-Length', '3'],
  ]);

  it('finds headers case-insensitively', () => {
    expect(findHeader(headers, 'CONTENT-LENGTH')).toBe(1);
    expect(getHeader(headers, 'x')).toBe('1');
    expect(getHeader(headers, 'missing')).toBeUndefined();
  });

  it('withContentLength keeps the first one in place and drops the rest and Transfer-Encoding', () => {
    expect(str(withContentLength(headers, 10))).toEqual([
      ['Host', 'a'],
      ['content-length', '10'],
      ['X', '1'],
    ]);
    expect(
      str(
        withContentLength(
          toRawHeaders([
            ['Transfer-Encoding', 'chunked'],
            ['A', 'b'],
          ]),
          0,
        ),
      ),
    ).toEqual([
      ['A', 'b'],
      ['Content-Length', '0'],
    ]);
    expect(str(headers)[1]).toEqual(['content-length', '3']); // input untouched
  });

  it('isChunked looks at the last coding', () => {
    expect(isChunked(toRawHeaders([['transfer-encoding', 'gzip, Chunked ']]))).toBe(true);
    expect(isChunked(toRawHeaders([['Transfer-Encoding', 'chunked, gzip']]))).toBe(false);
    expect(isChunked(toRawHeaders([['Transfer-Encoding', 'xchunked']]))).toBe(false);
    expect(isChunked(toRawHeaders([['Content-Length', '1']]))).toBe(false);
  });

  it('assembles buffered messages', () => {
    const req = serializeRequest(
      {
        method: 'POST',
        target: '/',
        httpVersion: 'HTTP/1.1',
        headers: withContentLength(toRawHeaders([['Host', 'a']]), 5),
      },
      B('hello'),
    );
    expect(req.toString()).toBe('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
    const chunked = serializeResponse(
      {
        httpVersion: 'HTTP/1.1',
        statusCode: 200,
        reason: 'OK',
        headers: toRawHeaders([['Transfer-Encoding', 'chunked']]),
      },
      B('abc'),
      'GET',
      toRawHeaders([['X-T', '1']]),
    );
    expect(chunked.toString()).toBe(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n',
    );
    const head = serializeResponse(
      { httpVersion: 'HTTP/1.1', statusCode: 200, reason: 'OK', headers: toRawHeaders([['Content-Length', '3']]) },
      B('abc'),
      'HEAD',
    );
    expect(head.toString()).toBe('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n');
    expect(encodeBody(toRawHeaders([['Transfer-Encoding', 'chunked']]), null).map(String)).toEqual(['0\r\n\r\n']);
    expect(encodeBody([], null)).toEqual([]);
  });
});
