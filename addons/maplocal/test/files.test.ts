import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePyPattern } from '@mitmts/sdk';
import { fileCandidates, findFile } from '../src/files.js';
import { contentTypeFor } from '../src/mime.js';

const ROOT = '/srv/www';

function candidates(regex: string, url: string) {
  const p = compilePyPattern(regex);
  const m = p.regex.exec(url);
  if (!m) throw new Error(`${regex} does not match ${url}`);
  return fileCandidates(ROOT, url, p, m);
}

describe('fileCandidates', () => {
  // [regex, url, relative candidates]
  const cases: Array<[string, string, string[]]> = [
    ['example.com/static', 'https://example.com/static/css/a.css', ['css/a.css', 'css/a.css/index.html']],
    ['example.com/static', 'https://example.com/static/css/a.css?v=3', ['css/a.css', 'css/a.css/index.html']],
    ['example.com/static', 'https://example.com/static/', ['index.html']],
    ['example.com/static', 'https://example.com/static', ['index.html']],
    ['example.com/static', 'https://example.com/static/dir/', ['dir', 'dir/index.html']],
    [
      'example.com/static',
      'https://example.com/static/a%20b.txt',
      ['a b.txt', 'a b.txt/index.html', 'a_b.txt', 'a_b.txt/index.html'],
    ],
    ['example.com/index.php\\?page=(.+)', 'https://example.com/index.php?page=about', ['about', 'about/index.html']],
    [
      'example.com/(.*)',
      'https://example.com/x.js?v=1',
      ['x.js?v=1', 'x.js?v=1/index.html', 'x.js_v=1', 'x.js_v=1/index.html'],
    ],
    ['example.com(/.*)', 'https://example.com//lead', ['lead', 'lead/index.html']],
    ['example.com/(a)?', 'https://example.com/b', ['index.html']],
    ['example.com/', 'https://example.com/%C3%A9t%C3%A9', ['été', 'été/index.html', '_t_', '_t_/index.html']],
    ['example.com/', 'https://example.com/....//x', ['....//x', '....//x/index.html']],
    [
      'example.com/',
      'https://example.com/%252e%252e%252fsecret',
      ['%2e%2e%2fsecret', '%2e%2e%2fsecret/index.html', '_2e_2e_2fsecret', '_2e_2e_2fsecret/index.html'],
    ],
  ];
  it.each(cases)('%s on %s', (regex, url, relative) => {
    const c = candidates(regex, url);
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    expect(c.relative).toEqual(relative);
    expect(c.files).toEqual(relative.map((r) => `${ROOT}/${r.replace(/\/+/g, '/')}`));
  });

  // Every way of spelling "go up" in a URL, decoded once as mitmproxy does.
  const attacks = [
    'https://example.com/static/../secret',
    'https://example.com/static/../../etc/passwd',
    'https://example.com/static/a/../../secret',
    'https://example.com/static/%2e%2e%2fsecret',
    'https://example.com/static/%2E%2E%2Fsecret',
    'https://example.com/static/..%2fsecret',
    'https://example.com/static/.%2e/secret',
    'https://example.com/static/%2e%2e/%2e%2e/etc/passwd',
    'https://example.com/static/%2e%2e%5csecret',
    'https://example.com/static/..\\secret',
    'https://example.com/static/a/..',
    'https://example.com/static/..',
    'https://example.com/static/%2fetc/passwd',
    'https://example.com/static/x%00.html',
    'https://example.com/static/x/%2e%2e',
  ];
  it.each(attacks)('refuses %s', (url) => {
    const c = candidates('example.com/static', url);
    expect(c.ok).toBe(false);
  });

  it('refuses a capture group that goes up', () => {
    expect(candidates('example.com/\\?f=(.*)', 'https://example.com/?f=../../etc/passwd').ok).toBe(false);
    expect(candidates('example.com/\\?f=(.*)', 'https://example.com/?f=%2e%2e%2fsecret').ok).toBe(false);
  });
});

describe('findFile', () => {
  const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'mitmts-maplocal-')));
  const root = join(tmp, 'www');
  mkdirSync(join(root, 'dir'), { recursive: true });
  writeFileSync(join(root, 'a.txt'), 'a');
  writeFileSync(join(root, 'dir', 'index.html'), 'i');
  writeFileSync(join(tmp, 'secret.txt'), 'secret');
  symlinkSync(join(tmp, 'secret.txt'), join(root, 'link.txt'));
  symlinkSync(join(root, 'a.txt'), join(root, 'inner-link.txt'));

  it('returns the first regular file, skipping directories and missing files', async () => {
    expect(await findFile(root, [join(root, 'missing'), join(root, 'dir'), join(root, 'dir', 'index.html')])).toEqual({
      file: join(root, 'dir', 'index.html'),
    });
    expect(await findFile(root, [join(root, 'nothing')])).toEqual({ file: null, outside: false });
  });

  it('never follows a symlink out of the directory, but follows one inside it', async () => {
    expect(await findFile(root, [join(root, 'link.txt')])).toEqual({ file: null, outside: true });
    expect(await findFile(root, [join(root, 'inner-link.txt')])).toEqual({ file: join(root, 'a.txt') });
  });
});

describe('contentTypeFor', () => {
  const cases: Array<[string, string]> = [
    ['/x/index.html', 'text/html'],
    ['a.CSS', 'text/css'],
    ['app.js', 'text/javascript'],
    ['data.json', 'application/json'],
    ['img.PNG', 'image/png'],
    ['photo.jpeg', 'image/jpeg'],
    ['icon.svg', 'image/svg+xml'],
    ['font.woff2', 'font/woff2'],
    ['mod.wasm', 'application/wasm'],
    ['noext', 'application/octet-stream'],
    ['/etc/.hidden', 'application/octet-stream'],
    ['dir.d/file', 'application/octet-stream'],
    ['weird.xyz', 'application/octet-stream'],
  ];
  it.each(cases)('%s is %s', (file, type) => expect(contentTypeFor(file)).toBe(type));
});
