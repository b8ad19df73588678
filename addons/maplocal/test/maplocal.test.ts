import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, OptionsError, HTTPResponse, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { tflow, treq, withAddon, type TestContext } from '@mitmts/sdk/testing';
import { MapLocal } from '../src/index.js';

const run = promisify(execFile);

// tmp/secret.txt must never be served; tmp/www is what the rules map.
const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'mitmts-maplocal-')));
const www = join(tmp, 'www');
mkdirSync(join(www, 'css'), { recursive: true });
mkdirSync(join(www, 'docs'), { recursive: true });
mkdirSync(join(tmp, 'www-private'), { recursive: true });
writeFileSync(join(tmp, 'secret.txt'), 'TOP SECRET');
writeFileSync(join(tmp, 'www-private', 'key.txt'), 'PRIVATE KEY');
writeFileSync(join(www, 'index.html'), '<h1>home</h1>');
writeFileSync(join(www, 'css', 'site.css'), 'body{}');
writeFileSync(join(www, 'docs', 'index.html'), '<h1>docs</h1>');
writeFileSync(join(www, 'about'), 'about page');
writeFileSync(join(www, 'a b.txt'), 'spaced');
writeFileSync(join(www, 'data.bin'), Buffer.from([0, 1, 2, 255]));
symlinkSync(join(tmp, 'secret.txt'), join(www, 'leak.txt'));
const single = join(tmp, 'single.json');
writeFileSync(single, '{"mapped":true}');

/** A GET flow for `url`, taken verbatim (`new URL` would resolve `..` segments away). */
function get(url: string): HTTPFlow {
  const [, scheme, host, port, path] = /^(https?):\/\/([^/:]+)(?::(\d+))?(\/.*)?$/.exec(url)!;
  return tflow({
    req: treq({
      scheme: scheme!,
      host: host!,
      port: port ? Number(port) : scheme === 'https' ? 443 : 80,
      path: path ?? '/',
    }),
  });
}

async function fetchVia(tctx: TestContext, url: string): Promise<HTTPFlow> {
  const f = get(url);
  await tctx.trigger('request', f);
  return f;
}

