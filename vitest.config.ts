import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'agent/**/*.test.ts', 'sip/**/*.test.ts', 'test/**/*.test.ts'],
    // One real PostgreSQL for the run; every test file gets its own database from the real migrations.
    globalSetup: ['test/support/global_setup.ts'],
    // Real servers and real audio on a 2-core machine: be patient, and measure speed in bench/ instead.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two test files at a time, even on 2 cores (vitest's default there is one): most of the suite's
    // time is real-time audio — a caller speaking, a persona answering — not CPU, so two calls in
    // flight halve the wall time (about 12.5 -> 8 min here) while each file still owns its world.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
