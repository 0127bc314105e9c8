// Starts one embedded PostgreSQL for the whole test run; test files create their own databases on it.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/adapters/db/embedded.js';
import { freePort } from './ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startEmbeddedPostgres({
    dataDir: join(tmpdir(), `practice-line-test-pg-${process.pid}-${randomBytes(4).toString('hex')}`),
    port: await freePort(),
    password: randomBytes(12).toString('hex'),
    persistent: false,
  });
  project.provide('pgAdminUrl', server.url());
  return () => server.stop();
}
