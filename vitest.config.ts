import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // CLI and emulator tests spawn processes and render media; two cores.
    pool: 'forks',
    maxWorkers: 2,
  },
});
