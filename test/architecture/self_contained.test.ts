// The repository explains itself: nothing in it points at the team's notes outside the checkout
// (../shared/DESIGN.md, STYLE.md), which a user of the project does not have. docs/ holds them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../support/process.js';

describe('a self-contained repository', () => {
  it('cites no design notes from outside the checkout', () => {
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: projectRoot, encoding: 'utf8' }).split('\0').filter((file) => file !== '' && file !== 'test/architecture/self_contained.test.ts');
    const outside = /\bDESIGN\.md\b|\bSTYLE\.md\b|\.\.\/shared\b/;
    const citing = tracked.filter((file) => !/\.(png|jpg|lock)$/.test(file) && outside.test(readFileSync(join(projectRoot, file), 'utf8')));
    expect(citing).toEqual([]);
  });
});
