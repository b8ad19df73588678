import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { HeavyFirstSequencer } from './test/helpers/sequencer.js';

/** Per-package coverage floors (statements, branches, functions, lines): scripts/coverage.mjs. */
const floors = JSON.parse(readFileSync(new URL('./test/coverage-floors.json', import.meta.url), 'utf8')) as Record<
  string,
  { statements: number; branches: number; functions: number; lines: number }
>;

// Tests import the packages' built output (dist), exactly as users and scripts do, so that one
// copy of each class exists at run time. `npm test` builds first.
export default defineConfig({
  esbuild: {
    target: 'es2022',
    tsconfigRaw: { compilerOptions: { experimentalDecorators: true, useDefineForClassFields: true } },
  },
  test: {
    // Two projects: each package's own tests (measured for coverage by `npm test`), and the
    // end-to-end tests in test/ (real clients against the command line, packing, browsers).
    projects: [
      {
        extends: true,
        test: {
          name: 'packages',
          include: ['core/test/**/*.test.ts', 'sdk/test/**/*.test.ts', 'addons/*/test/**/*.test.ts'],
        },
      },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.test.ts'] } },
    ],
    exclude: ['**/node_modules/**', '**/dist/**', 'packages/*/templates/**', 'examples/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // One process per test file: files start proxies, child processes and native modules, and
    // some set process-wide state (signals, the working directory).
    pool: 'forks',
    // vitest's default is one worker less than the cores: one worker on a 2-core CI machine,
    // where most test time is spent waiting on sockets, timers and child processes.
    maxWorkers: availableParallelism(),
    sequence: { sequencer: HeavyFirstSequencer },
    coverage: {
      provider: 'v8',
      // Tests import the built packages: the dist files are measured and mapped back to src/
      // through their source maps (listing dist here is what makes vitest remap them).
      include: ['core/src/**', 'core/dist/**', 'sdk/src/**', 'sdk/dist/**', 'addons/*/src/**', 'addons/*/dist/**'],
      exclude: ['**/*.d.ts', '**/*.map'],
      reportsDirectory: 'coverage',
      reporter: ['text-summary', 'json-summary'],
      thresholds: Object.fromEntries(Object.entries(floors).map(([pkg, floor]) => [`${pkg}/src/**`, floor])),
    },
  },
});
