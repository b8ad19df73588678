import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, run, tempDir } from './run.js';

// What each template generates, installed from the packed packages and tested with its own
// `npm test`, is in test/packaging/pack.test.ts.

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
