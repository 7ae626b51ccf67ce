import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // End-to-end suites start the local runtime (emulator + worker processes).
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: run at most two suites at once so runtime-heavy suites do not starve each other.
    maxWorkers: 2,
    env: { OPENBATCH_METRICS: 'off', LOG_LEVEL: 'warn' },
  },
});
