import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entrySource, installationNodePaths, names, scaffold } from '@mitmts/sdk/cli';

const TEMPLATES = join(import.meta.dirname, '../../packages/mitmts/templates');

describe('@mitmts/sdk/cli', () => {
  it.each([
    ['tool', { __name__: 'tool', __Name__: 'Tool', __name_snake__: 'tool' }],
    ['my-cool-tool2', { __name__: 'my-cool-tool2', __Name__: 'MyCoolTool2', __name_snake__: 'my_cool_tool2' }],
  ])('derives the placeholder values of %s', (name, expected) => {
    expect(names(name)).toEqual(expected);
  });

  it.each(['', 'Tool', '2tool', 'my_tool', 'my--tool', 'tool-'])('rejects the name %j', (name) => {
    expect(() => names(name)).toThrow(/Invalid name/);
  });

  it('fills placeholders in file names and contents', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mitmts-scaffold-'));
    const files = scaffold({ kind: 'addon', name: 'head-tag', templates: TEMPLATES, dir, version: '9.8.7' });
    expect(files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(
      [
        'README.md',
        'package.json',
        'src/head-tag.ts',
        'src/index.ts',
        'test/head-tag.test.ts',
        'tsconfig.build.json',
        'tsconfig.json',
      ].map((f) => `head-tag/${f}`),
    );
    const src = readFileSync(join(dir, 'head-tag/src/head-tag.ts'), 'utf8');
    expect(src).toContain("@addon({ name: 'head-tag' })\nexport class HeadTag {");
    expect(src).toContain('head_tag!: string | null;');
    expect(src).not.toMatch(/__[a-zA-Z_]+__/);
    expect(JSON.parse(readFileSync(join(dir, 'head-tag/package.json'), 'utf8')).peerDependencies).toEqual({
      '@mitmts/sdk': '^9.8.7',
    });
  });

  it('writes a script into the given directory itself', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mitmts-scaffold-'));
    scaffold({ kind: 'script', name: 'one', templates: TEMPLATES, dir, version: '1.0.0' });
    expect(existsSync(join(dir, 'one.ts'))).toBe(true);
    expect(existsSync(join(dir, 'one.test.ts'))).toBe(true);
  });

  it('generates a build entry that hands the manifest to the command line', () => {
    const src = entrySource({ name: 'p', version: '1.0.0', addons: ['@mitmts/addon-script'] });
    expect(src).toContain(`import { main, ProxyServer } from '@mitmts/core';`);
    expect(src).toContain(`name: "p",\n  version: "1.0.0",`);
    expect(src).toContain('await main(process.argv.slice(2), dist,');
  });

  it("finds the installation's node_modules", () => {
    expect(installationNodePaths()).toContain(join(import.meta.dirname, '../../node_modules'));
  });
});
