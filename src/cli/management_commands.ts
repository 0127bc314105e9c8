// users, tokens, personas, scenarios, assignments, calls: thin wrappers over src/app use cases.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { createApiToken, listApiTokens, revokeApiToken } from '../app/api_tokens.js';
import {
  createAssignment,
  listAssignments,
  revokeAssignment,
  rotateAssignmentPin,
  type AssignmentView,
  type IssuedPin,
} from '../app/assignments.js';
import { getCall, listCalls } from '../app/calls.js';
import { createPersona, listPersonas } from '../app/personas.js';
import { createScenario, listScenarios } from '../app/scenarios.js';
import { createUser, findUserByEmail, initAdmin, listUsers, updateUser } from '../app/users.js';
import { systemActor } from '../domain/access.js';
import { invalidInput } from '../domain/errors.js';
import { collect, output, table, toNumber, type CliCommandModule, type CliContext, type CliDeps } from './program.js';

const actor = systemActor;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Users are named by id or, more conveniently, by email. */
async function userIdOf(deps: CliDeps, value: string): Promise<string> {
  return GUID.test(value) ? value : (await findUserByEmail(deps, actor, value)).id;
}

async function passwordFrom(context: CliContext, fromStdin: boolean | undefined): Promise<{ password: string; generated: boolean }> {
  if (fromStdin) return { password: (await context.io.readStdin()).replace(/\r?\n$/, ''), generated: false };
  return { password: randomBytes(12).toString('base64url'), generated: true };
}

const date = (value: Date | string | null | undefined) => (value ? new Date(value).toISOString().replace('.000Z', 'Z') : null);

const pinLines = (issued: IssuedPin) =>
  [
    `assignment ${issued.assignment.id}: ${issued.assignment.rep.name} -> ${issued.assignment.scenario.title}`,
    `PIN ${issued.pin}   (shown once; it cannot be read back, only rotated)`,
  ].join('\n');

const users: CliCommandModule = (program, context) => {
  const group = program.command('users').description('admins, managers and reps');
  group
    .command('create')
    .description('create a user; admins and managers get a password (generated and printed once, or read from stdin)')
    .requiredOption('--role <role>', 'admin | manager | rep')
    .requiredOption('--name <name>', 'full name')
    .requiredOption('--email <email>', 'email address (unique)')
    .option('--manager <email-or-id>', "a rep's manager")
    .option('--phone <e164>', 'a number the rep calls from (repeatable)', collect)
    .option('--password-stdin', 'read the password from stdin instead of generating one')
    .action(async (options: { role: string; name: string; email: string; manager?: string; phone?: string[]; passwordStdin?: boolean }, command: Command) => {
      const deps = await context.deps();
      const staff = options.role === 'admin' || options.role === 'manager';
      const secret = staff ? await passwordFrom(context, options.passwordStdin) : null;
      const user = await createUser(deps, actor, {
        role: options.role as 'rep',
        name: options.name,
        email: options.email,
        ...(options.manager ? { managerId: await userIdOf(deps, options.manager) } : {}),
        ...(options.phone ? { phoneNumbers: options.phone } : {}),
        ...(secret ? { password: secret.password } : {}),
      });
      const result = { user, ...(secret?.generated ? { password: secret.password } : {}) };
      output(context, command, result, () =>
        [`created ${user.role} ${user.name} <${user.email}> ${user.id}`, ...(secret?.generated ? [`password ${secret.password}   (shown once)`] : [])].join('\n'),
      );
    });
  group
    .command('set-password <user>')
    .description('set the web-view password of an admin or manager (by email or id); generated unless --password-stdin')
    .option('--password-stdin', 'read the password from stdin instead of generating one')
    .action(async (user: string, options: { passwordStdin?: boolean }, command: Command) => {
      const deps = await context.deps();
      const secret = await passwordFrom(context, options.passwordStdin);
      const updated = await updateUser(deps, actor, { id: await userIdOf(deps, user), password: secret.password });
      const result = { user: updated, ...(secret.generated ? { password: secret.password } : {}) };
      output(context, command, result, () =>
        [`password set for ${updated.email}`, ...(secret.generated ? [`password ${secret.password}   (shown once)`] : [])].join('\n'),
      );
    });
  group
    .command('list')
    .option('--role <role>', 'admin | manager | rep')
    .option('--include-inactive', 'also list deactivated users')
    .action(async (options: { role?: string; includeInactive?: boolean }, command: Command) => {
      const rows = await listUsers(await context.deps(), actor, {
        ...(options.role ? { role: options.role as 'rep' } : {}),
        includeInactive: options.includeInactive === true,
      });
      output(context, command, rows, () =>
        table(['ID', 'ROLE', 'NAME', 'EMAIL', 'PHONES'], rows.map((row) => [row.id, row.role, row.name, row.email, row.phoneNumbers.join(',')])),
      );
    });
};

