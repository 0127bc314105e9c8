// Server secrets that must survive restarts but never live in the database: the PIN HMAC key
// (so a database dump alone does not reveal PINs), the session key, and the embedded database password.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const secretsSchema = z.object({
  pinSecret: z.string().min(32),
  sessionSecret: z.string().min(32),
  databasePassword: z.string().min(16),
});

export type Secrets = z.infer<typeof secretsSchema>;

const fresh = (): Secrets => ({
  pinSecret: randomBytes(32).toString('hex'),
  sessionSecret: randomBytes(32).toString('hex'),
  databasePassword: randomBytes(18).toString('base64url'),
});

/** Reads DATA_DIR/secrets.json, creating it (mode 0600) on first run; configured values win. */
export async function loadSecrets(
  dataDir: string,
  overrides: { pinSecret?: string | undefined; sessionSecret?: string | undefined },
): Promise<Secrets & { created: boolean }> {
  const file = join(dataDir, 'secrets.json');
  let stored: Secrets;
  let created = false;
  if (existsSync(file)) {
    const parsed = secretsSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success) throw new Error(`${file} is damaged; restore it from a backup (PINs cannot be checked without it).`);
    stored = parsed.data;
  } else {
    await mkdir(dataDir, { recursive: true });
    stored = fresh();
    await writeFile(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  }
  return {
    pinSecret: overrides.pinSecret ?? stored.pinSecret,
    sessionSecret: overrides.sessionSecret ?? stored.sessionSecret,
    databasePassword: stored.databasePassword,
    created,
  };
}
