import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandError, HTTPRequest, HTTPResponse } from '@mitmts/sdk';
import { tflow, withAddon } from '@mitmts/sdk/testing';
import { Cut, extract, toCsv } from '../src/index.js';

const flow = (): ReturnType<typeof tflow> => {
  const f = tflow({
    req: HTTPRequest.make('POST', 'http://example.com:8080/p?q=1', 'hello, "world"\n', {
      'Content-Type': 'text/plain',
    }),
    resp: HTTPResponse.make(404, Buffer.from([0x00, 0xff])),
  });
  f.marked = ':default:';
  return f;
};
const tmp = (name: string): string => join(mkdtempSync(join(tmpdir(), 'mitmts-cut-')), name);

describe('extract', () => {
  it.each([
    ['request.method', 'POST'],
    ['request.host', 'example.com'],
    ['request.port', '8080'],
    ['request.pretty_url', 'http://example.com:8080/p?q=1'],
    ['request.header[content-type]', 'text/plain'],
    ['request.headers[Content-Type]', 'text/plain'],
    ['request.header[missing]', ''],
    ['response.status_code', '404'],
    ['response.statusCode', '404'],
    ['response.reason', 'Not Found'],
    ['request.http_version', 'HTTP/1.1'],
    ['server_conn.address.host', 'address'],
    ['server_conn.address.port', '22'],
    ['client_conn.peername.host', '127.0.0.1'],
    ['marked', ':default:'],
    ['intercepted', 'false'],
    ['error', ''],
    ['error.msg', ''],
    ['response.nonexistent', ''],
  ])('%s -> %j', (spec, value) => {
    expect(extract(spec, flow())).toBe(value);
  });

  it('keeps bodies as bytes', () => {
    expect(extract('request.content', flow())).toEqual(Buffer.from('hello, "world"\n'));
    expect(extract('response.content', flow())).toEqual(Buffer.from([0x00, 0xff]));
  });

  it('refuses internal attributes and methods', () => {
    expect(() => extract('request._host', flow())).toThrow(CommandError);
    expect(() => extract('request.copy', flow())).toThrow(
      'Invalid cut spec request.copy: copy is a method, not a value.',
    );
  });

  it('writes CSV as Python does: quotes where needed, bytes that are not UTF-8 as a bytes repr', () => {
    expect(
      toCsv([
        ['a', 'b,c', 'say "hi"', 'x\ny'],
        [Buffer.from('ü'), Buffer.from([0x00, 0x27, 0xff])],
      ]),
    ).toBe(`a,"b,c","say ""hi""","x\ny"\r\nü,b'\\x00\\'\\xff'\r\n`);
  });
});

describe('cut (commands)', () => {
  it('cut returns one row per flow', async () => {
    const tctx = await withAddon(Cut);
    tctx.kernel.flows.add(flow());
    tctx.kernel.flows.add(tflow());
    expect(await tctx.command('cut @all request.method,request.path')).toEqual([
      ['POST', '/p?q=1'],
      ['GET', '/path'],
    ]);
  });

  it('cut.save: CSV that Python reads back, JSON, a single raw value, + appends', async () => {
    const tctx = await withAddon(Cut);
    tctx.kernel.flows.add(flow());
    tctx.kernel.flows.add(tflow({ resp: true }));
    const csv = tmp('cut.csv');
    await tctx.command(`cut.save @all request.method,request.content,response.status_code ${csv}`);
    const read = execFileSync('/usr/bin/python3', [
      '-c',
      'import csv,sys,json; print(json.dumps(list(csv.reader(open(sys.argv[1], newline="")))))',
      csv,
    ]);
    expect(JSON.parse(read.toString())).toEqual([
      ['POST', 'hello, "world"\n', '404'],
      ['GET', 'content', '200'],
    ]);
    const json = tmp('cut.json');
    await tctx.command(`cut.save @all request.method,response.content ${json}`);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual([
      { 'request.method': 'POST', 'response.content': { base64: 'AP8=' } },
      { 'request.method': 'GET', 'response.content': 'message' },
    ]);
    const raw = tmp('body.bin');
    await tctx.command(`cut.save '~m POST' response.content ${raw}`);
    expect(readFileSync(raw)).toEqual(Buffer.from([0x00, 0xff]));
    await tctx.command(`cut.save '~m POST' request.method +${raw}`);
    expect(readFileSync(raw)).toEqual(Buffer.from([0x00, 0xff, 0x0a, 0x50, 0x4f, 0x53, 0x54]));
    writeFileSync(csv, 'old\r\n');
    await tctx.command(`cut.save @all request.method,response.status_code +${csv}`);
    expect(readFileSync(csv, 'utf8')).toBe('old\r\nPOST,404\r\nGET,200\r\n');
  });

  it('says what is wrong: appending to JSON, an unwritable path', async () => {
    const tctx = await withAddon(Cut);
    tctx.kernel.flows.add(flow());
    tctx.kernel.flows.add(tflow());
    await expect(tctx.command(`cut.save @all request.method,request.path +${tmp('x.json')}`)).rejects.toThrow(
      /Cannot append to .*x\.json: a JSON file holds one array/,
    );
    await expect(tctx.command('cut.save @all request.method /nonexistent-dir/x.csv')).rejects.toThrow(
      /Cannot save cuts to \/nonexistent-dir\/x\.csv/,
    );
  });
});