/** Production starts empty (no demo data): this makes the first admin and prints the password once, to stdout only. */
const initAdminCommand: CliCommandModule = (program, context) => {
  program
    .command('init-admin')
    .description('create the first admin of an empty installation; the password is generated and printed once (or read from stdin)')
    .option('--email <email>', 'email address', 'admin@localhost')
    .option('--name <name>', 'full name', 'Administrator')
    .option('--password-stdin', 'read the password from stdin instead of generating one')
    .action(async (options: { email: string; name: string; passwordStdin?: boolean }, command: Command) => {
      const deps = await context.deps();
      const secret = await passwordFrom(context, options.passwordStdin);
      const user = await initAdmin(deps, { name: options.name, email: options.email, password: secret.password });
      const result = { user, ...(secret.generated ? { password: secret.password } : {}) };
      output(context, command, result, () =>
        [
          `created admin ${user.name} <${user.email}> ${user.id}`,
          ...(secret.generated ? [`password ${secret.password}   (shown once; it is stored only as a hash)`] : []),
        ].join('\n'),
      );
    });
};

const tokens: CliCommandModule = (program, context) => {
  const group = program.command('tokens').description('bearer tokens for the JSON API');
  group
    .command('create')
    .description('issue an API token for an admin or manager; the token is printed once')
    .requiredOption('--user <email-or-id>', 'whose token it is')
    .requiredOption('--name <name>', 'what it is for, e.g. "CRM sync"')
    .action(async (options: { user: string; name: string }, command: Command) => {
      const deps = await context.deps();
      const issued = await createApiToken(deps, actor, { name: options.name, userId: await userIdOf(deps, options.user) });
      output(context, command, issued, () => `token ${issued.apiToken.id} "${issued.apiToken.name}"\n${issued.token}   (shown once)`);
    });
  group.command('list').action(async (_options: unknown, command: Command) => {
    const rows = await listApiTokens(await context.deps(), actor);
    output(context, command, rows, () =>
      table(['ID', 'USER', 'NAME', 'LAST USED', 'REVOKED'], rows.map((row) => [row.id, row.userId, row.name, date(row.lastUsedAt), date(row.revokedAt)])),
    );
  });
  group.command('revoke <id>').action(async (id: string, _options: unknown, command: Command) => {
    const row = await revokeApiToken(await context.deps(), actor, id);
    output(context, command, row, () => `revoked token ${row.id}`);
  });
};

const personas: CliCommandModule = (program, context) => {
  const group = program.command('personas').description('AI buyer personas');
  group
    .command('create')
    .requiredOption('--name <name>', 'e.g. "Diane Carter"')
    .requiredOption('--role <title>', 'job title, e.g. "Chief Financial Officer"')
    .requiredOption('--company <company>')
    .requiredOption('--personality <text>')
    .requiredOption('--opening-line <text>', 'the first thing the persona says')
    .option('--objection <text>', 'an objection the persona raises (repeatable)', collect)
    .option('--voice-id <id>', 'ElevenLabs voice (default ELEVENLABS_DEFAULT_VOICE_ID)')
    .option('--language <code>', 'e.g. en')
    .option('--llm-model <model>', 'default GROQ_LLM_MODEL')
    .option('--temperature <number>', '0 to 2', toNumber)
    .action(
      async (
        options: { name: string; role: string; company: string; personality: string; openingLine: string; objection?: string[]; voiceId?: string; language?: string; llmModel?: string; temperature?: number },
        command: Command,
      ) => {
        const persona = await createPersona(await context.deps(), actor, {
          name: options.name,
          role: options.role,
          company: options.company,
          personality: options.personality,
          openingLine: options.openingLine,
          objections: options.objection ?? [],
          ...(options.voiceId ? { voiceId: options.voiceId } : {}),
          ...(options.language ? { language: options.language } : {}),
          ...(options.llmModel ? { llmModel: options.llmModel } : {}),
          ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
        });
        output(context, command, persona, () => `created persona ${persona.name} (${persona.role}, ${persona.company}) ${persona.id}`);
      },
    );
  group
    .command('list')
    .option('--include-archived')
    .action(async (options: { includeArchived?: boolean }, command: Command) => {
      const rows = await listPersonas(await context.deps(), actor, { includeArchived: options.includeArchived === true });
      output(context, command, rows, () => table(['ID', 'NAME', 'ROLE', 'COMPANY'], rows.map((row) => [row.id, row.name, row.role, row.company])));
    });
};

