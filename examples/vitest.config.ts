import { defineConfig } from 'vitest/config';

// The examples' own suite (the repository's root config leaves templates/ out).
export default defineConfig({
  test: { include: ['*.test.ts'], testTimeout: 30_000, pool: 'forks' },
});
