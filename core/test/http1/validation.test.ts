import { describe, expect, it } from 'vitest';
import { Http1ErrorCodes as C, type Http1ErrorCode } from '../../src/proxy/http1/index.js';
import { parseRequests, parseResponses } from './helpers.js';

const req = (headerLines: string, body = ''): string => `POST / HTTP/1.1\r\nHost: a\r\n${headerLines}\r\n${body}`;

/** Malformed requests: each must fail with this code (and so answer 4xx/5xx and close). */
const badRequests: Array<[string, string, Http1ErrorCode]> = [
  // request smuggling (validate_inbound_headers)
  ['CL and TE', req('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'), C.CONFLICTING_FRAMING],
  ['TE and CL', req('Transfer-Encoding: chunked\r\nContent-Length: 5\r\n'), C.CONFLICTING_FRAMING],
  ['two equal CL', req('Content-Length: 5\r\nContent-Length: 5\r\n'), C.BAD_CONTENT_LENGTH],
  ['two different CL', req('Content-Length: 5\r\ncontent-length: 6\r\n'), C.BAD_CONTENT_LENGTH],
  ['CL list', req('Content-Length: 5, 5\r\n'), C.BAD_CONTENT_LENGTH],
  ['CL sign', req('Content-Length: +5\r\n'), C.BAD_CONTENT_LENGTH],
  ['CL negative', req('Content-Length: -1\r\n'), C.BAD_CONTENT_LENGTH],
  ['CL hex', req('Content-Length: 0x10\r\n'), C.BAD_CONTENT_LENGTH],
  ['CL leading zero', req('Content-Length: 010\r\n'), C.BAD_CONTENT_LENGTH],
  ['CL empty', req('Content-Length: \r\n'), C.BAD_CONTENT_LENGTH],
  ['CL inner space', req('Content-Length: 1 0\r\n'), C.BAD_CONTENT_LENGTH],
  ['CL too big', req('Content-Length: 1234567890123456\r\n'), C.BAD_CONTENT_LENGTH],
  ['two TE headers', req('Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n'), C.BAD_TRANSFER_ENCODING],
  ['TE not ending in chunked', req('Transfer-Encoding: chunked, gzip\r\n'), C.UNSUPPORTED_TRANSFER_ENCODING],
  ['TE gzip only', req('Transfer-Encoding: gzip\r\n'), C.BAD_TRANSFER_ENCODING],
  ['TE chunked twice', req('Transfer-Encoding: chunked, chunked\r\n'), C.UNSUPPORTED_TRANSFER_ENCODING],
  ['TE unknown', req('Transfer-Encoding: xchunked\r\n'), C.UNSUPPORTED_TRANSFER_ENCODING],
  ['TE with nbsp', req('Transfer-Encoding: chunked\xa0\r\n'), C.BAD_TRANSFER_ENCODING],
  ['TE with vertical tab', req('Transfer-Encoding: \x0bchunked\r\n'), C.BAD_HEADER],
  ['TE empty element', req('Transfer-Encoding: ,chunked\r\n'), C.BAD_TRANSFER_ENCODING],
  ['TE on HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', C.BAD_TRANSFER_ENCODING],
  ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', C.BAD_HOST],
  ['CONNECT with body', 'CONNECT a:443 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc', C.BAD_CONTENT_LENGTH],
  ['CONNECT chunked', 'CONNECT a:443 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n', C.BAD_TRANSFER_ENCODING],
  // header syntax
  ['obs-fold', 'GET / HTTP/1.1\r\nX-A: 1\r\n  continued\r\n\r\n', C.OBS_FOLD],
  ['obs-fold with tab', 'GET / HTTP/1.1\r\nX-A: 1\r\n\tcontinued\r\n\r\n', C.OBS_FOLD],
  ['space before first header', 'GET / HTTP/1.1\r\n Host: a\r\n\r\n', C.OBS_FOLD],
  ['space before colon', 'GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n', C.BAD_HEADER],
  ['tab before colon', 'GET / HTTP/1.1\r\nTransfer-Encoding\t: chunked\r\n\r\n', C.BAD_HEADER],
  ['no colon', 'GET / HTTP/1.1\r\nHost a\r\n\r\n', C.BAD_HEADER],
  ['empty name', 'GET / HTTP/1.1\r\n: a\r\n\r\n', C.BAD_HEADER],
  ['invalid name char', 'GET / HTTP/1.1\r\nX(A): a\r\n\r\n', C.BAD_HEADER],
  ['non-ASCII name', 'GET / HTTP/1.1\r\nX\xe9: a\r\n\r\n', C.BAD_HEADER],
  ['NUL in value', 'GET / HTTP/1.1\r\nX-A: a\x00b\r\n\r\n', C.BAD_HEADER],
  ['DEL in value', 'GET / HTTP/1.1\r\nX-A: a\x7fb\r\n\r\n', C.BAD_HEADER],
  ['bare CR in value', 'GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n', C.BAD_LINE_ENDING],
  ['bare LF in value', 'GET / HTTP/1.1\r\nX-A: a\nX-B: b\r\n\r\n', C.BAD_LINE_ENDING],
  ['bare LF line endings', 'GET / HTTP/1.1\nHost: a\n\n', C.BAD_LINE_ENDING],
  ['bare LF before request', '\nGET / HTTP/1.1\r\n\r\n', C.BAD_LINE_ENDING],
  ['CR without LF before request', '\r\rGET / HTTP/1.1\r\n\r\n', C.BAD_LINE_ENDING],
  // request line
  ['lower-case version', 'GET / http/1.1\r\n\r\n', C.BAD_REQUEST_LINE],
  ['HTTP/2.0', 'GET / HTTP/2.0\r\n\r\n', C.UNSUPPORTED_VERSION],
  ['HTTP/1.2', 'GET / HTTP/1.2\r\n\r\n', C.UNSUPPORTED_VERSION],
  ['HTTP/0.9', 'GET /\r\n\r\n', C.BAD_REQUEST_LINE],
  ['double space', 'GET  / HTTP/1.1\r\n\r\n', C.BAD_REQUEST_LINE],
  ['tab separator', 'GET\t/ HTTP/1.1\r\n\r\n', C.BAD_REQUEST_LINE],
  ['trailing space', 'GET / HTTP/1.1 \r\n\r\n', C.BAD_REQUEST_LINE],
  ['missing method', ' / HTTP/1.1\r\n\r\n', C.BAD_REQUEST_LINE],
  ['method with slash', 'GE/T / HTTP/1.1\r\n\r\n', C.BAD_REQUEST_LINE],
  ['control char in target', 'GET /a\x01b HTTP/1.1\r\n\r\n', C.BAD_REQUEST_LINE],
  ['extra token', 'GET / x HTTP/1.1\r\n\r\n', C.BAD_REQUEST_LINE],
  ['junk', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', C.BAD_REQUEST_LINE],
  // chunked body
  ['chunk size 0x', req('Transfer-Encoding: chunked\r\n', '0x5\r\nhello\r\n0\r\n\r\n'), C.BAD_CHUNK],
  ['chunk size negative', req('Transfer-Encoding: chunked\r\n', '-5\r\nhello\r\n0\r\n\r\n'), C.BAD_CHUNK],
  ['chunk size with leading space', req('Transfer-Encoding: chunked\r\n', ' 5\r\nhello\r\n0\r\n\r\n'), C.BAD_CHUNK],
  ['chunk size with trailing space', req('Transfer-Encoding: chunked\r\n', '5 \r\nhello\r\n0\r\n\r\n'), C.BAD_CHUNK],
  ['chunk size empty', req('Transfer-Encoding: chunked\r\n', '\r\nhello\r\n0\r\n\r\n'), C.BAD_CHUNK],
  ['chunk size overflow', req('Transfer-Encoding: chunked\r\n', 'fffffffffffffffff\r\n'), C.BAD_CHUNK],
  ['chunk size bare LF', req('Transfer-Encoding: chunked\r\n', '5\nhello\r\n0\r\n\r\n'), C.BAD_CHUNK],
  ['chunk data too long', req('Transfer-Encoding: chunked\r\n', '3\r\nhello\r\n0\r\n\r\n'), C.BAD_CHUNK],
  ['chunk data without CRLF', req('Transfer-Encoding: chunked\r\n', '5\r\nhello0\r\n\r\n'), C.BAD_CHUNK],
  ['chunk ext with control char', req('Transfer-Encoding: chunked\r\n', '5;a=\x01\r\nhello\r\n0\r\n\r\n'), C.BAD_CHUNK],
  ['chunk ext with bare LF', req('Transfer-Encoding: chunked\r\n', '5;a\nb\r\nhello\r\n0\r\n\r\n'), C.BAD_CHUNK],
  ['obs-fold in trailer', req('Transfer-Encoding: chunked\r\n', '0\r\nX: 1\r\n 2\r\n\r\n'), C.OBS_FOLD],
  ['bad trailer name', req('Transfer-Encoding: chunked\r\n', '0\r\nX Y: 1\r\n\r\n'), C.BAD_HEADER],
  ['bare LF in trailers', req('Transfer-Encoding: chunked\r\n', '0\r\nX: 1\n\n'), C.BAD_LINE_ENDING],
];

describe('request validation (strict, the default)', () => {
  for (const [name, input, code] of badRequests) {
    it(`rejects ${name}`, () => {
      const rec = parseRequests(input);
      expect(rec.error?.code, JSON.stringify(rec.events.map((e) => e.type))).toBe(code);
      expect(rec.error?.side).toBe('request');
      expect(rec.error?.message.length).toBeGreaterThan(20);
      expect([400, 413, 414, 431, 501, 505]).toContain(rec.error?.status);
      // and the same whatever the chunk boundaries
      expect(parseRequests(input.split('')).error?.code).toBe(code);
    });
  }

  it('names the header and the position', () => {
    const rec = parseRequests('GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\x00b\r\n\r\n');
    expect(rec.error?.header).toBe('X-Bad');
    expect(rec.error?.offset).toBe(33);
    expect(rec.error?.message).toMatch(/0x00 \(NUL\).*"X-Bad".*byte 33/);
    const te = parseRequests(req('Content-Length: 5\r\ntransfer-encoding: chunked\r\n'));
    expect(te.error?.header).toBe('transfer-encoding');
    expect(te.error?.message).toMatch(/smuggling/);
  });

  it('offsets count from the start of the stream', () => {
    const rec = parseRequests('GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nX\x01: a\r\n\r\n');
    expect(rec.error?.offset).toBe(18 + 17);
  });

  it('accepts a Transfer-Encoding it knows, CL with OWS, and a long valid Content-Length', () => {
    for (const te of ['chunked', 'CHUNKED', 'deflate,chunked', 'compress, chunked']) {
      expect(parseRequests(req(`Transfer-Encoding: ${te}\r\n`, '0\r\n\r\n')).error).toBeUndefined();
    }
    expect(parseRequests(req('Content-Length: 123456789012345\r\n')).error).toBeUndefined();
  });
});

describe('request validation off (validate_inbound_headers=false)', () => {
  const lax = { strict: false };
  it('lets Transfer-Encoding win over Content-Length', () => {
    const rec = parseRequests(req('Content-Length: 100\r\nTransfer-Encoding: chunked\r\n', '1\r\na\r\n0\r\n\r\n'), lax);
    expect(rec.error).toBeUndefined();
    expect(rec.heads[0]!.bodyKind).toBe('chunked');
  });
  it('accepts repeated identical Content-Length, also as a list', () => {
    expect(parseRequests(req('Content-Length: 1\r\nContent-Length: 1\r\n', 'a'), lax).heads[0]!.contentLength).toBe(1);
    expect(parseRequests(req('Content-Length: 2, 2\r\n', 'ab'), lax).heads[0]!.contentLength).toBe(2);
    expect(parseRequests(req('Content-Length: 010\r\n', '0123456789'), lax).heads[0]!.contentLength).toBe(10);
  });
  it('accepts odd header names and several Host headers', () => {
    const rec = parseRequests('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nX(a)\xe9: 1\r\n\r\n', lax);
    expect(rec.error).toBeUndefined();
    expect(rec.heads[0]!.headers.length).toBe(3);
  });
  it('accepts Transfer-Encoding on HTTP/1.0 and across several headers', () => {
    expect(parseRequests('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', lax).error).toBeUndefined();
    expect(
      parseRequests(req('Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), lax).heads[0]!
        .bodyKind,
    ).toBe('chunked');
  });
  it('still rejects what cannot be framed', () => {
    expect(parseRequests(req('Content-Length: 1\r\nContent-Length: 2\r\n'), lax).error?.code).toBe(
      C.BAD_CONTENT_LENGTH,
    );
    expect(parseRequests(req('Content-Length: abc\r\n'), lax).error?.code).toBe(C.BAD_CONTENT_LENGTH);
    expect(parseRequests(req('Transfer-Encoding: gzip\r\n'), lax).error?.code).toBe(C.BAD_TRANSFER_ENCODING);
    expect(parseRequests(req('Transfer-Encoding: chunked, gzip\r\n'), lax).error?.code).toBe(C.BAD_TRANSFER_ENCODING);
    expect(parseRequests('GET / HTTP/1.1\r\nX: 1\r\n 2\r\n\r\n', lax).error?.code).toBe(C.OBS_FOLD);
    expect(parseRequests('GET / HTTP/1.1\r\nX : 1\r\n\r\n', lax).error?.code).toBe(C.BAD_HEADER);
    expect(parseRequests('GET / HTTP/1.1\nX: 1\n\n', lax).error?.code).toBe(C.BAD_LINE_ENDING);
  });
});

describe('response validation', () => {
  const bad: Array<[string, string, Http1ErrorCode]> = [
    ['CL and TE', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', C.CONFLICTING_FRAMING],
    ['two CL', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', C.BAD_CONTENT_LENGTH],
    ['TE on 204', 'HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n', C.BAD_TRANSFER_ENCODING],
    ['TE on HTTP/1.0', 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', C.BAD_TRANSFER_ENCODING],
    ['unknown TE', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: br\r\n\r\n', C.BAD_TRANSFER_ENCODING],
    ['bad status', 'HTTP/1.1 20 OK\r\n\r\n', C.BAD_STATUS_LINE],
    ['status 099', 'HTTP/1.1 099 OK\r\n\r\n', C.BAD_STATUS_LINE],
    ['status letters', 'HTTP/1.1 2x0 OK\r\n\r\n', C.BAD_STATUS_LINE],
    ['no space', 'HTTP/1.1200 OK\r\n\r\n', C.BAD_STATUS_LINE],
    ['four digits', 'HTTP/1.1 2000 OK\r\n\r\n', C.BAD_STATUS_LINE],
    ['control in reason', 'HTTP/1.1 200 O\x01K\r\n\r\n', C.BAD_STATUS_LINE],
    ['HTTP/2', 'HTTP/2 200 OK\r\n\r\n', C.BAD_STATUS_LINE],
    ['HTTP/2.0', 'HTTP/2.0 200 OK\r\n\r\n', C.UNSUPPORTED_VERSION],
    ['not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n', C.BAD_STATUS_LINE],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX: 1\r\n 2\r\n\r\n', C.OBS_FOLD],
    ['bad chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', C.BAD_CHUNK],
  ];
  for (const [name, input, code] of bad) {
    it(`rejects ${name} with 502`, () => {
      const rec = parseResponses(input);
      expect(rec.error?.code).toBe(code);
      expect(rec.error?.side).toBe('response');
      expect(rec.error?.status).toBe(502);
    });
  }
  it('lax mode reads TE over CL', () => {
    const rec = parseResponses(
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n',
      ['GET'],
      { strict: false },
    );
    expect(rec.error).toBeUndefined();
    expect(rec.heads[0]!.bodyKind).toBe('chunked');
  });
});
