// The Dockerfile checked without a Docker engine: multi-stage, production-only dependencies,
// an unprivileged user, no secrets, only paths that exist, and .dockerignore keeping .env out.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../support/process.js';

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

function parseDockerfile(text: string): Instruction[] {
  const logical = text.replace(/\\\n/g, ' ').split('\n');
  const instructions: Instruction[] = [];
  let stage = -1;
  for (const raw of logical) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = line.match(/^([A-Za-z]+)\s+(.*)$/);
    if (!match) throw new Error(`unparseable Dockerfile line: ${line}`);
    const op = match[1]!.toUpperCase();
    if (op === 'FROM') stage += 1;
    instructions.push({ op, args: match[2]!, stage });
  }
  return instructions;
}

const dockerfile = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8');
const instructions = parseDockerfile(dockerfile);
const lastStage = Math.max(...instructions.map((i) => i.stage));
const finalStage = instructions.filter((i) => i.stage === lastStage);

describe('Dockerfile', () => {
  it('uses only known instructions and is multi-stage on Node 20', () => {
    const known = ['FROM', 'ARG', 'ENV', 'WORKDIR', 'COPY', 'RUN', 'USER', 'EXPOSE', 'CMD', 'ENTRYPOINT', 'LABEL', 'HEALTHCHECK'];
    expect(instructions.filter((i) => !known.includes(i.op))).toEqual([]);
    expect(lastStage).toBeGreaterThanOrEqual(1);
    expect(dockerfile).toMatch(/ARG NODE_VERSION=20\b/);
    expect(instructions.filter((i) => i.op === 'FROM').every((i) => /node:\$\{NODE_VERSION\}/.test(i.args))).toBe(true);
  });

  it('installs production dependencies only, from the lock file', () => {
    expect(instructions.some((i) => i.op === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    expect(instructions.some((i) => i.op === 'RUN' && /npm install(?! -g npm@)/.test(i.args))).toBe(false);
  });

  it('runs as an unprivileged user in the final stage, and its command is what compose runs', () => {
    const users = finalStage.filter((i) => i.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)!.args).not.toMatch(/^(root|0)(:|$)/);
    const cmd = finalStage.filter((i) => i.op === 'CMD').at(-1);
    expect(JSON.parse(cmd!.args)).toEqual(['node', '--import', 'tsx', 'src/main.ts']);
    // The instructions after USER must not switch back to root.
    const userIndex = finalStage.lastIndexOf(users.at(-1)!);
    expect(finalStage.slice(userIndex).some((i) => i.op === 'RUN' && /\bsudo\b|\bsu\b/.test(i.args))).toBe(false);
  });

  it('bakes in no secrets', () => {
    for (const i of instructions.filter((x) => x.op === 'ENV' || x.op === 'ARG')) {
      expect(i.args, `${i.op} ${i.args}`).not.toMatch(/(SECRET|TOKEN|PASSWORD|API_KEY|PIN_SECRET)\s*=/i);
    }
    for (const i of instructions.filter((x) => x.op === 'COPY')) {
      expect(i.args).not.toMatch(/\.env\b(?!\.example)|secrets\.json|\.data\b/);
    }
  });

  it('copies only paths that exist', () => {
    for (const i of instructions.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) {
      const parts = i.args.split(/\s+/);
      for (const source of parts.slice(0, -1)) expect(existsSync(join(projectRoot, source)), source).toBe(true);
    }
  });

  it('.dockerignore keeps .env, local data and node_modules out of the build context', () => {
    const ignored = readFileSync(join(projectRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['.env', 'node_modules', '.data', '.stack', '.git']) expect(ignored).toContain(entry);
  });
});
