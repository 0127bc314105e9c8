// The LiveKit half of docker-compose.yml for real, without Docker: the pinned livekit-server and
// livekit-sip binaries (.stack/bin, the same versions as the images) started with exactly the
// configuration compose gives them (rendered from docker-compose.yml with a .env, as compose
// renders it), in a private network namespace so compose's fixed ports are free. They must pass
// the compose health checks, accept `npm run sip:provision`, carry a call placed by `npm run call`
// in both directions, and post signed webhooks to the dispatch service's address.
// What this cannot check: the images themselves, Docker's host networking, Caddy, a carrier.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultBinDir } from '../../sip/stack/stack.js';
import { projectRoot } from '../support/process.js';
import { renderCompose } from './compose_file.js';

/** A .env for this machine: no STUN here, so the public address is pinned (as behind 1:1 NAT). */
const dotEnv = {
  LIVEKIT_API_KEY: 'APIcomposecheck',
  LIVEKIT_API_SECRET: 'compose-check-secret-compose-check-secret',
  DOMAIN: 'practice.example.test',
  USE_EXTERNAL_IP: 'false',
  NODE_IP: '127.0.0.1',
};

// Needs user and network namespaces (unprivileged `unshare -rn`); without them this is skipped, loudly.
const namespacesWork = spawnSync('unshare', ['-rn', 'sh', '-c', 'ip link add pl0 type veth peer name pl1']).status === 0;

interface Report {
  fatal?: string;
  redisHealth: { ok: boolean };
  livekitHealth: { ok: boolean };
  sipHealth: { ok: boolean };
  provision: { code: number; output: string };
  call: { code?: number; error?: string; callerNumber?: string; personaHeardCallerTone?: number; callerHeardPersonaTone?: number; callerVoicedSegments?: number; output: string; room?: string };
  webhooks: { event: string; room?: string; kind?: string }[];
  logs: Record<string, string>;
}

function runDriver(): Promise<{ report: Report | undefined; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      'unshare',
      // A VM has a network interface besides lo, and livekit-sip refuses to start without one
      // (sipgo's NewUA looks for a non-loopback IPv4 address): a veth pair on TEST-NET-1 stands in.
      ['-rn', 'sh', '-c', `ip link set lo up && ip link add pl0 type veth peer name pl1 && ip addr add 192.0.2.10/24 dev pl0 && ip link set pl0 up && ip link set pl1 up && exec "${process.execPath}" --import tsx test/deploy/compose_stack_driver.ts`],
      { cwd: projectRoot, env: { PATH: process.env.PATH ?? '', HOME: '/tmp', ENV_FILE: '', STACK_BIN_DIR: defaultBinDir, COMPOSE_DOT_ENV: JSON.stringify(dotEnv) } },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', () => {
      const line = output.split('\n').find((l) => l.startsWith('REPORT '));
      resolve({ report: line === undefined ? undefined : (JSON.parse(line.slice('REPORT '.length)) as Report), output: output.slice(-4000) });
    });
  });
}

describe.skipIf(!namespacesWork)('docker-compose.yml LiveKit services, run for real', () => {
  it('start with the rendered configs, pass their health checks, accept provisioning, carry a call and post webhooks', async () => {
    for (const binary of ['livekit-server', 'livekit-sip']) expect(existsSync(join(defaultBinDir, binary)), `${binary}: run npm run stack:install`).toBe(true);
    const { report, output } = await runDriver();
    expect(report, output).toBeDefined();
    const r = report!;
    const context = JSON.stringify({ fatal: r.fatal, call: r.call, logs: r.logs }, null, 2);
    expect(r.fatal, context).toBeUndefined();
    expect(r.redisHealth.ok, context).toBe(true);
    expect(r.livekitHealth.ok, context).toBe(true);
    expect(r.sipHealth.ok, context).toBe(true);
    expect(r.provision.code, r.provision.output).toBe(0);
    expect(r.call.error, context).toBeUndefined();
    expect(r.call.code, context).toBe(0);
    expect(r.call.callerNumber).toBe('+15550100001');
    expect(r.call.personaHeardCallerTone, context).toBeGreaterThan(0.5);
    expect(r.call.callerHeardPersonaTone, context).toBeGreaterThan(0.5);
    // The webhook block is on: signed events for the call's room reached the dispatch service's port.
    const forRoom = r.webhooks.filter((w) => w.room === r.call.room).map((w) => `${w.event}${w.kind ? `:${w.kind}` : ''}`);
    expect(forRoom, JSON.stringify(r.webhooks)).toEqual(expect.arrayContaining(['room_started', 'participant_joined:sip']));
  });

  it('livekit-sip refuses NODE_IP together with USE_EXTERNAL_IP=true, as the README warns', () => {
    const sipEnv = renderCompose({ ...dotEnv, USE_EXTERNAL_IP: 'true', NODE_IP: '203.0.113.7' }).services.sip!.environment!;
    const run = spawnSync(join(defaultBinDir, 'livekit-sip'), ['--config=/sip/config.yaml'], { env: { PATH: process.env.PATH ?? '', ...sipEnv }, encoding: 'utf8', timeout: 30_000 });
    expect(run.stdout + run.stderr).toMatch(/use_external_ip and nat_1_to_1_ip can not both be set/);
  });
});
