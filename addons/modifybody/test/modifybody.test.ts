import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, HTTPHeaders, OptionsError, HTTPResponse, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { startOrigin, terr, tflow, treq, tresp, withAddon, type Origin, type TestContext } from '@mitmts/sdk/testing';
import { ModifyBody } from '../src/index.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'mitmts-modifybody-'));

function exchange(reqBody: string | Buffer, respBody: string | Buffer | null = null): HTTPFlow {
  const f = tflow({ req: treq({ method: 'POST', content: Buffer.from(reqBody) }) });
  if (respBody !== null) f.response = tresp({ content: Buffer.from(respBody) });
  return f;
}

async function both(tctx: TestContext, f: HTTPFlow, resp: string): Promise<HTTPFlow> {
  await tctx.trigger('request', f);
  f.response = tresp({ content: Buffer.from(resp) });
  await tctx.trigger('response', f);
  return f;
}

describe('modify_body (unit)', () => {
  it('does nothing without rules', async () => {
    const tctx = await withAddon(ModifyBody);
    const f = await both(tctx, exchange('foo'), 'foo');
    expect([f.request.text, f.response!.text]).toEqual(['foo', 'foo']);
  });

  it('without a filter replaces in the request, then in the response', async () => {
    const tctx = await withAddon(ModifyBody);
    tctx.configure({ modify_body: ['/foo/bar'] });
    const f = await both(tctx, exchange('foo foo'), 'a foo');
    expect([f.request.text, f.response!.text]).toEqual(['bar bar', 'a bar']);
    expect(f.request.headers.get('content-length')).toBe('7');
  });

  it('~q picks the request side and ~s the response side', async () => {
    const tctx = await withAddon(ModifyBody);
    tctx.configure({ modify_body: ['/~q/x/request', '/~s/x/response'] });
    const f = await both(tctx, exchange('x'), 'x');
    expect([f.request.text, f.response!.text]).toEqual(['request', 'response']);
  });

  it('matches bytes with Python regex semantics (DOTALL, escapes, groups)', async () => {
    const tctx = await withAddon(ModifyBody);
    tctx.configure({
      modify_body: [
        '/~s/(\\w+)@example\\.com/\\\\1 at example.org',
        '/~s/<!--.*?-->/',
        '/~s/\\x00\\xff/NUL-FF',
        '/~s/café/CAFE',
        '/~s/\\d{3}/NNN',
      ],
    });
    const f = exchange(
      '',
      Buffer.concat([Buffer.from('mail bob@example.com <!--a\nb--> 1234 café '), Buffer.from([0, 255])]),
    );
    await tctx.trigger('response', f);
    expect(f.response!.content!.toString()).toBe('mail bob at example.org  NNN4 CAFE NUL-FF');
  });

  it('escape-decodes the replacement: \\n is a newline, \\1 is byte 1, \\\\1 is group 1', async () => {
    const tctx = await withAddon(ModifyBody);
    tctx.configure({ modify_body: ['/(a)/[\\n|\\1|\\\\1]'] });
    const f = exchange('a');
    await tctx.trigger('request', f);
    expect(f.request.content).toEqual(Buffer.from('[\n|\x01|a]', 'latin1'));
  });

  it('decodes and re-encodes a compressed body', async () => {
    const tctx = await withAddon(ModifyBody);
    tctx.configure({ modify_body: ['/~s/secret/public'] });
    const f = exchange('');
    f.response = tresp({ headers: new HTTPHeaders([['content-encoding', 'gzip']]), content: gzipSync('the secret') });
    await tctx.trigger('response', f);
    expect(f.response.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(f.response.rawContent!).toString()).toBe('the public');
  });

  it('warns and leaves a body alone that cannot be decoded', async () => {
    const tctx = await withAddon(ModifyBody);
    tctx.configure({ modify_body: ['/~s/a/b'] });
    const f = exchange('');
    f.response = tresp({
      headers: new HTTPHeaders([['content-encoding', 'gzip']]),
      content: Buffer.from('not gzip a'),
    });
    await tctx.trigger('response', f);
    expect(f.response.rawContent!.toString()).toBe('not gzip a');
    expect(tctx.hasLog(/^modify_body: cannot decode the response body of /, 'warn')).toBe(true);
  });

  it('reads an @file replacement on every use, and warns when it is gone', async () => {
    const file = join(dir, 'replacement.txt');
    writeFileSync(file, 'first');
    const tctx = await withAddon(ModifyBody);
    tctx.configure({ modify_body: [`/~s/X/@${file}`] });
    const a = exchange('', 'X');
    await tctx.trigger('response', a);
    expect(a.response!.text).toBe('first');
    writeFileSync(file, 'second \\g<0>');
    const b = exchange('', 'X');
    await tctx.trigger('response', b);
    expect(b.response!.text).toBe('second X');
    writeFileSync(file, 'bad \\2');
    const c = exchange('', 'X');
    await tctx.trigger('response', c);
    expect(c.response!.text).toBe('X');
    expect(tctx.hasLog(/is not a valid replacement template \(invalid group reference 2/, 'warn')).toBe(true);
    rmSync(file);
    const d = exchange('', 'X');
    await tctx.trigger('response', d);
    expect(d.response!.text).toBe('X');
    expect(tctx.hasLog(/^modify_body: could not read replacement file: ENOENT/, 'warn')).toBe(true);
  });

  it('skips answered requests, failed and dead flows', async () => {
    const tctx = await withAddon(ModifyBody);
    tctx.configure({ modify_body: ['/a/b'] });
    const answered = exchange('a');
    answered.response = HTTPResponse.make(200, 'a');
    await tctx.trigger('request', answered);
    expect(answered.request.text).toBe('a');
    const failed = exchange('a', 'a');
    failed.error = terr();
    await tctx.trigger('response', failed);
    expect(failed.response!.text).toBe('a');
    const dead = exchange('a', 'a');
    dead.live = false;
    await tctx.trigger('response', dead);
    expect(dead.response!.text).toBe('a');
  });

  it('rejects bad specs naming the option and spec, keeping the previous rules', async () => {
    const tctx = await withAddon(ModifyBody);
    tctx.configure({ modify_body: ['/a/b'] });
    const bad: Array<[string, string]> = [
      [
        '/fo(o/x',
        "Invalid modify_body spec '/fo(o/x': invalid regular expression 'fo(o' (missing ), unterminated subpattern at position 2).",
      ],
      ['/\\x4/x', "Invalid modify_body spec '/\\x4/x': bad escape in regex '\\x4': invalid \\x escape at position 0."],
      [
        '/a/\\x4',
        "Invalid modify_body spec '/a/\\x4': bad escape in replacement '\\x4': invalid \\x escape at position 0.",
      ],
      [
        '/a/\\\\1',
        "Invalid modify_body spec '/a/\\\\1': invalid replacement '\\\\1' (invalid group reference 1 at position 1).",
      ],
      [
        '|a|@/no/such/file',
        "Invalid modify_body spec '|a|@/no/such/file': cannot read replacement file '/no/such/file' (ENOENT",
      ],
      ['/~b/a/b', "Invalid modify_body spec '/~b/a/b': invalid flow filter '~b': "],
    ];
    for (const [spec, message] of bad) {
      let err: unknown;
      try {
        tctx.configure({ modify_body: ['/x/y', spec] });
      } catch (e) {
        err = e;
      }
      expect(err, spec).toBeInstanceOf(OptionsError);
      expect((err as Error).message.startsWith(message), (err as Error).message).toBe(true);
    }
    expect(tctx.kernel.options.get('modify_body')).toEqual(['/a/b']);
    const f = exchange('a x');
    await tctx.trigger('request', f);
    expect(f.request.text).toBe('b x');
  });
});

describe('modify_body (end to end)', () => {
  let origin: Origin;
  let proxy: EmbeddedProxy;

  beforeAll(async () => {
    origin = await startOrigin((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/plain' }).end('Hello World, your token is t0k3n'),
    );
    proxy = await createProxy({
      addons: [ModifyBody],
      options: {
        modify_body: ['|~q|password=[^&]*|password=REDACTED', '|~s|World|mitmts', '|~s|token is \\w+|token is hidden'],
        stream_large_bodies: '10m',
      },
    });
  });

  afterAll(async () => {
    await proxy.close();
    await origin.close();
  });

  it('rewrites the request body the server receives and the response body curl gets', async () => {
    const { stdout } = await run('curl', [
      '-s',
      '-x',
      proxy.url,
      '-d',
      'user=bob&password=hunter2&x=1',
      `${origin.url}/login`,
    ]);
    expect(origin.requests.at(-1)!.body.toString()).toBe('user=bob&password=REDACTED&x=1');
    expect(stdout).toBe('Hello mitmts, your token is hidden');
  });

  it('warns that streamed bodies are not modified', () => {
    expect(
      proxy.logs.some(
        (e) =>
          e.level === 'alert' &&
          e.message === 'Both modify_body and stream_large_bodies are active. Streamed bodies will not be modified.',
      ),
    ).toBe(true);
  });
});