async function rubricFrom(options: { rubric?: string; rubricFile?: string }): Promise<unknown> {
  const text = options.rubricFile ? await readFile(options.rubricFile, 'utf8') : options.rubric;
  if (text === undefined) throw invalidInput('a rubric is required', { rubric: 'pass --rubric JSON or --rubric-file PATH' });
  try {
    return JSON.parse(text);
  } catch {
    throw invalidInput('the rubric is not valid JSON', { rubric: 'expected a JSON array of {id, name, description, weight}' });
  }
}

const scenarios: CliCommandModule = (program, context) => {
  const group = program.command('scenarios').description('what reps practise, and how it is scored');
  group
    .command('create')
    .requiredOption('--title <title>')
    .requiredOption('--objective <text>')
    .requiredOption('--context <text>')
    .requiredOption('--persona <id>', 'persona id')
    .option('--rubric <json>', 'JSON array of {id, name, description, weight}')
    .option('--rubric-file <path>', 'the rubric JSON from a file')
    .option('--difficulty <level>', 'easy | medium | hard')
    .option('--time-limit <seconds>', 'call time limit in seconds', toNumber)
    .option('--extension <digits>', '2-5 digits a rep may dial instead of a PIN')
    .option('--direct-line <e164>', 'a called number that leads straight to this scenario')
    .action(
      async (
        options: { title: string; objective: string; context: string; persona: string; rubric?: string; rubricFile?: string; difficulty?: string; timeLimit?: number; extension?: string; directLine?: string },
        command: Command,
      ) => {
        const scenario = await createScenario(await context.deps(), actor, {
          title: options.title,
          objective: options.objective,
          context: options.context,
          personaId: options.persona,
          rubric: (await rubricFrom(options)) as never,
          ...(options.difficulty ? { difficulty: options.difficulty as 'medium' } : {}),
          ...(options.timeLimit !== undefined ? { timeLimitSeconds: options.timeLimit } : {}),
          ...(options.extension ? { extension: options.extension } : {}),
          ...(options.directLine ? { directLineNumber: options.directLine } : {}),
        });
        output(context, command, scenario, () => `created scenario "${scenario.title}" ${scenario.id}${scenario.extension ? ` extension ${scenario.extension}` : ''}`);
      },
    );
  group
    .command('list')
    .option('--include-archived')
    .action(async (options: { includeArchived?: boolean }, command: Command) => {
      const rows = await listScenarios(await context.deps(), actor, { includeArchived: options.includeArchived === true });
      output(context, command, rows, () =>
        table(['ID', 'TITLE', 'DIFFICULTY', 'EXT', 'DIRECT LINE', 'LIMIT'], rows.map((row) => [row.id, row.title, row.difficulty, row.extension, row.directLineNumber, `${row.timeLimitSeconds}s`])),
      );
    });
};

const assignmentRow = (row: AssignmentView) => [
  row.id,
  row.rep.email,
  row.scenario.title,
  row.status,
  row.maxAttempts === null ? `${row.attemptsUsed}` : `${row.attemptsUsed}/${row.maxAttempts}`,
  date(row.dueAt),
];

