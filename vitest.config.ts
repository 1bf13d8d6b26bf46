import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Watchdogs against hangs, not speed goals (those live in bench/): tests
    // that spawn several CLI runs took 8 s idle and were seen to time out at
    // 60 s on two cores shared with other work.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // CLI and emulator tests spawn processes and render media; two cores.
    pool: 'forks',
    maxWorkers: 2,
  },
});
