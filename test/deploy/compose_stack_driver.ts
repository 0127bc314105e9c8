// Runs inside a fresh network namespace (test/deploy/compose_stack.test.ts starts it with
// `unshare -rn`), so the fixed ports docker-compose.yml uses (6379, 7880, 5060, 3000…) are free and
// nothing else on the machine can interfere. It does what `docker compose` would do on one host
// with network_mode: host, minus the containers: renders docker-compose.yml with a .env, starts
// redis-server, livekit-server and livekit-sip with exactly the environment and arguments the
// compose services and the images' entrypoints give them, runs the compose health checks, then
// `npm run sip:provision` and `npm run call` as the README's self-hosted steps do, with a probe
// participant standing in for the persona and a webhook receiver on the dispatch service's port.
// Prints one JSON report on stdout for the test to judge.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParticipantKind } from '@livekit/rtc-node';
import { RoomServiceClient } from 'livekit-server-sdk';
import { createLivekitWebhookVerifier } from '../../src/adapters/livekit/webhooks.js';
import { decodeWavMono, findVoicedSegments, generateTone, toneRatio, writeWav } from '../../sip/phone/audio.js';
import { createProbe, type Probe } from '../support/probe.js';
import { startEntry } from '../support/process.js';
import { renderCompose } from './compose_file.js';

const binDir = process.env.STACK_BIN_DIR ?? '';
const dotEnv = JSON.parse(process.env.COMPOSE_DOT_ENV ?? '{}') as Record<string, string>;
const compose = renderCompose(dotEnv);
const service = (name: string) => {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`no service ${name} in docker-compose.yml`);
  return found;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const children: ChildProcess[] = [];
const logs: Record<string, string> = {};

