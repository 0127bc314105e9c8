// The admin CLI's shape: a commander program whose commands call the same use cases as the API,
// acting as the installation itself (systemActor). Commands open the database lazily so `--help`
// never touches it.
import { Command, CommanderError } from 'commander';
import type { PersonaDeps } from '../app/personas.js';
import type { AppDeps } from '../app/use_case.js';
import { isDomainError } from '../domain/errors.js';

export type CliDeps = AppDeps & PersonaDeps;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whole stdin, for secrets that must not appear on the command line (`--password-stdin`). */
  readStdin(): Promise<string>;
}

export interface CliContext {
  io: CliIo;
  /** Opens the database on first use; main closes it after the command. */
  deps(): Promise<CliDeps>;
}

/** A group of subcommands; the `score` command (post-call, helper-6) plugs in the same way. */
export type CliCommandModule = (program: Command, context: CliContext) => void;

export interface OutputOptions {
  json?: boolean;
}

/** --json prints the use case's result as is; otherwise a short human rendering. */
export function output(context: CliContext, command: Command, result: unknown, human: () => string): void {
  const { json } = command.optsWithGlobals<OutputOptions>();
  context.io.stdout(json ? `${JSON.stringify(result, null, 2)}\n` : `${human()}\n`);
}

/** Left-aligned columns for lists. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  if (rows.length === 0) return '(none)';
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
}

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
export const toNumber = (value: string): number => (value.trim() === '' ? Number.NaN : Number(value));

export function createProgram(context: CliContext, modules: CliCommandModule[]): Command {
  const program = new Command('practice-line')
    .description('Practice Line admin CLI: users, API tokens, personas, scenarios, assignments, calls')
    .option('--json', 'print results as JSON')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (text) => context.io.stdout(text), writeErr: (text) => context.io.stderr(text) });
  for (const register of modules) register(program, context);
  return program;
}

/** Runs one command line; returns the exit code. Known errors get one clear message, not a stack. */
export async function runProgram(program: Command, argv: string[], io: CliIo): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const json = program.opts<OutputOptions>().json === true;
    if (isDomainError(error)) {
      if (json) io.stderr(`${JSON.stringify({ error: { code: error.code, message: error.message, fields: error.fields } })}\n`);
      else {
        const fields = Object.entries(error.fields).map(([path, message]) => `\n  ${path}: ${message}`);
        io.stderr(`practice-line: ${error.message}${fields.join('')}\n`);
      }
      return 1;
    }
    throw error;
  }
}
