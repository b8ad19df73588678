import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { Http1ErrorCodes, ResponseParser, type ResponseHead } from '../../src/proxy/http1/index.js';
import { Recorder, digest, parseResponses, responseParser, splits } from './helpers.js';

const body = (rec: Recorder): string => rec.events.map((e) => (e.type === 'data' ? e.data : '')).join('');
const types = (rec: Recorder): string[] => rec.events.map((e) => e.type);

describe('ResponseParser: framing by status and request method', () => {
  const cases: Array<{
    name: string;
    method: string;
    input: string;
    kind: string;
    body: string;
    end: boolean;
    keepAlive: boolean;
  }> = [
    {
      name: 'Content-Length',
      method: 'GET',
      input: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc',
      kind: 'length',
      body: 'abc',
      end: true,
      keepAlive: true,
    },
    {
      name: 'chunked',
      method: 'GET',
      input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      kind: 'chunked',
      body: 'abc',
      end: true,
      keepAlive: true,
    },
    {
      name: 'read until close',
      method: 'GET',
      input: 'HTTP/1.1 200 OK\r\n\r\nabc',
      kind: 'close',
      body: 'abc',
      end: false,
      keepAlive: false,
    },
    {
      name: 'gzip only: read until close',
      method: 'GET',
      input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc',
      kind: 'close',
      body: 'abc',
      end: false,
      keepAlive: false,
    },
    {
      name: 'HEAD with Content-Length',
      method: 'HEAD',
      input: 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n',
      kind: 'none',
      body: '',
      end: true,
      keepAlive: true,
    },
    {
      name: 'HEAD with chunked',
      method: 'HEAD',
      input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
      kind: 'none',
      body: '',
      end: true,
      keepAlive: true,
    },
    {
      name: '204 with Content-Length',
      method: 'GET',
      input: 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n',
      kind: 'none',
      body: '',
      end: true,
      keepAlive: true,
    },
    {
      name: '304 with Content-Length',
      method: 'GET',
      input: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n',
      kind: 'none',
      body: '',
      end: true,
      keepAlive: true,
    },
    {
      name: 'Content-Length: 0',
      method: 'POST',
      input: 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n',
      kind: 'none',
      body: '',
      end: true,
      keepAlive: true,
    },
    {
      name: 'HTTP/1.0 with keep-alive',
      method: 'GET',
      input: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx',
      kind: 'length',
      body: 'x',
      end: true,
      keepAlive: true,
    },
    {
      name: 'HTTP/1.0 without keep-alive',
      method: 'GET',
      input: 'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx',
      kind: 'length',
      body: 'x',
      end: true,
      keepAlive: false,
    },
    {
      name: 'Connection: close',
      method: 'GET',
      input: 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx',
      kind: 'length',
      body: 'x',
      end: true,
      keepAlive: false,
    },
    {
      name: 'CONNECT 200: tunnel',
      method: 'CONNECT',
      input: 'HTTP/1.1 200 Connection established\r\n\r\n',
      kind: 'tunnel',
      body: '',
      end: true,
      keepAlive: false,
    },
    {
      name: 'CONNECT 407: normal body',
      method: 'CONNECT',
      input: 'HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno',
      kind: 'length',
      body: 'no',
      end: true,
      keepAlive: true,
    },
    {
      name: '101: tunnel',
      method: 'GET',
      input: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      kind: 'tunnel',
      body: '',
      end: true,
      keepAlive: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const rec = parseResponses(c.input, [c.method]);
      expect(rec.error).toBeUndefined();
      const h = rec.heads[0] as ResponseHead;
      expect(h.bodyKind).toBe(c.kind);
      expect(h.keepAlive).toBe(c.keepAlive);
      expect(body(rec)).toBe(c.body);
      expect(types(rec).includes('end')).toBe(c.end);
    });
  }

  it('keeps the declared Content-Length of a HEAD response for forwarding', () => {
    const rec = parseResponses('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n', ['HEAD']);
    expect(rec.heads[0]!.contentLength).toBe(1000);
  });

  it('parses status line variants', () => {
    let h = parseResponses('HTTP/1.1 404 Not Found\r\n\r\n', ['HEAD']).heads[0] as ResponseHead;
    expect([h.statusCode, h.reason]).toEqual([404, 'Not Found']);
    h = parseResponses('HTTP/1.1 200\r\n\r\n', ['HEAD']).heads[0] as ResponseHead;
    expect([h.statusCode, h.reason]).toEqual([200, '']);
    h = parseResponses('HTTP/1.1 200 \r\n\r\n', ['HEAD']).heads[0] as ResponseHead;
    expect([h.statusCode, h.reason]).toEqual([200, '']);
    h = parseResponses('HTTP/1.1 599 W\xe9ird  reason\t!\r\n\r\n', ['HEAD']).heads[0] as ResponseHead;
    expect([h.statusCode, h.reason]).toEqual([599, 'W\xe9ird  reason\t!']);
  });

  it('read-until-close ends on finish()', () => {
    const { parser, rec } = responseParser(['GET']);
    parser.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\nab'));
    parser.push(Buffer.from('cd'));
    expect(types(rec)).toEqual(['head', 'data']);
    parser.finish();
    expect(digest(rec.events).slice(1)).toEqual([{ type: 'data', data: 'abcd' }, { type: 'end' }]);
  });

  it('gives the same events for every split', () => {
    const inputs: Array<[string, string[]]> = [
      [
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nX-T: 1\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n',
        ['POST', 'GET'],
      ],
      ['HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcdHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', ['GET', 'HEAD']],
    ];
    for (const [input, methods] of inputs) {
      const expected = digest(parseResponses(input, methods).events);
      for (const pieces of splits(input)) expect(digest(parseResponses(pieces, methods).events)).toEqual(expected);
    }
  });
});

