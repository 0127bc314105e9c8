// Production starts empty: `npm run start:dispatch` with NODE_ENV=production seeds no demo data (no
// live PINs or passwords), warns that there is no admin, and `npm run cli -- init-admin` makes the
// first one, printing its password once on stdout and never in a log line. Real processes, real
// PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignments, personas, users } from '../../src/adapters/db/schema.js';
import { verifyPassword } from '../../src/adapters/password.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { freePort } from '../support/ports.js';
import { startEntry } from '../support/process.js';

let database: TestDatabase;
const dataDir = mkdtempSync(join(tmpdir(), 'practice-line-production-'));

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('production data', () => {
  it('seeds nothing in production; init-admin creates the first admin once and shows the password only on stdout', async () => {
    const env = { DATABASE_URL: database.url, DATA_DIR: dataDir, NODE_ENV: 'production', LOG_LEVEL: 'info' };
    const port = await freePort();
    // Twilio configured but PUBLIC_BASE_URL left at its localhost default: the start says so plainly.
    const app = startEntry('src/main.ts', { ...env, PORT: String(port), HOST: '127.0.0.1', TWILIO_AUTH_TOKEN: 'a-token-for-signatures' });
    try {
      await app.waitForOutput(/dispatch service listening/, 120_000);
      expect(app.stdout()).toMatch(/"msg":"no admin yet: create the first one with the admin CLI"/);
      expect(app.stdout()).not.toMatch(/demo data|PIN \d/);
      expect(app.stderr()).toMatch(/^WARNING: PUBLIC_BASE_URL is http:\/\/localhost:\d+\. Twilio will call that URL/m);
      expect(await database.db.select().from(users)).toEqual([]);
      expect(await database.db.select().from(personas)).toEqual([]);
      expect(await database.db.select().from(assignments)).toEqual([]);

      const init = startEntry('src/cli/main.ts', env, ['init-admin', '--email', 'ops@example.test', '--name', 'Olive Ops']);
      expect(await init.exited, init.stderr()).toBe(0);
      const password = /password (\S+) {3}\(shown once/.exec(init.stdout())?.[1];
      expect(password, init.stdout()).toBeDefined();
      expect(init.stderr()).not.toContain(password);
      const [admin] = await database.db.select().from(users).where(eq(users.email, 'ops@example.test'));
      expect(admin).toMatchObject({ role: 'admin', name: 'Olive Ops' });
      expect(admin!.passwordHash).not.toContain(password!);
      expect(await verifyPassword(admin!.passwordHash!, password!)).toBe(true);

      const again = startEntry('src/cli/main.ts', env, ['init-admin', '--email', 'second@example.test']);
      expect(await again.exited).toBe(1);
      expect(again.stderr()).toMatch(/an admin already exists/);
      expect((await database.db.select().from(users)).length).toBe(1);
      // Nothing the app logged while this happened carries the password either.
      expect(app.stdout() + app.stderr()).not.toContain(password);
    } finally {
      app.child.kill('SIGTERM');
      await app.exited;
    }
  });
});
