// Product code never imports test code: `npm run call` and the image ship without test/. The
// benches may use the test world (emulators, world builders) — they measure against it.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../support/process.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(join(projectRoot, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => relative(projectRoot, join(entry.parentPath, entry.name)));
}

/** Every module specifier a file imports (static, dynamic and re-exports). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(projectRoot, file), 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

const intoTest = (file: string, specifier: string): string | undefined => {
  if (!specifier.startsWith('.')) return undefined;
  const target = relative(projectRoot, join(projectRoot, file, '..', specifier));
  return target.startsWith('test/') ? target : undefined;
};

/** What bench/ may use from test/ (README, "Benchmarks"). */
const benchMayUse = [/^test\/emulators\//, /^test\/support\//, /^test\/agent\/agent_world\.[jt]s$/, /^test\/web\/practice_world\.[jt]s$/];

describe('imports across the product/test line', () => {
  it('src/, agent/ and sip/ import nothing from test/', () => {
    const offenders = ['src', 'agent', 'sip'].flatMap(sourceFiles).flatMap((file) =>
      importsOf(file).flatMap((specifier) => (intoTest(file, specifier) === undefined ? [] : [`${file} -> ${specifier}`])),
    );
    expect(offenders).toEqual([]);
  });

  it('bench/ uses only the test world from test/', () => {
    const offenders = sourceFiles('bench').flatMap((file) =>
      importsOf(file).flatMap((specifier) => {
        const target = intoTest(file, specifier);
        return target === undefined || benchMayUse.some((allowed) => allowed.test(target)) ? [] : [`${file} -> ${target}`];
      }),
    );
    expect(offenders).toEqual([]);
  });
});