const assignments: CliCommandModule = (program, context) => {
  const group = program.command('assignments').description('scenarios assigned to reps, each with a personal PIN');
  group
    .command('create')
    .description('assign a scenario to a rep; prints the PIN once')
    .requiredOption('--scenario <id>', 'scenario id')
    .requiredOption('--rep <email-or-id>', 'the rep')
    .option('--due <date>', 'due date, e.g. 2026-12-31T17:00:00Z')
    .option('--enforce-due-date', 'refuse calls after the due date')
    .option('--pass-mark <0-100>', 'score needed to pass (default 70)', toNumber)
    .option('--max-attempts <n>', 'calls allowed (default unlimited)', toNumber)
    .action(
      async (options: { scenario: string; rep: string; due?: string; enforceDueDate?: boolean; passMark?: number; maxAttempts?: number }, command: Command) => {
        const deps = await context.deps();
        const issued = await createAssignment(deps, actor, {
          scenarioId: options.scenario,
          repId: await userIdOf(deps, options.rep),
          ...(options.due ? { dueAt: options.due } : {}),
          ...(options.enforceDueDate ? { enforceDueDate: true } : {}),
          ...(options.passMark !== undefined ? { passMark: options.passMark } : {}),
          ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
        });
        output(context, command, issued, () => pinLines(issued));
      },
    );
  group
    .command('rotate-pin <id>')
    .description('replace the PIN; prints the new one once')
    .action(async (id: string, _options: unknown, command: Command) => {
      const issued = await rotateAssignmentPin(await context.deps(), actor, id);
      output(context, command, issued, () => pinLines(issued));
    });
  group.command('revoke <id>').action(async (id: string, _options: unknown, command: Command) => {
    const row = await revokeAssignment(await context.deps(), actor, id);
    output(context, command, row, () => `revoked assignment ${row.id} (${row.rep.email} -> ${row.scenario.title})`);
  });
  group
    .command('list')
    .option('--rep <email-or-id>')
    .option('--scenario <id>')
    .option('--include-revoked')
    .action(async (options: { rep?: string; scenario?: string; includeRevoked?: boolean }, command: Command) => {
      const deps = await context.deps();
      const rows = await listAssignments(deps, actor, {
        ...(options.rep ? { repId: await userIdOf(deps, options.rep) } : {}),
        ...(options.scenario ? { scenarioId: options.scenario } : {}),
        includeRevoked: options.includeRevoked === true,
      });
      output(context, command, rows, () => table(['ID', 'REP', 'SCENARIO', 'STATUS', 'ATTEMPTS', 'DUE'], rows.map(assignmentRow)));
    });
};

const calls: CliCommandModule = (program, context) => {
  const group = program.command('calls').description('practice calls');
  group
    .command('list')
    .description('newest first')
    .option('--rep <email-or-id>')
    .option('--scenario <id>')
    .option('--status <status>', 'dispatching | ringing | in_progress | completed | failed | abandoned (repeatable)', collect)
    .option('--from <date>', 'created at or after')
    .option('--to <date>', 'created before')
    .option('--search <text>', 'words in the transcript')
    .option('--page <n>', 'page number', toNumber)
    .option('--page-size <n>', 'rows per page (max 100)', toNumber)
    .action(
      async (
        options: { rep?: string; scenario?: string; status?: string[]; from?: string; to?: string; search?: string; page?: number; pageSize?: number },
        command: Command,
      ) => {
        const deps = await context.deps();
        const page = await listCalls(deps, actor, {
          ...(options.rep ? { repId: await userIdOf(deps, options.rep) } : {}),
          ...(options.scenario ? { scenarioId: options.scenario } : {}),
          ...(options.status ? { status: options.status as ['completed'] } : {}),
          ...(options.from ? { from: options.from } : {}),
          ...(options.to ? { to: options.to } : {}),
          ...(options.search ? { q: options.search } : {}),
          ...(options.page !== undefined ? { page: options.page } : {}),
          ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
        });
        output(context, command, page, () =>
          [
            table(
              ['ID', 'CREATED', 'REP', 'SCENARIO', 'STATUS', 'SECONDS', 'SCORE', 'PASSED'],
              page.items.map((row) => [row.id, date(row.createdAt), row.rep?.name, row.scenario?.title, row.status, row.durationSeconds, row.score, row.passed === null ? null : row.passed ? 'yes' : 'no']),
            ),
            `page ${page.page}, ${page.items.length} of ${page.total} calls`,
          ].join('\n'),
        );
      },
    );
  group.command('show <id>').action(async (id: string, _options: unknown, command: Command) => {
    const call = await getCall(await context.deps(), actor, id);
    output(context, command, call, () =>
      [
        `call ${call.id}  ${call.status}  ${date(call.createdAt)}  ${call.durationSeconds ?? '-'}s`,
        `rep ${call.rep?.name ?? '-'}  scenario ${call.scenario?.title ?? '-'}  persona ${call.persona?.name ?? '-'}`,
        ...call.turns.map((turn) => `  [${date(turn.startedAt)}] ${turn.speaker}: ${turn.text}${turn.interrupted ? ' (interrupted)' : ''}`),
        call.scorecard
          ? `scorecard: ${call.scorecard.status}${call.scorecard.overallScore === null ? '' : ` ${call.scorecard.overallScore}`}${call.scorecard.passed === null ? '' : call.scorecard.passed ? ' passed' : ' not passed'}`
          : 'scorecard: none yet',
      ].join('\n'),
    );
  });
};

export const managementCommands: CliCommandModule[] = [initAdminCommand, users, tokens, personas, scenarios, assignments, calls];