describe('map_local specs', () => {
  it('rejects bad specs naming the option, the spec and the problem', async () => {
    const tctx = await withAddon(MapLocal);
    const bad: Array<[string, RegExp]> = [
      [
        '|example.com/[|' + www,
        /^Invalid map_local spec '\|example\.com\/\[\|.*': invalid regular expression 'example\.com\/\[' \(unterminated character set at position 12\)\.$/,
      ],
      [
        '|example.com|' + join(tmp, 'nope'),
        /^Invalid map_local spec '.*': invalid file path '.*\/nope' \(ENOENT: no such file or directory/,
      ],
      ['|example.com|', /: the file-or-directory-path is empty\.$/],
      ['|~zz|example.com|' + www, /: invalid flow filter '~zz': /],
      ['abc', /: expected 2 or 3 parts separated by 'a'/],
      [
        '',
        /^Invalid map_local spec '': the spec is empty; expected \[\/flow-filter\]\/url-regex\/file-or-directory-path/,
      ],
    ];
    for (const [spec, message] of bad) {
      let err: unknown;
      try {
        tctx.configure({ map_local: [spec] });
      } catch (e) {
        err = e;
      }
      expect(err, spec).toBeInstanceOf(OptionsError);
      expect((err as Error).message).toMatch(message);
    }
  });

  it('a list with one bad spec leaves the previous rules active', async () => {
    const tctx = await withAddon(MapLocal);
    tctx.configure({ map_local: [`|example.com/static|${www}`] });
    expect(() => tctx.configure({ map_local: [`|example.org|${www}`, '|example.net|/does/not/exist'] })).toThrow(
      /example\.net/,
    );
    expect(tctx.kernel.options.get('map_local')).toEqual([`|example.com/static|${www}`]);
    expect((await fetchVia(tctx, 'http://example.com/static/about')).response?.text).toBe('about page');
    expect((await fetchVia(tctx, 'http://example.org/about')).response).toBeNull();
  });

  it('expands ~ in the path', async () => {
    const tctx = await withAddon(MapLocal);
    expect(() => tctx.configure({ map_local: ['|x|~'] })).not.toThrow();
  });
});

describe('map_local (unit)', () => {
  let tctx: TestContext;
  beforeAll(async () => {
    tctx = await withAddon(MapLocal);
    tctx.configure({
      map_local: [
        `|example.com/static|${www}`,
        `|~m POST|example.com/api/thing|${single}`,
        `|example.com/index.php\\?page=(.+)|${www}`,
        `:example.com/first:${www}`,
        `:example.com/first:${tmp}`,
      ],
    });
  });

  it('does nothing without rules', async () => {
    const empty = await withAddon(MapLocal);
    expect((await fetchVia(empty, 'http://example.com/static/about')).response).toBeNull();
  });

  it('serves a file under the directory with its content type and status 200', async () => {
    const f = await fetchVia(tctx, 'http://example.com/static/css/site.css?v=2');
    expect(f.response!.statusCode).toBe(200);
    expect(f.response!.text).toBe('body{}');
    expect(f.response!.headers.get('content-type')).toBe('text/css');
    expect(f.response!.headers.get('content-length')).toBe('6');
    const bin = await fetchVia(tctx, 'https://example.com/static/data.bin');
    expect(bin.response!.content).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(bin.response!.headers.get('content-type')).toBe('application/octet-stream');
  });

  it('serves index.html for the directory itself and for subdirectories', async () => {
    expect((await fetchVia(tctx, 'http://example.com/static')).response!.text).toBe('<h1>home</h1>');
    expect((await fetchVia(tctx, 'http://example.com/static/')).response!.text).toBe('<h1>home</h1>');
    const docs = await fetchVia(tctx, 'http://example.com/static/docs/');
    expect(docs.response!.text).toBe('<h1>docs</h1>');
    expect(docs.response!.headers.get('content-type')).toBe('text/html');
  });

  it('decodes percent-escapes and uses group 1 when the regex has groups', async () => {
    expect((await fetchVia(tctx, 'http://example.com/static/a%20b.txt')).response!.text).toBe('spaced');
    expect((await fetchVia(tctx, 'http://example.com/index.php?page=about')).response!.text).toBe('about page');
  });

  it('maps a single file for every matching URL, honouring the filter', async () => {
    const post = get('http://example.com/api/thing/1');
    post.request.method = 'POST';
    await tctx.trigger('request', post);
    expect(post.response!.text).toBe('{"mapped":true}');
    expect(post.response!.headers.get('content-type')).toBe('application/json');
    expect((await fetchVia(tctx, 'http://example.com/api/thing/1')).response).toBeNull();
  });

  it('answers 404 with a clear body when no candidate exists', async () => {
    const f = await fetchVia(tctx, 'http://example.com/static/missing.js');
    expect(f.response!.statusCode).toBe(404);
    expect(f.response!.text).toBe(
      '404 Not Found: map_local has no local file for http://example.com/static/missing.js.\n',
    );
    expect(
      tctx.hasLog(
        `none of the local file candidates exist: missing.js in ${www}, missing.js/index.html in ${www}`,
        'info',
      ),
    ).toBe(true);
  });

  it('uses the first rule that finds a file', async () => {
    // Both rules match; www has no secret.txt, so the second one (tmp) would have it: it is the
    // user's own rule, so serving it is right. Order decides: www's index wins for the bare URL.
    expect((await fetchVia(tctx, 'http://example.com/first/')).response!.text).toBe('<h1>home</h1>');
    expect((await fetchVia(tctx, 'http://example.com/first/secret.txt')).response!.text).toBe('TOP SECRET');
  });

  it('leaves flows alone that are answered, failed or not live, and URLs no rule matches', async () => {
    const answered = get('http://example.com/static/about');
    answered.response = HTTPResponse.make(204);
    await tctx.trigger('request', answered);
    expect(answered.response.statusCode).toBe(204);
    const dead = tflow({ req: get('http://example.com/static/about').request, live: false });
    await tctx.trigger('request', dead);
    expect(dead.response).toBeNull();
    expect((await fetchVia(tctx, 'http://example.org/static/about')).response).toBeNull();
  });

  // Each must be refused (404, nothing read) without touching tmp/secret.txt or www-private.
  const escapes = [
    'http://example.com/static/../secret.txt',
    'http://example.com/static/../../../../../../etc/passwd',
    'http://example.com/static/css/../../secret.txt',
    'http://example.com/static/%2e%2e%2fsecret.txt',
    'http://example.com/static/%2E%2E%2Fsecret.txt',
    'http://example.com/static/..%2fsecret.txt',
    'http://example.com/static/%2e%2e/secret.txt',
    'http://example.com/static/.%2e/secret.txt',
    'http://example.com/static/%2e%2e%5csecret.txt',
    'http://example.com/static/%2fetc%2fpasswd',
    'http://example.com/static/%2e%2e%2fwww-private%2fkey.txt',
    'http://example.com/static/..',
    'http://example.com/static/css/%2e%2e/%2e%2e',
    'http://example.com/static/secret.txt%00.html',
    'http://example.com/index.php?page=../secret.txt',
    'http://example.com/index.php?page=%2e%2e%2fsecret.txt',
  ];
  it.each(escapes)('never reads outside the directory: %s', async (url) => {
    const f = await fetchVia(tctx, url);
    expect(f.response!.statusCode).toBe(404);
    expect(f.response!.text).toContain('its path leaves the mapped directory');
    expect(f.response!.text).not.toMatch(/SECRET|PRIVATE|root:/);
  });

  it('does not follow a symlink out of the directory', async () => {
    const f = await fetchVia(tctx, 'http://example.com/static/leak.txt');
    expect(f.response!.statusCode).toBe(404);
    expect(f.response!.text).not.toContain('SECRET');
    expect(tctx.hasLog('resolves outside', 'warn')).toBe(true);
  });

  it('a double-encoded escape stays a literal file name', async () => {
    const f = await fetchVia(tctx, 'http://example.com/static/%252e%252e%252fsecret.txt');
    expect(f.response!.statusCode).toBe(404);
    expect(f.response!.text).toContain('no local file');
  });
});

/** Send raw bytes to the proxy and read until it closes: no client-side path normalisation. */
function raw(proxy: EmbeddedProxy, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(proxy.port, proxy.host);
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.write(data);
  });
}

