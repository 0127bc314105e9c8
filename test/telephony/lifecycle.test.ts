// The stack leaves no process behind: after stop(), after its owner is SIGKILLed, and after
// `stack:up` / `stack:down`.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readStackState, sipOptionsPing, startStack } from '../../sip/stack/stack.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const tsxLoader = join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs');

function alive(pid: number): boolean {
  try {
    // A zombie has an empty cmdline; it is dead for our purposes.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== '';
  } catch {
    return false;
  }
}

async function waitDead(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && pids.some(alive)) await new Promise((resolve) => setTimeout(resolve, 100));
  return pids.filter(alive);
}

describe('stack lifecycle', () => {
  it('stop() ends redis, livekit-server and livekit-sip', async () => {
    const stack = await startStack();
    const pids = stack.processes.map((p) => p.pid);
    expect(stack.processes.map((p) => p.name)).toEqual(['redis', 'livekit', 'sip']);
    expect(pids.every(alive)).toBe(true);
    expect(await sipOptionsPing(stack.sipHost, stack.sipPort)).toBe(true);
    await stack.stop();
    expect(await waitDead(pids, 10_000)).toEqual([]);
  }, 60_000);

  it('takes its servers down with it when the owning process is killed outright', async () => {
    // node --import <tsx loader>: one process, so SIGKILL hits the stack's parent itself.
    const child = spawn(process.execPath, ['--import', tsxLoader, join(root, 'test/telephony/fixtures/hold_stack.ts')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pids = await new Promise<number[]>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((l) => l.startsWith('['));
        if (line !== undefined) resolve(JSON.parse(line) as number[]);
      });
      child.once('exit', (code) => reject(new Error(`holder exited early (${String(code)})`)));
    });
    expect(pids).toHaveLength(3);
    expect(pids.every(alive)).toBe(true);
    child.kill('SIGKILL');
    expect(await waitDead(pids, 10_000)).toEqual([]);
  }, 60_000);

  it('stack:up leaves a running stack described by a state file, and stack:down stops it', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'stack-state-')), 'state.json');
    const cli = join(root, 'sip/stack/cli.ts');
    await run(process.execPath, ['--import', tsxLoader, cli, 'up', '--state', stateFile], { cwd: root });
    const state = readStackState(stateFile);
    expect(state).toBeDefined();
    const pids = state?.processes.map((p) => p.pid) ?? [];
    expect(pids.every(alive)).toBe(true);
    expect(await sipOptionsPing(state?.sipHost ?? '', state?.sipPort ?? 0)).toBe(true);
    const { stdout } = await run(process.execPath, ['--import', tsxLoader, cli, 'down', '--state', stateFile], { cwd: root });
    expect(stdout).toMatch(/sip \(pid \d+\) stopped/);
    expect(await waitDead(pids, 10_000)).toEqual([]);
    expect(readStackState(stateFile)).toBeUndefined();
  }, 60_000);
});
