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
    reporters: ['default'],
  },
});
