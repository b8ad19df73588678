import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, run } from './run.js';

const EXAMPLES = join(REPO, 'examples');

describe('examples', () => {
  it('every example has a test beside it', () => {
    const files = readdirSync(EXAMPLES).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !['support.ts', 'vitest.config.ts'].includes(f),
    );
    expect(files.length).toBeGreaterThanOrEqual(12);
    for (const f of files) expect(readdirSync(EXAMPLES), f).toContain(f.replace(/\.ts$/, '.test.ts'));
  });

  // `npm test` type-checks examples/ beside the tests' own type check (scripts/test.mjs), so that
  // the type check runs while ESLint's core would otherwise idle rather than in a test worker.
  it('passes its own suite (each example through a real proxy)', { timeout: 480_000 }, async () => {
    const r = await run([join(REPO, 'node_modules/vitest/vitest.mjs'), 'run'], EXAMPLES, 420_000);
    expect(r.out).toMatch(/Test Files\s+\d+ passed/);
    expect(r.out).not.toMatch(/failed/);
    expect(r.code).toBe(0);
  });
});
