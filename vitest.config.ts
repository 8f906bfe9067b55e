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
    // A worker keeps the modules it imported for the next file: importing Pave's TypeScript afresh for each of
    // 300 files cost more than a quarter of the suite's time. Tests therefore restore what they change of the
    // process (its environment, working directory, spies).
    isolate: false,
    // expect.poll waits for what a browser or a process shows; its default of 1 s is a timed assertion on a
    // loaded machine (a portal page of 100 rows missed it in CI). A wait only: a passing poll returns at once.
    expect: { poll: { timeout: 15_000 } },
  },
});
