import { defineConfig } from 'vitest/config';

// Tests import the packages' built output (dist), exactly as users and scripts do, so that one
// copy of each class exists at run time. `npm test` builds first.
export default defineConfig({
  esbuild: {
    target: 'es2022',
    tsconfigRaw: { compilerOptions: { experimentalDecorators: true, useDefineForClassFields: true } },
  },
  test: {
    include: ['core/test/**/*.test.ts', 'sdk/test/**/*.test.ts', 'addons/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'packages/*/templates/**', 'examples/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
