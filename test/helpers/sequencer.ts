import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The test files that take longest (tens of seconds each on 2 cores: nested installs, builds and
 * suites, real browsers, h2load, large bodies), slowest first. They start first, so that no worker
 * is left running one of them alone at the end of the run. CONTRIBUTING.md ("Test suite") lists
 * them; a file that grows slow belongs here.
 */
export const HEAVY_FILES: readonly string[] = [
  'test/templates/examples.test.ts',
  'test/packaging/pack.test.ts',
  'test/proxy/http2-peers.test.ts',
  'test/cli/run.test.ts',
  'test/proxy/http.test.ts',
  'addons/web/test/browser.test.ts',
  'addons/dumper/test/e2e.test.ts',
  'test/cli/watchdog.test.ts',
  'addons/export/test/e2e.test.ts',
];

/**
 * vitest's order (the slowest of the last run first, then larger files), with the known heavy
 * files moved to the front: on a clean clone there is no last run, and file size says little
 * (examples.test.ts is 21 lines and runs a whole suite).
 */
export class HeavyFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification): number => {
      const i = HEAVY_FILES.indexOf(relative(this.ctx.config.root, f.moduleId));
      return i === -1 ? HEAVY_FILES.length : i;
    };
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}
