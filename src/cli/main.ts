// Composition root of the admin CLI: config -> secrets -> database (see database.ts) -> commands.
// Logs go to stderr so stdout stays clean for --json.
import { pino } from 'pino';
import { ConfigError, databaseOptions, loadConfig } from '../config.js';
import { DatabaseUnavailableError } from '../adapters/db/bootstrap.js';
import { EmbeddedPostgresError } from '../adapters/db/embedded.js';
import { scorecardModelFromConfig } from '../adapters/groq/scorecard_model.js';
import { createLogger, safeStack } from '../adapters/logger.js';
import { hashPassword } from '../adapters/password.js';
import { loadSecrets } from '../adapters/secrets.js';
import { openCliDatabase, type CliDatabase } from './database.js';
import { managementCommands } from './management_commands.js';
import { repDataCommands } from './rep_data_commands.js';
import { createStorage } from '../adapters/storage/create_storage.js';
import { createScoreCommand } from './score_command.js';
import { createProgram, runProgram, type CliCommandModule, type CliDeps, type CliIo } from './program.js';

/** Add command groups here (e.g. the post-call `score` command) as further CliCommandModules. */
const commandModules: CliCommandModule[] = [...managementCommands, repDataCommands];

const io: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

async function main(): Promise<number> {
  const config = loadConfig();
  const logger = createLogger({ name: 'practice-line-cli', level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, redactPii: config.NODE_ENV === 'production', destination: pino.destination(2) });
  let database: CliDatabase | undefined;
  let deps: CliDeps | undefined;

  const program = createProgram(
    {
      io,
      async deps() {
        if (deps) return deps;
        const secrets = await loadSecrets(config.DATA_DIR, { pinSecret: config.PIN_SECRET, sessionSecret: config.SESSION_SECRET });
        database = await openCliDatabase(databaseOptions(config, secrets.databasePassword, logger));
        deps = {
          db: database.db,
          pinSecret: secrets.pinSecret,
          hashPassword,
          storage: createStorage(config),
          personaDefaults: { llmModel: config.GROQ_LLM_MODEL, voiceId: config.ELEVENLABS_DEFAULT_VOICE_ID },
        };
        return deps;
      },
    },
    [...commandModules, createScoreCommand({ scorecardModel: scorecardModelFromConfig(config), scorecardModelName: config.GROQ_SCORECARD_MODEL })],
  );

  try {
    return await runProgram(program, process.argv.slice(2), io);
  } finally {
    await database?.shutdown();
  }
}

const expected = [ConfigError, DatabaseUnavailableError, EmbeddedPostgresError];

// Exit explicitly with the command's code, so no lingering handle keeps a finished CLI alive.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (expected.some((kind) => error instanceof kind)) process.stderr.write(`practice-line: ${(error as Error).message}\n`);
    else process.stderr.write(`practice-line: unexpected error\n${safeStack(error)}\n`);
    process.exit(1);
  },
);
