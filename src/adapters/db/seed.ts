import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { hashPin, generatePin } from '../../domain/pin.js';
import { demoPersonas, demoScenarios, demoUsers } from '../../app/demo_data.js';
import type { Database } from './client.js';
import { assignments, auditLog, personas, scenarios, users } from './schema.js';

export interface SeedDeps {
  db: Database;
  pinSecret: string;
  hashPassword(password: string): Promise<string>;
  llmModel: string;
}

/** Shown once on the console; nothing here is stored in plain text. */
export interface DemoCredentials {
  admin: { email: string; password: string };
  manager: { email: string; password: string };
  pins: { rep: string; scenario: string; pin: string }[];
  extensions: { scenario: string; extension: string }[];
}

const newPassword = () => randomBytes(12).toString('base64url');

/**
 * Fills an empty database with demo data; returns null when users already exist, so restarts never
 * re-seed. The check and the inserts share a transaction with an advisory lock so two processes
 * starting at once cannot both seed.
 */
export async function seedDemoData(deps: SeedDeps): Promise<DemoCredentials | null> {
  const adminPassword = newPassword();
  const managerPassword = newPassword();
  const [adminHash, managerHash] = await Promise.all([deps.hashPassword(adminPassword), deps.hashPassword(managerPassword)]);

  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(8145001)`);
    const existing = await tx.select({ id: users.id }).from(users).limit(1);
    if (existing.length > 0) return null;

    const [admin] = await tx
      .insert(users)
      .values({ role: 'admin', ...demoUsers.admin, passwordHash: adminHash })
      .returning();
    const [manager] = await tx
      .insert(users)
      .values({ role: 'manager', ...demoUsers.manager, passwordHash: managerHash })
      .returning();
    if (!admin || !manager) throw new Error('seeding users returned no rows');
    const reps = await tx
      .insert(users)
      .values(demoUsers.reps.map((rep) => ({ role: 'rep' as const, ...rep, phoneNumbers: [...rep.phoneNumbers], managerId: manager.id })))
      .returning();

    const personaRows = await tx
      .insert(personas)
      .values(
        demoPersonas.map(({ key: _key, objections, ...persona }) => ({
          ...persona,
          objections: [...objections],
          llmModel: deps.llmModel,
          createdBy: manager.id,
        })),
      )
      .returning();
    const personaIdByKey = new Map(demoPersonas.map((persona, index) => [persona.key, personaRows[index]!.id]));

    const scenarioRows = await tx
      .insert(scenarios)
      .values(
        demoScenarios.map(({ personaKey, ...scenario }) => ({
          ...scenario,
          personaId: personaIdByKey.get(personaKey)!,
          createdBy: manager.id,
        })),
      )
      .returning();

    const pins: DemoCredentials['pins'] = [];
    for (const [index, rep] of reps.entries()) {
      const scenario = scenarioRows[index % scenarioRows.length]!;
      const pin = generatePin();
      await tx.insert(assignments).values({
        scenarioId: scenario.id,
        repId: rep.id,
        assignedBy: manager.id,
        pinHash: hashPin(deps.pinSecret, pin),
        passMark: 70,
        maxAttempts: 10,
      });
      pins.push({ rep: rep.name, scenario: scenario.title, pin });
    }

    await tx.insert(auditLog).values({ action: 'demo_data.seeded', entityType: 'database', details: { users: 4, personas: 2, scenarios: 2 } });

    return {
      admin: { email: admin.email, password: adminPassword },
      manager: { email: manager.email, password: managerPassword },
      pins,
      extensions: scenarioRows.map((row) => ({ scenario: row.title, extension: row.extension ?? '' })),
    };
  });
}

/** Whether anyone can sign in to manage this installation yet (production starts with nobody). */
export async function hasAdmin(db: Database): Promise<boolean> {
  return (await db.select({ id: users.id }).from(users).where(eq(users.role, 'admin')).limit(1)).length > 0;
}
