import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'plugins/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most test files wait on real processes, containers, browsers and databases rather than compute, so
    // they run one more at a time than the machine has cores (vitest's default is one fewer).
    maxWorkers: availableParallelism() + 1,
  },
});