describe('ResponseParser: interim responses, upgrades, exchanges', () => {
  it('reports 100 Continue and 103 Early Hints, then the final response', () => {
    const rec = parseResponses(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      ['POST'],
    );
    expect(digest(rec.events)).toMatchObject([
      { type: 'info', statusCode: 100 },
      { type: 'info', statusCode: 103, headers: [['Link', '</s.css>; rel=preload']] },
      { type: 'head', statusCode: 200 },
      { type: 'data', data: 'ok' },
      { type: 'end' },
    ]);
  });

  it('hands over the bytes after 101 and after a CONNECT 200', () => {
    for (const [method, head] of [
      ['GET', 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'],
      ['CONNECT', 'HTTP/1.1 200 OK\r\n\r\n'],
    ] as const) {
      const { parser, rec } = responseParser([method]);
      parser.push(Buffer.from(head + '\x81\x05hel', 'latin1'));
      parser.push(Buffer.from('lo'));
      expect(types(rec)).toEqual(['head', 'end']);
      expect(rec.heads[0]!.upgrade).toBe(method === 'GET');
      expect(parser.takeRemaining().toString('latin1')).toBe('\x81\x05hello');
    }
  });

  it('waits for next() and keeps early bytes', () => {
    const rec = new Recorder();
    const parser = new ResponseParser(rec);
    parser.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx'));
    expect(rec.events).toEqual([]);
    parser.next('GET');
    expect(types(rec)).toEqual(['head', 'data', 'end']);
    expect(() => parser.next('GET')).not.toThrow();
    expect(() => parser.next('GET')).toThrow(/still being read/);
  });

  it('reports a server that closes without responding', () => {
    const rec = new Recorder();
    const parser = new ResponseParser(rec);
    parser.finish(); // idle: nothing expected, nothing to say
    expect(rec.events).toEqual([]);
    parser.next('GET');
    expect(rec.error?.code).toBe(Http1ErrorCodes.NO_RESPONSE);
    expect(rec.error?.status).toBe(502);
    expect(rec.error?.message).toMatch(/GET/);
  });

  it('reports a truncated body with 502', () => {
    const rec = parseResponses('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', ['GET'], undefined, true);
    expect(rec.error?.code).toBe(Http1ErrorCodes.INCOMPLETE);
    expect(rec.error?.status).toBe(502);
  });

  it('applies bodySizeLimit to responses (413)', () => {
    const rec = parseResponses('HTTP/1.1 200 OK\r\n\r\n' + 'x'.repeat(20), ['GET'], { bodySizeLimit: 10 });
    expect(rec.error?.code).toBe(Http1ErrorCodes.BODY_TOO_LARGE);
    expect(rec.error?.status).toBe(413);
  });

  it('hands out body bytes as views of the pushed chunks (no copy)', () => {
    const chunks: Buffer[] = [];
    const rec = new Recorder();
    const parser = new ResponseParser({ ...rec, onData: (c: Buffer) => chunks.push(c) } as unknown as Recorder);
    parser.next('GET');
    const input = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
    parser.push(input);
    expect(chunks[0]!.buffer).toBe(input.buffer);
    expect(chunks[0]!.byteOffset).toBe(input.byteOffset + input.length - 5);
  });
});
