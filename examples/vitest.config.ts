import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// The examples' own suite (the repository's root config leaves templates/ out). Each file starts
// a proxy and waits on sockets: one worker per core (vitest's default leaves one core idle).
export default defineConfig({
  test: {
    include: ['*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: availableParallelism(),
  },
});
