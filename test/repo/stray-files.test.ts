import { execFileSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

/** What must never be committed, at any depth: logs, V8 profiles and heap snapshots, core dumps, build output, benchmark data. */
const STRAY: ReadonlyArray<[string, (path: string) => boolean]> = [
  ['a log (*.log, V8 isolate-*.log)', (p) => p.endsWith('.log')],
  ['a CPU profile', (p) => p.endsWith('.cpuprofile')],
  ['a heap snapshot or profile', (p) => /\.(heapsnapshot|heapprofile|heaptimeline)$/.test(p)],
  ['a core dump', (p) => /^(core|vgcore)(\.\d+)?$/.test(basename(p)) || p.endsWith('.dmp')],
  ['build output', (p) => /(^|\/)(dist|node_modules)\//.test(p) || p.endsWith('.tsbuildinfo')],
  ['benchmark data', (p) => /(^|\/)\.bench-data\//.test(p)],
];

/** Which rule a path breaks, or null. */
function strayKind(path: string): string | null {
  return STRAY.find(([, test]) => test(path))?.[0] ?? null;
}

describe('no stray files in the repository', () => {
  it.each([
    ['isolate-0x5e1c000-12345-v8.log', true],
    ['bench/results/run.cpuprofile', true],
    ['core/test/Heap-20260101.heapsnapshot', true],
    ['core', true],
    ['test/fixtures/core.4711', true],
    ['addons/save/dist/index.js', true],
    ['core/tsconfig.tsbuildinfo', true],
    ['.bench-data/a.mitm', true],
    ['core/package.json', false],
    ['core/src/kernel/log.ts', false],
    ['docs/options.md', false],
    ['test/fixtures/har/browser.har', false],
  ])('classifies %s (stray: %s)', (path, stray) => {
    expect(strayKind(path) !== null).toBe(stray);
  });

  it('tracks none (git ls-files)', () => {
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
      .split('\0')
      .filter(Boolean);
    expect(tracked.length).toBeGreaterThan(100);
    expect(tracked.map((p) => [p, strayKind(p)]).filter(([, k]) => k !== null)).toEqual([]);
  });
});
