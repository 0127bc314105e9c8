// The repository explains itself: nothing in it points at the team's design and style notes outside
// the checkout, which a user of the project does not have; docs/ holds what the code relies on. The
// names are spelled in pieces below so that this file, too, passes its own check.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../support/process.js';

describe('a self-contained repository', () => {
  it('cites no design notes from outside the checkout', () => {
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: projectRoot, encoding: 'utf8' }).split('\0').filter((file) => file !== '');
    const outside = new RegExp(['\\bDESIGN', '\\bSTYLE'].map((name) => `${name}\\.md\\b`).concat(['\\.\\./' + 'shared\\b']).join('|'));
    const citing = tracked.filter((file) => !/\.(png|jpg|lock)$/.test(file) && outside.test(readFileSync(join(projectRoot, file), 'utf8')));
    expect(citing).toEqual([]);
  });
});
