import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTIONS_DOC, renderOptions } from '../../scripts/docs-options.mjs';

describe('docs/options.md', () => {
  it('is what the option registry of the default build says (else: npm run docs:options)', async () => {
    const fresh = await renderOptions();
    expect(fresh).toMatch(/^## core$/m);
    expect(readFileSync(OPTIONS_DOC, 'utf8'), 'docs/options.md is stale: run npm run docs:options and commit it').toBe(
      fresh,
    );
  });
});
