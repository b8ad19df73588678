import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, HTTPHeaders, OptionsError, HTTPResponse, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { startOrigin, terr, tflow, treq, tresp, withAddon, type Origin, type TestContext } from '@mitmts/sdk/testing';
import { ModifyHeaders } from '../src/index.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'mitmts-modifyheaders-'));

function flow(reqHeaders: Array<[string, string]> = [], respHeaders: Array<[string, string]> | null = null): HTTPFlow {
  const f = tflow({ req: treq({ headers: new HTTPHeaders(reqHeaders) }) });
  if (respHeaders) f.response = tresp({ headers: new HTTPHeaders(respHeaders) });
  return f;
}

async function through(tctx: TestContext, f: HTTPFlow, respHeaders: Array<[string, string]>): Promise<HTTPFlow> {
  await tctx.trigger('request', f);
  f.response = tresp({ headers: new HTTPHeaders(respHeaders) });
  await tctx.trigger('response', f);
  return f;
}

describe('modify_headers (unit)', () => {
  it('does nothing without rules', async () => {
    const tctx = await withAddon(ModifyHeaders);
    const f = await through(tctx, flow([['one', 'x']]), [['one', 'y']]);
    expect([f.request.headers.items(true), f.response!.headers.items(true)]).toEqual([[['one', 'x']], [['one', 'y']]]);
  });

  it('without a filter sets the header on the request and on the response', async () => {
    const tctx = await withAddon(ModifyHeaders);
    tctx.configure({ modify_headers: ['/one/two'] });
    const f = await through(
      tctx,
      flow([
        ['One', 'x'],
        ['one', 'y'],
        ['keep', 'k'],
      ]),
      [['ONE', 'z']],
    );
    expect(f.request.headers.items(true)).toEqual([
      ['keep', 'k'],
      ['one', 'two'],
    ]);
    expect(f.response!.headers.items(true)).toEqual([['one', 'two']]);
  });

  it('~q applies to requests only and ~s to responses only', async () => {
    const tctx = await withAddon(ModifyHeaders);
    tctx.configure({ modify_headers: ['/~q/x-side/request', '/~s/x-side/response'] });
    const f = await through(tctx, flow(), []);
    expect(f.request.headers.getAll('x-side')).toEqual(['request']);
    expect(f.response!.headers.getAll('x-side')).toEqual(['response']);
  });

  it('an empty value removes the header; several rules for one name add several headers', async () => {
    const tctx = await withAddon(ModifyHeaders);
    tctx.configure({ modify_headers: ['/~q/cookie/', '/~s/set-cookie/a=1', '/~s/set-cookie/b=2', '/~s/server/'] });
    const f = await through(tctx, flow([['Cookie', 'c=1']]), [
      ['Set-Cookie', 'old=1'],
      ['Server', 'nginx'],
    ]);
    expect(f.request.headers.has('cookie')).toBe(false);
    expect(f.response!.headers.items(true)).toEqual([
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
  });

  it('filters see the unmodified flow', async () => {
    const tctx = await withAddon(ModifyHeaders);
    // The second rule's filter matches on the header the first rule removes: it still applies.
    tctx.configure({ modify_headers: ['/~q/x-flag/', '/~hq x-flag/x-seen/yes'] });
    const f = flow([['x-flag', '1']]);
    await tctx.trigger('request', f);
    expect(f.request.headers.items(true)).toEqual([['x-seen', 'yes']]);
  });

  it('escape-decodes names and values to bytes', async () => {
    const tctx = await withAddon(ModifyHeaders);
    tctx.configure({ modify_headers: ['/x-bytes/caf\\xe9 \\\\ é'] });
    const f = flow();
    await tctx.trigger('request', f);
    expect(f.request.headers.getAllRaw('x-bytes')).toEqual([
      Buffer.concat([Buffer.from('caf\xe9 \\ ', 'latin1'), Buffer.from('é')]),
    ]);
  });

  it('reads an @file value on every use, without its final line break', async () => {
    const file = join(dir, 'token.txt');
    writeFileSync(file, 'Bearer one\n');
    const tctx = await withAddon(ModifyHeaders);
    tctx.configure({ modify_headers: [`/~q/authorization/@${file}`] });
    const a = flow();
    await tctx.trigger('request', a);
    expect(a.request.headers.get('authorization')).toBe('Bearer one');
    writeFileSync(file, 'Bearer two\r\n');
    const b = flow();
    await tctx.trigger('request', b);
    expect(b.request.headers.get('authorization')).toBe('Bearer two');
    writeFileSync(file, 'two\nlines');
    const c = flow([['authorization', 'mine']]);
    await tctx.trigger('request', c);
    expect(c.request.headers.has('authorization')).toBe(false);
    expect(
      tctx.hasLog(/cannot be used as the value of authorization: a header value cannot contain a line break/, 'warn'),
    ).toBe(true);
    rmSync(file);
    const d = flow();
    await tctx.trigger('request', d);
    expect(d.request.headers.has('authorization')).toBe(false);
    expect(tctx.hasLog(/^modify_headers: could not read replacement file: ENOENT/, 'warn')).toBe(true);
  });

  it('skips answered requests, failed and dead flows', async () => {
    const tctx = await withAddon(ModifyHeaders);
    tctx.configure({ modify_headers: ['/x/1'] });
    const answered = flow();
    answered.response = HTTPResponse.make(200);
    await tctx.trigger('request', answered);
    expect(answered.request.headers.has('x')).toBe(false);
    const failed = flow([], []);
    failed.error = terr();
    await tctx.trigger('response', failed);
    expect(failed.response!.headers.has('x')).toBe(false);
    const dead = flow([], []);
    dead.live = false;
    await tctx.trigger('response', dead);
    expect(dead.response!.headers.has('x')).toBe(false);
  });

  it('rejects bad specs naming the option and spec, keeping the previous rules', async () => {
    const tctx = await withAddon(ModifyHeaders);
    tctx.configure({ modify_headers: ['/x-good/1'] });
    const bad: Array<[string, string]> = [
      ['//value', "Invalid modify_headers spec '//value': the header-name is empty."],
      ['/bad name/v', "Invalid modify_headers spec '/bad name/v': 'bad name' is not a valid HTTP header name."],
      ['/x-a:b/v', "Invalid modify_headers spec '/x-a:b/v': 'x-a:b' is not a valid HTTP header name."],
      [
        '/x-crlf/a\\r\\nInjected: 1',
        "Invalid modify_headers spec '/x-crlf/a\\r\\nInjected: 1': a header value cannot contain a line break (CR or LF).",
      ],
      ['/x-nul/a\\0', "Invalid modify_headers spec '/x-nul/a\\0': a header value cannot contain a NUL byte."],
      [
        '/x\\x4/v',
        "Invalid modify_headers spec '/x\\x4/v': bad escape in header name 'x\\x4': invalid \\x escape at position 1.",
      ],
      [
        '|x|@/no/such/file',
        "Invalid modify_headers spec '|x|@/no/such/file': cannot read replacement file '/no/such/file' (ENOENT",
      ],
      ['/~q &/x/v', "Invalid modify_headers spec '/~q &/x/v': invalid flow filter '~q &': "],
      ['x', "Invalid modify_headers spec 'x': expected 2 or 3 parts separated by 'x'"],
    ];
    for (const [spec, message] of bad) {
      let err: unknown;
      try {
        tctx.configure({ modify_headers: ['/x-other/2', spec] });
      } catch (e) {
        err = e;
      }
      expect(err, spec).toBeInstanceOf(OptionsError);
      expect((err as Error).message.startsWith(message), (err as Error).message).toBe(true);
    }
    expect(tctx.kernel.options.get('modify_headers')).toEqual(['/x-good/1']);
    const f = flow();
    await tctx.trigger('request', f);
    expect(f.request.headers.items(true)).toEqual([['x-good', '1']]);
  });
});

describe('modify_headers (end to end)', () => {
  let origin: Origin;
  let proxy: EmbeddedProxy;

  beforeAll(async () => {
    origin = await startOrigin((_req, res) =>
      res.writeHead(200, { server: 'upstream/1.0', 'x-powered-by': 'php' }).end('ok'),
    );
    proxy = await createProxy({
      addons: [ModifyHeaders],
      options: {
        modify_headers: ['/~q/user-agent/mitmts-test', '/~q/x-debug/', '/~s/x-powered-by/', '/~s/x-proxied/yes'],
      },
    });
  });

  afterAll(async () => {
    await proxy.close();
    await origin.close();
  });

  it('the server sees the rewritten request headers and curl the rewritten response headers', async () => {
    const { stdout } = await run('curl', ['-s', '-i', '-x', proxy.url, '-H', 'X-Debug: 1', `${origin.url}/`]);
    expect(origin.requests.at(-1)!.headers['user-agent']).toBe('mitmts-test');
    expect(origin.requests.at(-1)!.headers['x-debug']).toBeUndefined();
    const head = stdout.split('\r\n\r\n')[0]!.toLowerCase();
    expect(head).toContain('\r\nx-proxied: yes');
    expect(head).toContain('\r\nserver: upstream/1.0');
    expect(head).not.toContain('x-powered-by');
  });
});
