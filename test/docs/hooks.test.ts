import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOOK_NAMES, UNFIRED_HOOKS } from '@mitmts/sdk';

/** The runtime's TypeScript sources (core/src), the hook list and UNFIRED_HOOKS itself left out. */
function runtimeSources(): string {
  const dir = join(import.meta.dirname, '../../core/src');
  return (readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((f) => f.endsWith('.ts') && !/hooks[\\/](hookmap|unfired)\.ts$/.test(f))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

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

  it('UNFIRED_HOOKS names exactly the hooks the runtime never fires (a hook wired in leaves the list in the same change)', () => {
    // Every hook the runtime fires is named there as a string literal ('websocket_message'),
    // the kernel's lifecycle hooks included; a hook named nowhere cannot be fired by it.
    const src = runtimeSources();
    const named = HOOK_NAMES.filter((h) => src.includes(`'${h}'`));
    expect(HOOK_NAMES.filter((h) => !named.includes(h)).sort()).toEqual([...UNFIRED_HOOKS.keys()].sort());
  });
});
