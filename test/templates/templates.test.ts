import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tflow, withAddons } from '@mitmts/sdk/testing';
import { ScriptLoader } from '@mitmts/addon-script';
import { BIN, linkDependencies, projectTest, run, tempDir } from './run.js';

describe('mitmts new: each template generates, installs and passes its own tests', () => {
  it('script: one file with a typed hook and a test, which also runs with -s', { timeout: 180_000 }, async () => {
    const dir = tempDir('mitmts-new-script-');
    const gen = await run([BIN, 'new', 'script', 'tag-it'], dir);
    expect(gen.code).toBe(0);
    expect(gen.out).toContain('tag-it.ts');
    for (const f of ['tag-it.ts', 'tag-it.test.ts', 'package.json', 'tsconfig.json']) expect(existsSync(join(dir, f))).toBe(true);
    expect(readFileSync(join(dir, 'tag-it.ts'), 'utf8')).toContain('export class TagIt');
    linkDependencies(dir);
    const t = await projectTest(dir);
    expect(t.out).toMatch(/Tests\s+2 passed/);
    expect(t.code).toBe(0);

    const tctx = await withAddons([ScriptLoader], { scripts: [join(dir, 'tag-it.ts')], tag_it_header: 'via -s' });
    const f = tflow({ resp: true });
    await tctx.trigger('response', f);
    expect(f.response!.headers.get('x-tag-it')).toBe('via -s');
    await tctx.done();
  });

  it('addon: a package laid out like the built-in ones', { timeout: 180_000 }, async () => {
    const dir = tempDir('mitmts-new-addon-');
    const gen = await run([BIN, 'new', 'addon', 'stamp'], dir);
    expect(gen.code).toBe(0);
    const root = join(dir, 'stamp');
    for (const f of ['package.json', 'README.md', 'tsconfig.json', 'src/index.ts', 'src/stamp.ts', 'test/stamp.test.ts']) {
      expect(existsSync(join(root, f)), f).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))).toMatchObject({ name: 'mitmts-addon-stamp', peerDependencies: { '@mitmts/sdk': '^0.1.0' } });
    linkDependencies(root);
    const t = await projectTest(root);
    expect(t.out).toMatch(/Tests\s+3 passed/);
    expect(t.code).toBe(0);
    const build = await run([join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], root);
    expect(build.code, build.out).toBe(0);
    expect(existsSync(join(root, 'dist/index.js'))).toBe(true);
  });

  it('build: a manifest and an entry point; its tests build a single file and run it from an empty directory', { timeout: 180_000 }, async () => {
    const dir = tempDir('mitmts-new-build-');
    const gen = await run([BIN, 'new', 'build', 'edge'], dir);
    expect(gen.code).toBe(0);
    const root = join(dir, 'edge');
    expect(JSON.parse(readFileSync(join(root, 'mitmts.json'), 'utf8'))).toEqual({ name: 'edge', version: '0.1.0', addons: ['./src/greeting.ts'] });
    linkDependencies(root);
    const t = await projectTest(root);
    expect(t.out).toMatch(/Tests\s+2 passed/);
    expect(t.code).toBe(0);
  });
});

describe('mitmts new: arguments', () => {
  it.each([
    [['new'], 2, /usage: mitmts new/],
    [['new', 'widget', 'x'], 1, /Unknown template "widget": choose one of script, addon, build/],
    [['new', 'script', 'Bad_Name'], 1, /Invalid name "Bad_Name"/],
    [['new', 'script', 'x', '--bogus'], 2, /unknown option --bogus/],
    [['new', '--help'], 0, /usage: mitmts new/],
  ])('mitmts %j exits %i', async (args, code, message) => {
    const r = await run([BIN, ...args], tempDir('mitmts-new-args-'));
    expect(r.out).toMatch(message);
    expect(r.code).toBe(code);
  });

  it('never overwrites without --force, and keeps an existing package.json beside a new script', async () => {
    const dir = tempDir('mitmts-new-force-');
    writeFileSync(join(dir, 'package.json'), '{"name":"mine"}');
    expect((await run([BIN, 'new', 'script', 'one'], dir)).code).toBe(0);
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe('{"name":"mine"}');
    const again = await run([BIN, 'new', 'script', 'one'], dir);
    expect(again.code).toBe(1);
    expect(again.out).toContain(`${join(dir, 'one.test.ts')} already exists; pass --force to overwrite.`);
    expect((await run([BIN, 'new', 'script', 'one', '--force'], dir)).code).toBe(0);
  });
});
