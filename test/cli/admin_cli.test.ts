// The admin CLI as an operator runs it: a real process (tsx src/cli/main.ts) against a real database.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapDatabase } from '../../src/adapters/db/bootstrap.js';
import { apiTokens, assignments, calls, users } from '../../src/adapters/db/schema.js';
import { verifyPassword } from '../../src/adapters/password.js';
import { loadSecrets } from '../../src/adapters/secrets.js';
import { hashApiToken } from '../../src/app/api_tokens.js';
import { hashPin } from '../../src/domain/pin.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { freePort } from '../support/ports.js';

const PIN_SECRET = 'cli-test-pin-secret-0123456789abcdef012345';
const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json: any;
}

function cli(env: Record<string, string | undefined>, args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const { DATABASE_URL: _inherited, ...baseEnv } = process.env;
    const child = spawn(TSX, ['src/cli/main.ts', ...args], {
      cwd: process.cwd(),
      env: { ...baseEnv, LOG_LEVEL: 'warn', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: unknown = null;
      try {
        json = JSON.parse(stdout);
      } catch {
        // not JSON output
      }
      resolve({ code, stdout, stderr, json });
    });
    child.stdin.end(stdin ?? '');
  });
}

describe('admin CLI against DATABASE_URL', () => {
  let database: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'practice-line-cli-'));
    env = { DATABASE_URL: database.url, DATA_DIR: dataDir, PIN_SECRET };
  });

  afterAll(async () => {
    await database?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('creates users, a token, a persona, a scenario and an assignment whose PIN is printed once', async () => {
    const manager = await cli(env, ['--json', 'users', 'create', '--role', 'manager', '--name', 'Morgan Manager', '--email', 'morgan@example.test']);
    expect(manager.code, manager.stderr).toBe(0);
    expect(manager.json.user).toMatchObject({ role: 'manager', email: 'morgan@example.test', hasPassword: true });
    expect(manager.json.user.passwordHash).toBeUndefined();
    const [managerRow] = await database.db.select().from(users).where(eq(users.id, manager.json.user.id));
    expect(await verifyPassword(managerRow!.passwordHash!, manager.json.password)).toBe(true);

    const admin = await cli(env, ['--json', 'users', 'create', '--role', 'admin', '--name', 'Ada', '--email', 'ada@example.test', '--password-stdin'], 'correct horse battery staple\n');
    expect(admin.code, admin.stderr).toBe(0);
    expect(admin.json.password).toBeUndefined();
    const [adminRow] = await database.db.select().from(users).where(eq(users.id, admin.json.user.id));
    expect(await verifyPassword(adminRow!.passwordHash!, 'correct horse battery staple')).toBe(true);

    const rep = await cli(env, ['--json', 'users', 'create', '--role', 'rep', '--name', 'Riley Rep', '--email', 'riley@example.test', '--manager', 'morgan@example.test', '--phone', '+15550100001']);
    expect(rep.code, rep.stderr).toBe(0);
    expect(rep.json.user).toMatchObject({ managerId: manager.json.user.id, phoneNumbers: ['+15550100001'], hasPassword: false });

    const token = await cli(env, ['--json', 'tokens', 'create', '--user', 'morgan@example.test', '--name', 'ci']);
    expect(token.code, token.stderr).toBe(0);
    const [tokenRow] = await database.db.select().from(apiTokens).where(eq(apiTokens.id, token.json.apiToken.id));
    expect(tokenRow?.tokenHash).toBe(hashApiToken(token.json.token));

    const persona = await cli(env, [
      '--json', 'personas', 'create', '--name', 'Diane Carter', '--role', 'CFO', '--company', 'Northwind',
      '--personality', 'Sceptical', '--opening-line', 'Two minutes.', '--objection', 'No budget.', '--objection', 'We have a tool.',
    ]);
    expect(persona.code, persona.stderr).toBe(0);
    expect(persona.json.objections).toEqual(['No budget.', 'We have a tool.']);

    const scenario = await cli(env, [
      '--json', 'scenarios', 'create', '--title', 'Budget objection', '--objective', 'Book a meeting', '--context', 'Cold call',
      '--persona', persona.json.id, '--difficulty', 'hard', '--time-limit', '300', '--extension', '4321',
      '--rubric', JSON.stringify([{ id: 'discovery', name: 'Discovery', weight: 2 }, { id: 'close', name: 'Close', weight: 1 }]),
    ]);
    expect(scenario.code, scenario.stderr).toBe(0);
    expect(scenario.json).toMatchObject({ extension: '4321', timeLimitSeconds: 300, difficulty: 'hard' });

    const assigned = await cli(env, ['--json', 'assignments', 'create', '--scenario', scenario.json.id, '--rep', 'riley@example.test', '--pass-mark', '75', '--max-attempts', '3']);
    expect(assigned.code, assigned.stderr).toBe(0);
    const pin = assigned.json.pin as string;
    expect(pin).toMatch(/^\d{6}$/);
    const [row] = await database.db.select().from(assignments).where(eq(assignments.id, assigned.json.assignment.id));
    expect(row?.pinHash).toBe(hashPin(PIN_SECRET, pin));

    const listed = await cli(env, ['--json', 'assignments', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.json).toHaveLength(1);
    expect(listed.stdout).not.toContain(pin);

    const human = await cli(env, ['assignments', 'rotate-pin', assigned.json.assignment.id]);
    expect(human.code, human.stderr).toBe(0);
    const newPin = /PIN (\d{6})/.exec(human.stdout)?.[1];
    expect(newPin).toBeDefined();
    const [rotated] = await database.db.select().from(assignments).where(eq(assignments.id, assigned.json.assignment.id));
    expect(rotated?.pinHash).toBe(hashPin(PIN_SECRET, newPin!));

    const revoked = await cli(env, ['--json', 'assignments', 'revoke', assigned.json.assignment.id]);
    expect(revoked.json.status).toBe('revoked');

    await database.db.insert(calls).values({ path: 'twilio', roomName: 'cli-room-1', repId: rep.json.user.id, scenarioId: scenario.json.id, status: 'completed', durationSeconds: 93 });
    const callList = await cli(env, ['--json', 'calls', 'list', '--rep', 'riley@example.test', '--status', 'completed']);
    expect(callList.code, callList.stderr).toBe(0);
    expect(callList.json).toMatchObject({ total: 1, page: 1 });
    expect(callList.json.items[0]).toMatchObject({ durationSeconds: 93, rep: { name: 'Riley Rep' }, scenario: { title: 'Budget objection' } });
    const shown = await cli(env, ['calls', 'show', callList.json.items[0].id]);
    expect(shown.stdout).toContain('scorecard: none yet');
    // About fifteen tsx start-ups in a row: generous on a loaded 2-core machine.
  }, 240_000);

  it('reports invalid input with the bad fields and exit code 1', async () => {
    const bad = await cli(env, [
      '--json', 'scenarios', 'create', '--title', 'T', '--objective', 'O', '--context', 'C',
      '--persona', '00000000-0000-4000-8000-000000000000', '--rubric', '[{"id":"a","name":"A","weight":-1}]', '--time-limit', 'soon',
    ]);
    expect(bad.code).toBe(1);
    const error = JSON.parse(bad.stderr).error;
    expect(error.code).toBe('invalid_input');
    expect(Object.keys(error.fields).sort()).toEqual(['rubric.0.weight', 'timeLimitSeconds']);

    const unknownUser = await cli(env, ['assignments', 'create', '--scenario', '00000000-0000-4000-8000-000000000000', '--rep', 'nobody@example.test']);
    expect(unknownUser.code).toBe(1);
    expect(unknownUser.stderr).toContain('user not found');

    const usage = await cli(env, ['assignments', 'create']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("required option '--scenario <id>' not specified");
  }, 120_000);
});

describe('admin CLI with the embedded database', () => {
  it('attaches to the embedded server a running app holds, and starts its own when none runs', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'practice-line-cli-embedded-'));
    const port = await freePort();
    const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(port), PIN_SECRET };
    try {
      // What `npm start` does: secrets, then the embedded server in DATA_DIR/postgres, migrated.
      const secrets = await loadSecrets(dataDir, {});
      const app = await bootstrapDatabase({ databaseUrl: undefined, dataDir, embeddedPort: port, embeddedPassword: secrets.databasePassword, logger: pino({ level: 'silent' }) });
      try {
        const created = await cli(env, ['--json', 'users', 'create', '--role', 'manager', '--name', 'While Running', '--email', 'running@example.test']);
        expect(created.code, created.stderr).toBe(0);
        const seen = await app.db.select().from(users).where(eq(users.email, 'running@example.test'));
        expect(seen).toHaveLength(1);
      } finally {
        await app.shutdown();
      }

      const listed = await cli(env, ['--json', 'users', 'list']);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.json.map((user: { email: string }) => user.email)).toEqual(['running@example.test']);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
