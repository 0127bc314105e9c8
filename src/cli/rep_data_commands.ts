// `reps export <rep> --confirm <email> --out file.zip` and `reps delete <rep> --confirm <email>`:
// thin wrappers over src/app/rep_data.ts. The confirmation is the rep's email, typed out.
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { deleteRepData, exportRepData } from '../app/rep_data.js';
import { findUserByEmail } from '../app/users.js';
import { systemActor } from '../domain/access.js';
import { output, type CliCommandModule, type CliDeps } from './program.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function repIdOf(deps: CliDeps, value: string): Promise<string> {
  return GUID.test(value) ? value : (await findUserByEmail(deps, systemActor, value)).id;
}

export const repDataCommands: CliCommandModule = (program, context) => {
  const group = program.command('reps').description("a rep's data: export it, or delete all of it");
  group
    .command('export <rep>')
    .description('write one zip with the rep\'s profile, calls, turns, scorecards, analytics and recordings')
    .requiredOption('--confirm <email>', "the rep's email, to confirm")
    .requiredOption('--out <file>', 'the zip file to write')
    .action(async (rep: string, options: { confirm: string; out: string }, command: Command) => {
      const deps = await context.deps();
      const exported = await exportRepData(deps, systemActor, { id: await repIdOf(deps, rep), confirmEmail: options.confirm });
      await pipeline(exported.archive, createWriteStream(options.out));
      output(context, command, { file: options.out, ...exported.counts }, () => `wrote ${options.out}: ${exported.counts.calls} calls, ${exported.counts.recordings} recordings`);
    });
  group
    .command('delete <rep>')
    .description('delete everything about the rep (calls, turns, scorecards, recordings, tokens, sessions); safe to re-run')
    .requiredOption('--confirm <email>', "the rep's email, to confirm")
    .action(async (rep: string, options: { confirm: string }, command: Command) => {
      const deps = await context.deps();
      const result = await deleteRepData(deps, systemActor, { id: GUID.test(rep) ? rep : await repIdOf(deps, rep), confirmEmail: options.confirm });
      output(context, command, result, () =>
        result.status === 'already_deleted' ? 'nothing to delete: the rep is already gone' : `deleted the rep, ${result.calls} calls and ${result.recordingObjects} recording objects`,
      );
    });
};