describe('map_local (end to end)', () => {
  let proxy: EmbeddedProxy;

  beforeAll(async () => {
    // No upstream exists: every answer must come from map_local. Lazy connections let the
    // HTTPS case reach the request hook without resolving the fake host.
    proxy = await createProxy({
      addons: [MapLocal],
      options: { map_local: [`|maplocal.test/static|${www}`], connection_strategy: 'lazy' },
    });
  });

  afterAll(async () => {
    await proxy.close();
  });

  it('serves files to curl over HTTP and HTTPS', async () => {
    const { stdout } = await run('curl', ['-s', '-i', '-x', proxy.url, 'http://maplocal.test/static/css/site.css']);
    expect(stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(stdout).toMatch(/\r\nContent-Type: text\/css\r\n/i);
    expect(stdout.endsWith('\r\n\r\nbody{}')).toBe(true);
    const https = await run('curl', [
      '-s',
      '--cacert',
      proxy.caCertPath,
      '-x',
      proxy.url,
      'https://maplocal.test/static/docs/',
    ]);
    expect(https.stdout).toBe('<h1>docs</h1>');
  });

  it('refuses traversal sent verbatim by curl --path-as-is', async () => {
    for (const path of [
      '/static/../secret.txt',
      '/static/%2e%2e%2fsecret.txt',
      '/static/..%2f..%2f..%2fetc%2fpasswd',
    ]) {
      const { stdout } = await run('curl', [
        '-s',
        '-i',
        '--path-as-is',
        '-x',
        proxy.url,
        `http://maplocal.test${path}`,
      ]);
      expect(stdout, path).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
      expect(stdout, path).toContain('its path leaves the mapped directory');
      expect(stdout, path).not.toContain('SECRET');
    }
  });

  it('refuses traversal in a raw request line, and the connection stays usable', async () => {
    const out = await raw(
      proxy,
      'GET http://maplocal.test/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: maplocal.test\r\n\r\n' +
        'GET http://maplocal.test/static/about HTTP/1.1\r\nHost: maplocal.test\r\nConnection: close\r\n\r\n',
    );
    const [first, second] = out.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 404 /);
    expect(first).not.toContain('root:');
    expect(second).toMatch(/^HTTP\/1\.1 200 /);
    expect(second!.endsWith('about page')).toBe(true);
  });
});
