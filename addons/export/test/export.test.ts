import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandError, HTTPHeaders, HTTPRequest, HTTPResponse, Server } from '@mitmts/sdk';
import { tflow, withAddon } from '@mitmts/sdk/testing';
import { Export } from '../src/index.js';

const post = (): ReturnType<typeof tflow> =>
  tflow({
    req: HTTPRequest.make(
      'POST',
      'http://example.com/path?q=1',
      '{"a": "it\'s"}',
      new HTTPHeaders([
        ['content-type', 'application/json'],
        ['x-empty', ''],
        ['accept-encoding', 'gzip'],
      ]),
    ),
    resp: HTTPResponse.make(200, 'ok', { 'content-type': 'text/plain' }),
  });

describe('export (unit)', () => {
  it('lists the formats', async () => {
    const tctx = await withAddon(Export);
    expect(await tctx.call('export.formats')).toEqual([
      'curl',
      'fetch',
      'httpie',
      'python-requests',
      'raw',
      'raw_request',
      'raw_response',
    ]);
  });

  it('curl: headers, an empty header, --compressed, method, URL and the body quoted', async () => {
    const tctx = await withAddon(Export);
    expect(await tctx.call('export', 'curl', post())).toBe(
      `curl -H 'content-type: application/json' -H 'x-empty;' --compressed -X POST 'http://example.com/path?q=1' --data-raw '{"a": "it'"'"'s"}'`,
    );
  });

  it('curl: a GET stays short; HEAD uses --head; a bodiless POST sends content-length: 0', async () => {
    const tctx = await withAddon(Export);
    expect(await tctx.call('export', 'curl', tflow({ req: HTTPRequest.make('GET', 'http://example.com/') }))).toBe(
      'curl http://example.com/',
    );
    expect(await tctx.call('export', 'curl', tflow({ req: HTTPRequest.make('HEAD', 'http://example.com/') }))).toBe(
      'curl --head http://example.com/',
    );
    expect(await tctx.call('export', 'curl', tflow({ req: HTTPRequest.make('POST', 'http://example.com/') }))).toBe(
      "curl -H 'content-length: 0' -X POST http://example.com/",
    );
  });

  it('curl: --resolve pins the original server address with export_preserve_original_ip', async () => {
    const tctx = await withAddon(Export);
    tctx.configure({ export_preserve_original_ip: true });
    const f = tflow({ req: HTTPRequest.make('GET', 'http://example.com/') });
    f.serverConn = new Server({ address: ['example.com', 80], peername: ['93.184.216.34', 80] });
    expect(await tctx.call('export', 'curl', f)).toBe(
      "curl --resolve 'example.com:80:[93.184.216.34]' http://example.com/",
    );
  });

  it('httpie: items, stdin body, Content-Type kept', async () => {
    const tctx = await withAddon(Export);
    expect(await tctx.call('export', 'httpie', post())).toBe(
      `printf '{"a": "it\\047s"}' | http POST 'http://example.com/path?q=1' 'content-type: application/json' 'x-empty;' 'accept-encoding: gzip'`,
    );
  });

  it('fetch and python-requests: runnable code', async () => {
    const tctx = await withAddon(Export);
    expect(await tctx.call('export', 'fetch', post())).toBe(
      'fetch("http://example.com/path?q=1", {\n  "method": "POST",\n  "headers": {\n    "content-type": "application/json",\n    "x-empty": "",\n    "accept-encoding": "gzip"\n  },\n  "body": "{\\"a\\": \\"it\'s\\"}"\n});',
    );
    expect(await tctx.call('export', 'python-requests', post())).toBe(
      [
        'import requests',
        '',
        'response = requests.request(',
        '    "POST",',
        '    "http://example.com/path?q=1",',
        '    headers={',
        '        "content-type": "application/json",',
        '        "x-empty": "",',
        '        "accept-encoding": "gzip",',
        '    },',
        '    data="{\\"a\\": \\"it\'s\\"}".encode(),',
        ')',
        'print(response.text)',
        '',
      ].join('\n'),
    );
  });

  it('raw formats: HTTP/1 bytes of request, response and both', async () => {
    const tctx = await withAddon(Export);
    const req =
      'POST /path?q=1 HTTP/1.1\r\ncontent-type: application/json\r\nx-empty: \r\naccept-encoding: gzip\r\ncontent-length: 13\r\n\r\n{"a": "it\'s"}';
    const resp = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok';
    expect(await tctx.call('export', 'raw_request', post())).toBe(req);
    expect(await tctx.call('export', 'raw_response', post())).toBe(resp);
    expect(await tctx.call('export', 'raw', post())).toBe(`${req}\r\n\r\n${resp}`);
  });

  it('decodes a compressed body before exporting it', async () => {
    const tctx = await withAddon(Export);
    const f = post();
    f.request.encode('gzip');
    expect(f.request.headers.get('content-encoding')).toBe('gzip');
    const out = (await tctx.call('export', 'curl', f)) as string;
    expect(out).toContain(`--data-raw '{"a": "it'"'"'s"}'`);
    expect(out).not.toContain('content-encoding');
  });

  it('export.file writes the exact bytes; export shows non-UTF-8 bytes as \\xNN', async () => {
    const tctx = await withAddon(Export);
    const f = tflow({ resp: HTTPResponse.make(200, Buffer.from([0x00, 0xff, 0x41])) });
    const path = join(mkdtempSync(join(tmpdir(), 'mitmts-export-')), 'resp.bin');
    await tctx.call('export.file', 'raw_response', f, path);
    expect(readFileSync(path).subarray(-3)).toEqual(Buffer.from([0x00, 0xff, 0x41]));
    expect(await tctx.call('export', 'raw_response', f)).toMatch(/\r\n\r\n\x00\\xffA$/);
  });

  it('says what is wrong: unknown format, missing response, flow spec selecting several flows, unwritable path', async () => {
    const tctx = await withAddon(Export);
    await expect(tctx.call('export', 'wget', post())).rejects.toThrow('No such export format: wget');
    await expect(tctx.call('export', 'raw_response', tflow())).rejects.toThrow("Can't export flow with no response.");
    await expect(tctx.command('export wget @all')).rejects.toThrow(
      /argument format expects one of curl, fetch, httpie/,
    );
    tctx.kernel.flows.add(post());
    tctx.kernel.flows.add(post());
    await expect(tctx.command('export curl @all')).rejects.toThrow(/exactly one flow \(it selected 2\)/);
    const err = await tctx.call('export.file', 'curl', post(), '/nonexistent-dir/x.sh').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as Error).message).toMatch(/Cannot write the curl export to \/nonexistent-dir\/x\.sh/);
  });
});
