import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '../..');
const BUNDLE = join(REPO, 'packages/mitmts/dist/mitmts.mjs');
const BIN = join(REPO, 'packages/mitmts/bin/mitmts.js');

function commands(args: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(process.execPath, [...args, '--commands'], {
    cwd: REPO,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
}

describe('the bundled default build', () => {
  it('lists every command with the names of its source (esbuild renames clashing parameters)', () => {
    const bundled = commands([BUNDLE]);
    expect(bundled).toContain('\nset option:str [value:str...]\n');
    expect(bundled).toBe(commands([BIN], { MITMTS_NO_BUNDLE: '1' }));
  });
});
