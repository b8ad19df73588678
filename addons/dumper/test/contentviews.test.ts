import { describe, expect, it } from 'vitest';
import { HTTPHeaders, HTTPRequest, HTTPResponse } from '@mitmts/sdk';
import { formatPairs, hexdump, isMostlyBinary, pickView, prettify, VIEW_NAMES } from '../src/contentviews.js';

function resp(contentType: string | null, body: Buffer | string): HTTPResponse {
  return HTTPResponse.make(200, Buffer.from(body), contentType ? { 'content-type': contentType } : undefined);
}

describe('content views', () => {
  it('offers at least auto, raw, hex, json and text', () => {
    expect(VIEW_NAMES).toEqual(expect.arrayContaining(['auto', 'raw', 'hex', 'json', 'text']));
  });

  it.each([
    ['application/json', '{"a":1}', 'json'],
    ['application/vnd.api+json', '{"a":1}', 'json'],
    ['application/x-ndjson', '{"a":1}', 'json'],
    ['text/plain', '{"a":1}', 'raw'],
    ['application/x-www-form-urlencoded', 'a=1', 'urlencoded'],
    ['text/event-stream', 'data: 1\n\n', 'sse'],
    [null, Buffer.from([0, 1, 2, 3, 4, 5]), 'hex'],
    [null, Buffer.from('grüße, ünïcödé'), 'raw'],
    [null, '', 'raw'],
  ] as const)('auto picks %s %j -> %s', (ct, body, view) => {
    const r = resp(ct, body);
    expect(pickView(r.rawContent!, { contentType: ct, http: r }).name).toBe(view);
  });

  it('shows a request query when there is no body', () => {
    const req = HTTPRequest.make('GET', 'http://x/p?a=1&long=2');
    expect(prettify(req.rawContent, req, 'auto')).toEqual({ text: 'a:    1\nlong: 2', view: 'query', error: false });
  });

  it('pretty-prints JSON with four spaces, keeping key order and non-ASCII', () => {
    const r = resp('application/json', '{"z":[1,{"é":null}],"a":true}');
    expect(prettify(r.rawContent, r, 'auto').text).toBe(
      '{\n    "z": [\n        1,\n        {\n            "é": null\n        }\n    ],\n    "a": true\n}',
    );
  });

  it('falls back to raw when auto picked a view that fails, reports the failure of a chosen one', () => {
    const r = resp('application/json', 'not json');
    expect(prettify(r.rawContent, r, 'auto')).toEqual({ text: 'not json', view: 'raw', error: false });
    const chosen = prettify(r.rawContent, r, 'json');
    expect(chosen.error).toBe(true);
    expect(chosen.text).toMatch(/^Couldn't parse as json:\n/);
  });

  it('shows Server-Sent Events one per line (JSON data compact, the id in brackets)', () => {
    const r = resp(
      'text/event-stream',
      'id: 1\ndata: { "delta": "Hel" }\n\nevent: done\ndata: line one\ndata: line two\n\n: a comment\ndata: [DONE]\n\n',
    );
    expect(prettify(r.rawContent, r, 'auto')).toEqual({
      text: 'message [1]: {"delta":"Hel"}\ndone: line one\n    line two\nmessage: [DONE]',
      view: 'sse',
      error: false,
    });
  });

  it('says when content is missing', () => {
    expect(prettify(null, null, 'auto')).toEqual({ text: 'Content is missing.', view: 'none', error: true });
  });

  it('shows invalid UTF-8 as \\x escapes and control characters as dots in raw', () => {
    expect(prettify(Buffer.from([0x61, 0xff, 0x62, 0x00, 0x0a]), null, 'raw').text).toBe('a\\xffb.\n');
  });

  it('decodes with the declared charset in the text view', () => {
    const r = new HTTPResponse({
      statusCode: 200,
      headers: new HTTPHeaders([['content-type', 'text/plain; charset=latin1']]),
      content: Buffer.from([0x66, 0xfc, 0x72]),
    });
    expect(prettify(r.rawContent, r, 'text').text).toBe('für');
  });

  it('hexdumps 16 bytes a line', () => {
    expect(hexdump(Buffer.from('0123456789abcdefXY'))).toBe(
      `0000000000 ${'30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66'}   0123456789abcdef\n0000000010 ${'58 59'.padEnd(47)}   XY`,
    );
  });

  it('pads pair keys to the longest, at most 30', () => {
    expect(
      formatPairs([
        ['a', '1'],
        ['bbb', '2'],
      ]),
    ).toBe('a:   1\nbbb: 2');
    expect(
      formatPairs([
        ['k'.repeat(40), 'v'],
        ['a', '1'],
      ]).split('\n')[1],
    ).toBe(`a:${' '.repeat(30)}1`);
  });

  it('judges binary data like is_mostly_bin, but lets UTF-8 text be text', () => {
    expect(isMostlyBinary(Buffer.from('hello'))).toBe(false);
    expect(isMostlyBinary(Buffer.from('日本語のテキストです'))).toBe(false);
    expect(isMostlyBinary(Buffer.from([0xff, 0xfe, 0xfd, 0x41]))).toBe(true);
    expect(isMostlyBinary(Buffer.alloc(0))).toBe(false);
  });
});
