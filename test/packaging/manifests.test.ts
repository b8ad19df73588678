import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishable, workspaces } from '../../scripts/workspaces.mjs';

/** What every published package.json must say (the tarballs themselves: pack.test.ts). */
describe('publishable package manifests', () => {
  const spaces = publishable();
  const version = spaces.find((w) => w.pkg.name === 'mitmts')!.pkg.version;
  const names = new Set(spaces.map((w) => w.pkg.name));

  it('are the CLI, core, the SDK and every addon; the rest is private', () => {
    expect([...names]).toEqual(
      expect.arrayContaining(['mitmts', '@mitmts/core', '@mitmts/sdk', '@mitmts/addon-script']),
    );
    expect(spaces.filter((w) => w.dir.includes('/addons/')).length).toBe(
      workspaces().filter((w) => w.dir.includes('/addons/')).length,
    );
    expect(
      workspaces()
        .filter((w) => w.pkg.private)
        .map((w) => w.pkg.name),
    ).toEqual(['@mitmts/tests']);
  });

  it.each(spaces.map((w) => [w.pkg.name, w]))(
    '%s: one version, MIT, ESM, Node 20, files, README, public',
    (name, w) => {
      const pkg = w.pkg;
      expect(pkg.version).toBe(version);
      expect(pkg.license).toBe('MIT');
      expect(pkg.type).toBe('module');
      expect(pkg.engines?.node).toBe('>=20');
      expect(Array.isArray(pkg.files) && pkg.files.length > 0).toBe(true);
      expect(existsSync(join(w.dir, 'README.md'))).toBe(true);
      if (name.startsWith('@')) expect(pkg.publishConfig?.access).toBe('public');
    },
  );

  it.each(spaces.map((w) => [w.pkg.name, w]))(
    '%s: depends on the other packages at exactly this version',
    (_name, w) => {
      const pkg = w.pkg;
      for (const deps of [pkg.dependencies ?? {}, pkg.peerDependencies ?? {}]) {
        for (const [dep, range] of Object.entries(deps))
          if (names.has(dep)) expect(`${dep}@${range}`).toBe(`${dep}@${version}`);
      }
    },
  );

  it('mitmts depends on core, the SDK, esbuild and every addon of its manifest', () => {
    const cli = spaces.find((w) => w.pkg.name === 'mitmts')!.pkg;
    expect(cli.bin).toEqual({ mitmts: 'bin/mitmts.js' });
    expect(cli.mitmts?.addons.length).toBeGreaterThan(10);
    for (const dep of ['@mitmts/core', '@mitmts/sdk', 'esbuild', ...(cli.mitmts?.addons ?? [])])
      expect(cli.dependencies, dep).toHaveProperty([dep]);
  });
});
