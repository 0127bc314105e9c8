// .env.example must list exactly the keys src/config.ts reads, so nobody configures a key that does nothing.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configKeys, loadConfig } from '../src/config.js';
import { projectRoot } from './support/process.js';

const exampleKeys = () =>
  readFileSync(`${projectRoot}/.env.example`, 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
    .map((line) => line.slice(0, line.indexOf('=')));

describe('.env.example', () => {
  it('documents every config key with a comment, and nothing else', () => {
    expect(exampleKeys().sort()).toEqual([...configKeys].sort());
    const lines = readFileSync(`${projectRoot}/.env.example`, 'utf8').split('\n');
    const isKey = (line: string | undefined) => line !== undefined && /^[A-Z][A-Z0-9_]*=/.test(line);
    for (const [index, line] of lines.entries()) {
      if (!isKey(line)) continue;
      // A comment may describe a small group of related keys right below it.
      let above = index - 1;
      while (isKey(lines[above])) above -= 1;
      expect(lines[above], `comment above ${line}`).toMatch(/^# \S/);
    }
  });

  it('parses as a valid configuration as it stands', () => {
    const env = Object.fromEntries(
      readFileSync(`${projectRoot}/.env.example`, 'utf8')
        .split('\n')
        .filter((line) => /^[A-Z]/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(() => loadConfig(env)).not.toThrow();
  });
});
