import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { Http1ErrorCodes, RequestParser, type RequestHead } from '../../src/proxy/http1/index.js';
import { Recorder, digest, parseRequests, requestParser, splits, str } from './helpers.js';

const head = (rec: Recorder, i = 0): RequestHead => rec.heads[i] as RequestHead;

describe('RequestParser: framing', () => {
  const cases: Array<{ name: string; input: string; kind: string; cl: number; body: string; keepAlive?: boolean }> = [
    { name: 'GET without body', input: 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', kind: 'none', cl: -1, body: '' },
    {
      name: 'Content-Length',
      input: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello',
      kind: 'length',
      cl: 5,
      body: 'hello',
    },
    {
      name: 'Content-Length: 0',
      input: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n',
      kind: 'none',
      cl: 0,
      body: '',
    },
    {
      name: 'content-length in odd case, OWS',
      input: 'POST / HTTP/1.1\r\ncOnTeNt-LeNgTh:\t 3 \t\r\n\r\nabc',
      kind: 'length',
      cl: 3,
      body: 'abc',
    },
    {
      name: 'chunked',
      input: 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
      kind: 'chunked',
      cl: -1,
      body: 'hello world',
    },
    {
      name: 'chunked, upper-case hex and leading zeros',
      input: 'POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n00A\r\n0123456789\r\n000\r\n\r\n',
      kind: 'chunked',
      cl: -1,
      body: '0123456789',
    },
    {
      name: 'gzip, chunked',
      input: 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip ,  chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n',
      kind: 'chunked',
      cl: -1,
      body: 'x',
    },
    {
      name: 'chunk extensions',
      input:
        'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b;c="d e"\r\nabc\r\n3 ; x\r\ndef\r\n0;last\r\n\r\n',
      kind: 'chunked',
      cl: -1,
      body: 'abcdef',
    },
    {
      name: 'HTTP/1.0 default close',
      input: 'GET / HTTP/1.0\r\n\r\n',
      kind: 'none',
      cl: -1,
      body: '',
      keepAlive: false,
    },
    {
      name: 'HTTP/1.0 keep-alive',
      input: 'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n',
      kind: 'none',
      cl: -1,
      body: '',
      keepAlive: true,
    },
    {
      name: 'HTTP/1.1 Connection: close',
      input: 'GET / HTTP/1.1\r\nConnection: foo, CLOSE\r\n\r\n',
      kind: 'none',
      cl: -1,
      body: '',
      keepAlive: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const rec = parseRequests(c.input);
      const h = head(rec);
      expect(rec.error).toBeUndefined();
      expect(h.bodyKind).toBe(c.kind);
      expect(h.contentLength).toBe(c.cl);
      expect(h.keepAlive).toBe(c.keepAlive ?? true);
      const data = rec.events
        .filter((e) => e.type === 'data')
        .map((e) => (e.type === 'data' ? e.data : ''))
        .join('');
      expect(data).toBe(c.body);
      expect(rec.events[rec.events.length - 1]).toEqual({ type: 'end' });
    });
  }

  it('hands out the same events whatever the chunk boundaries', () => {
    const messages = [
      'POST /up?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 11\r\nX-Case: KeepMe\r\n\r\nhello world',
      'PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4;n=v\r\nWiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n',
      '\r\nGET http://a.example:81/ HTTP/1.1\r\nHost: a.example:81\r\n\r\nGET / HTTP/1.1\r\nHost: b\r\n\r\n',
    ];
    for (const m of messages) {
      const expected = digest(parseRequests(m).events);
      expect(expected.length).toBeGreaterThan(2);
      for (const pieces of splits(m)) expect(digest(parseRequests(pieces).events)).toEqual(expected);
    }
  });

  it('reports trailers of a chunked body', () => {
    const rec = parseRequests(
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-A: 1\r\nx-b:  two words \r\n\r\n',
    );
    expect(rec.events.find((e) => e.type === 'trailers')).toEqual({
      type: 'trailers',
      trailers: [
        ['X-A', '1'],
        ['x-b', 'two words'],
      ],
    });
  });

  it('flags Expect: 100-continue and upgrades', () => {
    let rec = parseRequests('POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n');
    expect(head(rec).expectContinue).toBe(true);
    expect(rec.events.map((e) => e.type)).toEqual(['head']); // waits for the body
    rec = parseRequests('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(head(rec).upgrade).toBe(true);
    rec = parseRequests('GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n');
    expect(head(rec).upgrade).toBe(false); // Upgrade without Connection: upgrade is not a request to upgrade
    rec = parseRequests('POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n');
    expect(head(rec).expectContinue).toBe(false);
  });

  it('keeps header order, case and duplicates as received', () => {
    const rec = parseRequests(
      'GET / HTTP/1.1\r\nhost: x\r\nX-UPPER: A\r\nx-lower: b\r\nSet-Thing: 1\r\nSet-Thing: 2\r\nEmpty:\r\n\r\n',
    );
    expect(str(head(rec).headers)).toEqual([
      ['host', 'x'],
      ['X-UPPER', 'A'],
      ['x-lower', 'b'],
      ['Set-Thing', '1'],
      ['Set-Thing', '2'],
      ['Empty', ''],
    ]);
    expect(head(rec).headSize).toBe(87);
  });

  it('keeps non-ASCII bytes in values and targets (latin1 round trip)', () => {
    const raw = Buffer.concat([
      Buffer.from('GET /caf'),
      Buffer.from([0xc3, 0xa9]),
      Buffer.from(' HTTP/1.1\r\nX-Name: '),
      Buffer.from([0xff, 0x80]),
      Buffer.from('\r\n\r\n'),
    ]);
    const rec = new Recorder();
    new RequestParser(rec).push(raw);
    const h = head(rec);
    expect(Buffer.from(h.target, 'latin1')).toEqual(Buffer.from('/café'));
    expect(h.headers[0]![1]).toEqual(Buffer.from([0xff, 0x80]));
  });
});

describe('RequestParser: request-target forms', () => {
  const cases: Array<[string, string, Partial<RequestHead>]> = [
    ['GET', '/a/b?c=d', { form: 'origin', path: '/a/b?c=d', host: '', port: 0, scheme: '', authority: '' }],
    [
      'GET',
      'http://example.com/x',
      { form: 'absolute', scheme: 'http', authority: 'example.com', host: 'example.com', port: 80, path: '/x' },
    ],
    [
      'GET',
      'HTTPS://Example.com:8443',
      { form: 'absolute', scheme: 'https', authority: 'Example.com:8443', host: 'Example.com', port: 8443, path: '/' },
    ],
    ['GET', 'http://example.com?q=1', { form: 'absolute', host: 'example.com', port: 80, path: '/?q=1' }],
    ['GET', 'http://[::1]:8080/p', { form: 'absolute', host: '::1', port: 8080, authority: '[::1]:8080', path: '/p' }],
    [
      'CONNECT',
      'example.com:443',
      { form: 'authority', authority: 'example.com:443', host: 'example.com', port: 443, path: '', scheme: '' },
    ],
    ['CONNECT', '[2001:db8::1]:443', { form: 'authority', host: '2001:db8::1', port: 443 }],
    ['OPTIONS', '*', { form: 'asterisk', path: '*' }],
  ];
  for (const [method, target, expected] of cases) {
    it(`${method} ${target}`, () => {
      const rec = parseRequests(`${method} ${target} HTTP/1.1\r\nHost: h\r\n\r\n`);
      expect(rec.error).toBeUndefined();
      expect(head(rec)).toMatchObject({ method, target, ...expected });
    });
  }

  const bad: Array<[string, string]> = [
    ['CONNECT', 'example.com'],
    ['CONNECT', '/path'],
    ['CONNECT', 'example.com:0'],
    ['CONNECT', 'example.com:65536'],
    ['CONNECT', 'example.com:44a'],
    ['GET', '*'],
    ['GET', 'example.com/x'],
    ['GET', 'ftp://example.com/'],
    ['GET', 'http:///x'],
    ['GET', 'http://user:pw@example.com/'],
    ['GET', 'http://exa"mple.com/'],
    ['GET', 'http://[::1/'],
    ['GET', 'http://example.com:/'],
  ];
  for (const [method, target] of bad) {
    it(`rejects ${method} ${target}`, () => {
      const rec = parseRequests(`${method} ${target} HTTP/1.1\r\nHost: h\r\n\r\n`);
      expect(rec.error?.code).toBe(Http1ErrorCodes.BAD_TARGET);
      expect(rec.error?.status).toBe(400);
    });
  }
});

describe('RequestParser: pipelining, pause, hand-over', () => {
  it('waits for next() before reading a pipelined request', () => {
    const rec = new Recorder();
    const parser = new RequestParser(rec);
    parser.push(Buffer.from('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTT'));
    expect(rec.take().map((e) => e.type)).toEqual(['head', 'end']);
    expect(parser.isIdle).toBe(true);
    expect(parser.bufferedBytes).toBe(38);
    parser.next();
    expect(digest(rec.take())).toMatchObject([{ type: 'head', target: '/2' }, { type: 'end' }]);
    parser.next();
    expect(rec.take()).toEqual([]);
    parser.push(Buffer.from('P/1.1\r\n\r\n'));
    expect(digest(rec.take())).toMatchObject([{ type: 'head', target: '/3' }, { type: 'end' }]);
    expect(() => parser.next()).not.toThrow();
    expect(() => parser.next()).toThrow(/still being read/);
  });

  it('pauses after a head and resumes without losing bytes', () => {
    const rec = new Recorder();
    const parser = new RequestParser(rec);
    rec.after = (e) => {
      if (e.type === 'head') parser.pause();
    };
    parser.push(Buffer.from('POST / HTTP/1.1\r\nContent-Length: 6\r\n\r\nabc'));
    expect(rec.take().map((e) => e.type)).toEqual(['head']);
    parser.push(Buffer.from('def'));
    expect(rec.take()).toEqual([]);
    expect(parser.isPaused).toBe(true);
    expect(parser.bufferedBytes).toBe(6);
    parser.resume();
    expect(rec.take()).toEqual([{ type: 'data', data: 'abcdef' }, { type: 'end' }]);
  });

  it('does not report the end of a bodiless request while paused in onHead', () => {
    const rec = new Recorder();
    const parser = new RequestParser(rec);
    rec.after = (e) => e.type === 'head' && parser.pause();
    parser.push(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect(rec.take().map((e) => e.type)).toEqual(['head']);
    parser.resume();
    expect(rec.take().map((e) => e.type)).toEqual(['end']);
  });

  it('pauses inside a body for backpressure', () => {
    const rec = new Recorder();
    const parser = new RequestParser(rec);
    rec.after = (e) => e.type === 'data' && parser.pause();
    parser.push(Buffer.from('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n'));
    expect(rec.take().map((e) => e.type)).toEqual(['head', 'data']);
    parser.resume();
    expect(rec.take().map((e) => e.type)).toEqual(['data']);
    rec.after = null;
    parser.resume();
    expect(rec.take().map((e) => e.type)).toEqual(['end']);
  });

  it('hands over the bytes after CONNECT', () => {
    const rec = new Recorder();
    const parser = new RequestParser(rec);
    parser.push(Buffer.from('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01'));
    parser.push(Buffer.from('more'));
    expect(rec.take().map((e) => e.type)).toEqual(['head', 'end']);
    expect(parser.takeRemaining().toString('latin1')).toBe('\x16\x03\x01more');
    parser.push(Buffer.from('later'));
    expect(rec.take()).toEqual([]);
    expect(parser.takeRemaining().toString()).toBe('later');
    expect(parser.takeRemaining().length).toBe(0);
  });

  it('allows takeRemaining() from inside onEnd', () => {
    const rec = new Recorder();
    const parser = new RequestParser(rec);
    let rest = '';
    rec.after = (e) => {
      if (e.type === 'end') rest = parser.takeRemaining().toString();
    };
    parser.push(Buffer.from('GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nFRAME'));
    expect(rest).toBe('FRAME');
  });

  it('reads requests after a CONNECT that was refused (407 then a new CONNECT)', () => {
    const { parser, rec } = requestParser();
    parser.push(Buffer.from('CONNECT a:443 HTTP/1.1\r\n\r\nCONNECT a:443 HTTP/1.1\r\nProxy-Authorization: x\r\n\r\n'));
    expect(rec.heads.length).toBe(2);
  });
});

describe('RequestParser: end of stream and limits', () => {
  it('closing between requests is clean', () => {
    const rec = parseRequests('GET / HTTP/1.1\r\n\r\n', undefined, true);
    expect(rec.events.map((e) => e.type)).toEqual(['head', 'end']);
    expect(parseRequests('', undefined, true).events).toEqual([]);
  });

  it('closing inside a head, a Content-Length body or a chunked body is INCOMPLETE', () => {
    for (const input of [
      'GET / HTTP/1.1\r\nHost',
      'POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc',
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab',
      '\r',
    ]) {
      const rec = parseRequests(input, undefined, true);
      expect(rec.error?.code).toBe(Http1ErrorCodes.INCOMPLETE);
      expect(rec.error?.status).toBe(400);
    }
  });

  it('finish() while paused takes effect after the buffered bytes', () => {
    const rec = new Recorder();
    const parser = new RequestParser(rec);
    rec.after = (e) => e.type === 'head' && parser.pause();
    parser.push(Buffer.from('POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nab'));
    parser.finish();
    expect(rec.take().map((e) => e.type)).toEqual(['head']);
    parser.resume();
    expect(digest(rec.take())).toEqual([
      { type: 'data', data: 'ab' },
      { type: 'error', code: Http1ErrorCodes.INCOMPLETE },
    ]);
  });

  it('rejects heads over maxHeadSize with 431, long request lines with 414', () => {
    const big = 'GET / HTTP/1.1\r\n' + 'X-Pad: ' + 'a'.repeat(200) + '\r\n\r\n';
    let rec = parseRequests(big, { maxHeadSize: 100 });
    expect(rec.error?.code).toBe(Http1ErrorCodes.HEAD_TOO_LARGE);
    expect(rec.error?.status).toBe(431);
    rec = parseRequests(big.split(''), { maxHeadSize: 100 });
    expect(rec.error?.code).toBe(Http1ErrorCodes.HEAD_TOO_LARGE);
    rec = parseRequests('GET /' + 'a'.repeat(200), { maxHeadSize: 100 });
    expect(rec.error?.code).toBe(Http1ErrorCodes.URI_TOO_LONG);
    expect(rec.error?.status).toBe(414);
    // exactly at the limit is fine
    const exact = 'GET / HTTP/1.1\r\nX: ' + 'b'.repeat(100 - 23) + '\r\n\r\n';
    expect(exact.length).toBe(100);
    expect(parseRequests(exact, { maxHeadSize: 100 }).error).toBeUndefined();
    expect(parseRequests(exact.split(''), { maxHeadSize: 100 }).error).toBeUndefined();
    expect(parseRequests(exact.replace('X: ', 'X: b'), { maxHeadSize: 100 }).error?.code).toBe(
      Http1ErrorCodes.HEAD_TOO_LARGE,
    );
  });

  it('a 64 KiB head arriving byte by byte is parsed in linear time', () => {
    const lines: string[] = [];
    for (let i = 0; lines.join('').length < 60_000; i++) lines.push(`X-H${i}: ${'v'.repeat(50)}\r\n`);
    const input = 'GET / HTTP/1.1\r\n' + lines.join('') + '\r\n';
    const { parser, rec } = requestParser();
    const buf = Buffer.from(input);
    const t = performance.now();
    for (let i = 0; i < buf.length; i++) parser.push(buf.subarray(i, i + 1));
    const ms = performance.now() - t;
    expect(rec.heads.length).toBe(1);
    expect(head(rec).headers.length).toBe(lines.length);
    expect(ms).toBeLessThan(2000); // quadratic rescans would take minutes
  });

  it('enforces bodySizeLimit before handing out bytes over it', () => {
    let rec = parseRequests('POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n', { bodySizeLimit: 10 });
    expect(digest(rec.events).map((e) => (e as { type: string }).type)).toEqual(['head', 'error']);
    expect(rec.error?.code).toBe(Http1ErrorCodes.BODY_TOO_LARGE);
    expect(rec.error?.status).toBe(413);
    rec = parseRequests('POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789', { bodySizeLimit: 10 });
    expect(rec.error).toBeUndefined();
    rec = parseRequests('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\nghijk\r\n0\r\n\r\n', {
      bodySizeLimit: 10,
    });
    expect(digest(rec.events)).toEqual([
      expect.objectContaining({ type: 'head' }),
      { type: 'data', data: 'abcdef' },
      { type: 'error', code: Http1ErrorCodes.BODY_TOO_LARGE },
    ]);
  });

  it('takes a bodySizeLimit set in onHead into account', () => {
    const rec = new Recorder();
    const parser = new RequestParser(rec);
    rec.after = (e) => {
      if (e.type === 'head') parser.bodySizeLimit = 3;
    };
    parser.push(Buffer.from('POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n'));
    expect(rec.error?.code).toBe(Http1ErrorCodes.BODY_TOO_LARGE);
  });

  it('an error kills only this parser and ignores later input', () => {
    const rec = parseRequests(['GET / HTTP/1.1\r\nBad Header: x\r\n\r\n', 'GET / HTTP/1.1\r\n\r\n']);
    expect(rec.events.map((e) => e.type)).toEqual(['error']);
    expect(parseRequests('GET / HTTP/1.1\r\n\r\n').error).toBeUndefined();
  });

  it('reports streamed body bytes and offsets', () => {
    const { parser, rec } = requestParser();
    parser.push(Buffer.from('POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab'));
    expect(parser.bodyBytes).toBe(2);
    expect(rec.events.map((e) => e.type)).toEqual(['head', 'data']);
  });
});

describe('RequestParser: large bodies and odd starts', () => {
  it('streams a 1 MiB Content-Length body in socket-sized views without copying', () => {
    const size = 1 << 20;
    const chunks: Buffer[] = [];
    let ended = false;
    const parser = new RequestParser({
      onHead: () => {},
      onData: (c) => chunks.push(c),
      onTrailers: () => {},
      onEnd: () => (ended = true),
      onError: (e) => {
        throw e;
      },
    });
    const body = Buffer.alloc(size, 7);
    const input = Buffer.concat([
      Buffer.from(`PUT /big HTTP/1.1\r\nContent-Length: ${size}\r\n\r\n`),
      body,
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
    ]);
    const pushed: Buffer[] = [];
    for (let i = 0; i < input.length; i += 65536) {
      const c = Buffer.from(input.subarray(i, i + 65536)); // fresh buffers, like socket reads
      pushed.push(c);
      parser.push(c);
    }
    expect(ended).toBe(true);
    expect(chunks.reduce((n, c) => n + c.length, 0)).toBe(size);
    expect(chunks.every((c) => pushed.some((p) => p.buffer === c.buffer))).toBe(true);
    expect(parser.bodyBytes).toBe(size);
    expect(parser.bufferedBytes).toBe(18); // the pipelined GET waits
  });

  it('decodes a chunked body whose chunks straddle socket reads', () => {
    const parts: string[] = [];
    let wire = '';
    for (let i = 1; i <= 40; i++) {
      const data = String.fromCharCode(64 + (i % 26)).repeat(i * 7);
      parts.push(data);
      wire += data.length.toString(16) + (i % 3 === 0 ? ';i=' + i : '') + '\r\n' + data + '\r\n';
    }
    wire += '0\r\n\r\n';
    const input = 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n' + wire;
    const pieces: string[] = [];
    for (let i = 0; i < input.length; i += 13) pieces.push(input.slice(i, i + 13));
    const rec = parseRequests(pieces);
    expect(rec.events.slice(1)).toEqual([{ type: 'data', data: parts.join('') }, { type: 'end' }]);
  });

  it('answers the HTTP/2 connection preface with 505', () => {
    const rec = parseRequests('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    expect(rec.error?.code).toBe(Http1ErrorCodes.UNSUPPORTED_VERSION);
    expect(rec.error?.status).toBe(505);
  });

  it('skips empty lines before a request, even split', () => {
    expect(digest(parseRequests(['\r', '\n\r\n', 'GET / HTTP/1.1\r\n\r\n']).events)).toMatchObject([
      { type: 'head', headSize: 18 },
      { type: 'end' },
    ]);
  });
});