function start(name: string, command: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(command, args, { env: { PATH: process.env.PATH ?? '', HOME: '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  logs[name] = '';
  child.stdout?.on('data', (chunk: Buffer) => (logs[name] += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (logs[name] += chunk.toString()));
  children.push(child);
  return child;
}

/** A compose healthcheck (["CMD", ...] or ["CMD-SHELL", "..."]) run until it passes. */
async function healthy(name: string, timeoutMs = 60_000): Promise<{ ok: boolean; tries: number }> {
  const test = service(name).healthcheck?.test ?? [];
  const [kind, ...rest] = test;
  const command = kind === 'CMD-SHELL' ? ['sh', '-c', rest.join(' ')] : rest;
  const deadline = Date.now() + timeoutMs;
  let tries = 0;
  while (Date.now() < deadline) {
    tries += 1;
    if (spawnSync(command[0]!, command.slice(1), { stdio: 'ignore', timeout: 5000 }).status === 0) return { ok: true, tries };
    await sleep(500);
  }
  return { ok: false, tries };
}

async function main(): Promise<Record<string, unknown>> {
  const report: Record<string, unknown> = {};
  const livekitEnv = service('livekit').environment ?? {};
  const sipEnv = service('sip').environment ?? {};
  const dispatchEnv = service('dispatch').environment ?? {};
  const apiKey = dotEnv.LIVEKIT_API_KEY!;
  const apiSecret = dotEnv.LIVEKIT_API_SECRET!;

  // The dispatch service's place: 127.0.0.1:PORT, receiving livekit-server's webhooks.
  const verify = createLivekitWebhookVerifier({ apiKey, apiSecret });
  const webhooks: { event: string; room?: string | undefined; kind?: string | undefined }[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      verify(body, req.headers.authorization)
        .then((event) => {
          webhooks.push({ event: event.event, room: event.roomName, kind: event.participant?.kind });
          res.writeHead(req.url === '/livekit/webhook' ? 200 : 404).end();
        })
        .catch(() => res.writeHead(401).end());
    });
  });
  await new Promise<void>((resolve) => receiver.listen(Number(dispatchEnv.PORT), dispatchEnv.HOST, resolve));

  const redisCommand = service('redis').command ?? [];
  start('redis', redisCommand[0]!, redisCommand.slice(1), {});
  report.redisHealth = await healthy('redis');
  // The livekit/livekit-server image's entrypoint is the binary with no arguments.
  start('livekit', join(binDir, 'livekit-server'), [], livekitEnv);
  report.livekitHealth = await healthy('livekit');
  // The livekit/sip image's entrypoint passes --config=/sip/config.yaml, which does not exist here
  // either: SIP_CONFIG_BODY must win over it, as it does in the container.
  start('sip', join(binDir, 'livekit-sip'), ['--config=/sip/config.yaml'], sipEnv);
  report.sipHealth = await healthy('sip');

  // `docker compose run --rm dispatch npm run sip:provision …`: the dispatch service's environment.
  const appEnv = { ...dispatchEnv, LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret, LIVEKIT_SIP_HOST: '127.0.0.1:5060' };
  const number = '+15550007777';
  const provision = startEntry('sip/provision.ts', appEnv, ['--no-twilio', '--direct-number', number, '--direct-user', 'desk', '--direct-password', 'desk-secret-42']);
  report.provision = { code: await provision.exited, output: (provision.stdout() + provision.stderr()).slice(-2000) };

  // `npm run call` in WAV mode; a probe publishes the "persona" audio so livekit-sip answers.
  const dir = mkdtempSync(join(tmpdir(), 'compose-call-'));
  const wavIn = join(dir, 'in.wav');
  const wavOut = join(dir, 'out.wav');
  writeWav(wavIn, generateTone({ frequencyHz: 440, durationMs: 1200, sampleRate: 8000 }), 8000);
  const call = startEntry('sip/call.ts', appEnv, ['--pin', '4321', '--wav-in', wavIn, '--wav-out', wavOut, '--listen', '2']);
  let probe: Probe | undefined;
  try {
    const httpUrl = String(dispatchEnv.LIVEKIT_URL).replace(/^ws/, 'http');
    const rooms = new RoomServiceClient(httpUrl, apiKey, apiSecret);
    let room: string | undefined;
    for (let i = 0; i < 150 && room === undefined; i++) {
      room = (await rooms.listRooms()).find((r) => r.name.startsWith('practice-direct-'))?.name;
      if (room === undefined) await sleep(200);
    }
    if (room === undefined) throw new Error(`no room for the call\n${call.stderr()}`);
    probe = await createProbe({ url: String(dispatchEnv.LIVEKIT_URL), apiKey, apiSecret, room, sampleRate: 16000 });
    const caller = await probe.waitForParticipant((p) => p.kind === ParticipantKind.SIP, 30_000);
    await call.waitForOutput(/connected in \d+ ms/, 30_000);
    await probe.playPcm(generateTone({ frequencyHz: 600, durationMs: 800, sampleRate: 16000 }), 16000);
    await probe.waitForDtmf('4321#', 30_000);
    const code = await call.exited;
    const heardByCaller = decodeWavMono(readFileSync(wavOut), 8000);
    report.call = {
      code,
      room,
      callerNumber: caller.attributes['sip.phoneNumber'],
      personaHeardCallerTone: toneRatio(probe.heard(caller.identity), probe.sampleRate, 440),
      callerHeardPersonaTone: toneRatio(heardByCaller, 8000, 600),
      callerVoicedSegments: findVoicedSegments(heardByCaller, 8000).length,
      output: call.stderr().slice(-1500),
    };
  } catch (error) {
    report.call = { error: error instanceof Error ? error.message : String(error), output: call.stderr().slice(-1500) };
  } finally {
    call.child.kill('SIGTERM');
    await probe?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  // Webhooks arrive asynchronously; give the last ones a moment.
  await sleep(1500);
  report.webhooks = webhooks;
  receiver.close();
  return report;
}

const stopAll = () => {
  for (const child of children) child.kill('SIGKILL');
};
main()
  .then((report) => {
    process.stdout.write(`REPORT ${JSON.stringify({ ...report, logs: Object.fromEntries(Object.entries(logs).map(([k, v]) => [k, v.slice(-3000)])) })}\n`);
    stopAll();
    process.exit(0);
  })
  .catch((error: unknown) => {
    process.stdout.write(`REPORT ${JSON.stringify({ fatal: error instanceof Error ? error.stack : String(error), logs })}\n`);
    stopAll();
    process.exit(1);
  });
