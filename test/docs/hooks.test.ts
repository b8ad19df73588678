import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOOK_NAMES, UNFIRED_HOOKS } from '@mitmts/sdk';

const DOC = readFileSync(join(import.meta.dirname, '../../docs/hooks.md'), 'utf8');

/** The table rows of docs/hooks.md by hook name: the cells after the name. */
const rows = new Map(
  DOC.split('\n')
    .map((line) => /^\| `([a-z_0-9]+)` \|(.*)\|$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!.split(' | ').map((c) => c.trim())]),
);

describe('docs/hooks.md', () => {
  it("has one row for each of the 48 hooks (mitmproxy's 46 and live bodies' two), and no other", () => {
    expect(HOOK_NAMES).toHaveLength(48);
    expect([...rows.keys()].sort()).toEqual([...HOOK_NAMES].sort());
  });

  it.each(HOOK_NAMES.map((h) => [h]))('says whether this build fires %s, as core/src/hooks/unfired.ts does', (hook) => {
    const fired = rows.get(hook)!.at(-1)!;
    const why = UNFIRED_HOOKS.get(hook);
    expect(fired).toBe(why === undefined ? 'yes' : `no (${why})`);
  });
});
