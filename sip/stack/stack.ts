/**
 * The real telephony stack on loopback: one redis-server, livekit-server and livekit-sip per
 * call to `startStack`, each on its own free ports, so parallel test runs never collide.
 *
 *   import { startStack } from '../../sip/stack/stack.js';
 *   const stack = await startStack({ webhookUrls: ['http://127.0.0.1:4000/livekit/webhook'] });
 *   // stack.livekitUrl  ws://127.0.0.1:PORT   (rtc-node, agents)
 *   // stack.httpUrl     http://127.0.0.1:PORT (livekit-server-sdk clients)
 *   // stack.apiKey / stack.apiSecret, stack.redisUrl
 *   // stack.sipHost / stack.sipPort          (where the test phone sends its INVITE)
 *   // stack.sipAddress                       ('127.0.0.1:PORT', for LIVEKIT_SIP_HOST)
 *   // stack.logFiles.{redis,livekit,sip}     (point a failing test at these; stack.describe())
 *   await stack.stop();
 *
 * Webhooks: bind the receiver first (port 0), then pass its URL in `webhookUrls`; events are
 * signed with `stack.apiKey`/`apiSecret` (verify with livekit-server-sdk's WebhookReceiver).
 * SIP trunks and dispatch rules: `ensureSip` in sip/ensure.ts. A phone: sip/phone.
 *
 * Binaries come from `.stack/bin` (`npm run stack:install`); a missing or stale install throws
 * `StackNotInstalledError` with the command to run. Children are started through
 * `setpriv --pdeathsig KILL` so they die with the test process even on a crash, and are also
 * killed on process exit. `detached: true` (used by `npm run stack:up`) leaves them running and
 * records them in a state file for `npm run stack:down`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  buildLivekitServerConfig,
  buildLivekitSipConfig,
  pinsStamp,
  readPins,
  repoRoot,
  toYaml,
} from './config.js';
import { freeRtpRange, freeTcpPort, freeUdpPort, freeUdpTcpPort, type PortRange } from './ports.js';

export const defaultBinDir = join(repoRoot, '.stack', 'bin');
export const defaultStateFile = join(repoRoot, '.stack', 'state.json');

export interface StackOptions {
  /** Where livekit-server and livekit-sip live; default `.stack/bin`. */
  binDir?: string;
  /** Folder for configs and logs; default a fresh `.stack/runs/<time>-<pid>-<rand>`. */
  runDir?: string;
  sipPort?: number;
  rtpPortRange?: PortRange;
  httpPort?: number;
  rtcUdpPort?: number;
  redisPort?: number;
  apiKey?: string;
  apiSecret?: string;
  /** livekit-server posts room/participant events here (signed with the API key). */
  webhookUrls?: readonly string[];
  logLevel?: 'debug' | 'info' | 'warn';
  /** Per-process health wait; default 30 s (cold starts on a loaded 2-core box are slow). */
  startTimeoutMs?: number;
  /** Leave the processes running after this Node process exits (for `stack:up`). */
  detached?: boolean;
}

export interface StackProcessInfo {
  name: 'redis' | 'livekit' | 'sip';
  pid: number;
  logFile: string;
}

/** Everything another tool needs to use (or stop) a running stack; also the state-file shape. */
export interface StackInfo {
  livekitUrl: string;
  httpUrl: string;
  apiKey: string;
  apiSecret: string;
  redisUrl: string;
  redisAddress: string;
  sipHost: string;
  sipPort: number;
  /** `127.0.0.1:PORT`, the value for LIVEKIT_SIP_HOST in a dispatch service under test. */
  sipAddress: string;
  rtpPortRange: PortRange;
  rtcUdpPort: number;
  runDir: string;
  logFiles: { redis: string; livekit: string; sip: string };
  processes: StackProcessInfo[];
  versions: { livekitServer: string; livekitSip: string };
  startedAt: string;
}

export interface Stack extends StackInfo {
  /** `sip:USER@127.0.0.1:PORT` — the URI a test phone dials to reach a room or number. */
  sipUri(user: string): string;
  /** A multi-line summary with log paths and their last lines, for failing-test messages. */
  describe(): string;
  /** Stops livekit-sip, livekit-server, then Redis; waits for each to exit. Idempotent. */
  stop(): Promise<void>;
}

export class StackNotInstalledError extends Error {
  constructor(detail: string) {
    super(
      `The telephony stack is not installed (${detail}). Run \`npm run stack:install\` ` +
        '(builds livekit-server and livekit-sip into .stack/bin; needs Go and Debian packages).',
    );
    this.name = 'StackNotInstalledError';
  }
}

export class StackStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackStartError';
  }
}

interface Binaries {
  livekitServer: string;
  livekitSip: string;
  redisServer: string;
}

/** Throws StackNotInstalledError unless the binaries exist and match the pinned versions. */
export function resolveBinaries(binDir = defaultBinDir): Binaries {
  const livekitServer = join(binDir, 'livekit-server');
  const livekitSip = join(binDir, 'livekit-sip');
  for (const bin of [livekitServer, livekitSip]) {
    if (!existsSync(bin)) throw new StackNotInstalledError(`${bin} is missing`);
  }
  const stampFile = join(binDir, 'versions.stamp');
  const want = pinsStamp(readPins());
  const have = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '(no stamp)';
  if (have !== want) throw new StackNotInstalledError(`installed "${have}", pinned "${want}"`);
  const redis = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const redisServer = redis.stdout.trim();
  if (redis.status !== 0 || redisServer === '') {
    throw new StackNotInstalledError('redis-server is not on PATH');
  }
  return { livekitServer, livekitSip, redisServer };
}

function hasSetpriv(): boolean {
  return spawnSync('setpriv', ['--help'], { stdio: 'ignore' }).status === 0;
}

// Children of stacks that are not detached, killed if this process exits without stop().
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
  });
}

interface Started {
  name: StackProcessInfo['name'];
  child: ChildProcess;
  logFile: string;
  exited: Promise<void>;
  stopSignal: NodeJS.Signals;
}

function startProcess(
  name: StackProcessInfo['name'],
  command: string,
  args: readonly string[],
  logFile: string,
  detached: boolean,
  stopSignal: NodeJS.Signals,
): Started {
  // Output goes straight to the file: no pipe to drain, and it survives a detached parent.
  const fd = openSync(logFile, 'a');
  const wrapped = !detached && hasSetpriv();
  const child = spawn(wrapped ? 'setpriv' : command, wrapped ? ['--pdeathsig', 'KILL', '--', command, ...args] : [...args], {
    stdio: ['ignore', fd, fd],
    detached,
    cwd: join(logFile, '..'),
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => {
      liveChildren.delete(child);
      resolve();
    });
    child.once('error', () => resolve());
  });
  if (detached) child.unref();
  else {
    liveChildren.add(child);
    installExitHook();
  }
  return { name, child, logFile, exited, stopSignal };
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitUntil(
  proc: Started,
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedEarly = false;
  void proc.exited.then(() => {
    exitedEarly = true;
  });
  while (Date.now() < deadline) {
    if (exitedEarly) break;
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  const reason = exitedEarly
    ? `exited (code ${String(proc.child.exitCode)}, signal ${String(proc.child.signalCode)})`
    : `not ${what} after ${timeoutMs} ms`;
  throw new StackStartError(`${proc.name} ${reason}; log ${proc.logFile}:\n${tail(proc.logFile)}`);
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
  });
}

async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
  return response.ok;
}

/** Sends SIP OPTIONS over UDP and waits for a 200 — the same path a phone's INVITE takes. */
export function sipOptionsPing(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => finish(false), timeoutMs);
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    socket.once('error', () => finish(false));
    socket.on('message', (message) => {
      if (/^SIP\/2\.0 200/.test(message.toString('latin1'))) finish(true);
    });
    socket.bind({ address: '127.0.0.1', port: 0 }, () => {
      const local = socket.address().port;
      const id = randomBytes(8).toString('hex');
      const request = [
        `OPTIONS sip:${host}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${id};rport`,
        'Max-Forwards: 70',
        `From: <sip:healthcheck@127.0.0.1>;tag=${id}`,
        `To: <sip:${host}:${port}>`,
        `Call-ID: ${id}@127.0.0.1`,
        'CSeq: 1 OPTIONS',
        `Contact: <sip:healthcheck@127.0.0.1:${local}>`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      socket.send(request, port, host);
    });
  });
}

async function stopProcess(proc: Started, graceMs: number): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill(proc.stopSignal);
  const stopped = await Promise.race([proc.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!stopped) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
}

const runsDir = join(repoRoot, '.stack', 'runs');

function defaultRunDir(): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join(runsDir, `${stamp}-${process.pid}-${randomBytes(3).toString('hex')}`);
}

/** Keeps .stack/runs from growing forever: drops run folders older than a day beyond the newest 50. */
function pruneOldRuns(): void {
  if (!existsSync(runsDir)) return;
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  const runs = readdirSync(runsDir)
    .map((name) => ({ path: join(runsDir, name), mtime: statSync(join(runsDir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const run of runs.slice(50)) {
    if (run.mtime < dayAgo) rmSync(run.path, { recursive: true, force: true });
  }
}

/** Starts Redis, livekit-server and livekit-sip on loopback and waits until each is healthy. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const pins = readPins();
  const bins = resolveBinaries(options.binDir);
  const detached = options.detached ?? false;
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const logLevel = options.logLevel ?? 'info';
  if (options.runDir === undefined) pruneOldRuns();
  const runDir = options.runDir ?? defaultRunDir();
  mkdirSync(runDir, { recursive: true });

  const redisPort = options.redisPort ?? (await freeTcpPort());
  const httpPort = options.httpPort ?? (await freeTcpPort());
  const rtcUdpPort = options.rtcUdpPort ?? (await freeUdpPort());
  const sipPort = options.sipPort ?? (await freeUdpTcpPort());
  const rtpPortRange = options.rtpPortRange ?? (await freeRtpRange());
  const apiKey = options.apiKey ?? `APIpl${randomBytes(6).toString('hex')}`;
  const apiSecret = options.apiSecret ?? randomBytes(24).toString('base64url');
  const redisAddress = `127.0.0.1:${redisPort}`;
  const livekitUrl = `ws://127.0.0.1:${httpPort}`;
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const logFiles = {
    redis: join(runDir, 'redis.log'),
    livekit: join(runDir, 'livekit-server.log'),
    sip: join(runDir, 'livekit-sip.log'),
  };

  const livekitConfigFile = join(runDir, 'livekit-server.yaml');
  writeFileSync(
    livekitConfigFile,
    toYaml(
      buildLivekitServerConfig({
        httpPort,
        rtcUdpPort,
        redisAddress,
        apiKey,
        apiSecret,
        webhookUrls: options.webhookUrls ?? [],
        logLevel,
      }),
    ),
  );
  const sipConfigFile = join(runDir, 'livekit-sip.yaml');
  writeFileSync(
    sipConfigFile,
    toYaml(
      buildLivekitSipConfig({ sipPort, rtpPortRange, livekitWsUrl: livekitUrl, redisAddress, apiKey, apiSecret, logLevel }),
    ),
  );

  const started: Started[] = [];
  const stopAll = async (): Promise<void> => {
    // Reverse start order: sip drops its calls (SIGINT = stop now), then the server, then Redis.
    for (const proc of [...started].reverse()) await stopProcess(proc, 5000);
  };

  try {
    const redis = startProcess(
      'redis',
      bins.redisServer,
      ['--bind', '127.0.0.1', '--port', String(redisPort), '--save', '', '--appendonly', 'no', '--dir', runDir],
      logFiles.redis,
      detached,
      'SIGTERM',
    );
    started.push(redis);
    await waitUntil(redis, 'answering PING', timeoutMs, () => redisPing(redisPort));

    const livekit = startProcess('livekit', bins.livekitServer, ['--config', livekitConfigFile], logFiles.livekit, detached, 'SIGTERM');
    started.push(livekit);
    await waitUntil(livekit, 'healthy', timeoutMs, () => httpOk(`${httpUrl}/`));

    const sip = startProcess('sip', bins.livekitSip, ['--config', sipConfigFile], logFiles.sip, detached, 'SIGINT');
    started.push(sip);
    await waitUntil(sip, 'answering SIP OPTIONS', timeoutMs, () => sipOptionsPing('127.0.0.1', sipPort));
  } catch (error) {
    await stopAll();
    throw error;
  }

  const info: StackInfo = {
    livekitUrl,
    httpUrl,
    apiKey,
    apiSecret,
    redisUrl: `redis://${redisAddress}`,
    redisAddress,
    sipHost: '127.0.0.1',
    sipPort,
    sipAddress: `127.0.0.1:${sipPort}`,
    rtpPortRange,
    rtcUdpPort,
    runDir,
    logFiles,
    processes: started.map((p) => ({ name: p.name, pid: p.child.pid ?? -1, logFile: p.logFile })),
    versions: { livekitServer: pins.livekitServerVersion, livekitSip: pins.livekitSipVersion },
    startedAt: new Date().toISOString(),
  };
  let stopping: Promise<void> | undefined;
  return {
    ...info,
    sipUri: (user) => `sip:${user}@${info.sipHost}:${info.sipPort}`,
    describe: () => describeStack(info),
    stop: () => (stopping ??= stopAll()),
  };
}

/** Human-readable summary of a stack with the tail of each log. */
export function describeStack(info: StackInfo): string {
  const parts = [
    `livekit ${info.livekitUrl} (key ${info.apiKey}), sip ${info.sipHost}:${info.sipPort} rtp ${info.rtpPortRange.start}-${info.rtpPortRange.end}, redis ${info.redisUrl}`,
  ];
  for (const proc of info.processes) {
    parts.push(`--- ${proc.name} (pid ${proc.pid}) ${proc.logFile}\n${tail(proc.logFile, 15)}`);
  }
  return parts.join('\n');
}

/** Reads the state file `npm run stack:up` writes; undefined when no stack was brought up. */
export function readStackState(file = defaultStateFile): StackInfo | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as StackInfo;
}

export function writeStackState(info: StackInfo, file = defaultStateFile): void {
  writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

function processMatches(pid: number, name: StackProcessInfo['name']): boolean {
  // A pid from an old state file may have been reused by an unrelated process.
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const needle = { redis: 'redis-server', livekit: 'livekit-server', sip: 'livekit-sip' }[name];
    return cmdline.includes(needle);
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the processes recorded in a state file (SIGTERM/SIGINT, then SIGKILL after 5 s). */
export async function stopStackFromState(info: StackInfo): Promise<string[]> {
  const report: string[] = [];
  for (const proc of [...info.processes].reverse()) {
    if (!processMatches(proc.pid, proc.name)) {
      report.push(`${proc.name} (pid ${proc.pid}) not running`);
      continue;
    }
    process.kill(proc.pid, proc.name === 'sip' ? 'SIGINT' : 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (alive(proc.pid) && processMatches(proc.pid, proc.name) && Date.now() < deadline) await sleep(100);
    if (alive(proc.pid) && processMatches(proc.pid, proc.name)) {
      process.kill(proc.pid, 'SIGKILL');
      report.push(`${proc.name} (pid ${proc.pid}) killed`);
    } else {
      report.push(`${proc.name} (pid ${proc.pid}) stopped`);
    }
  }
  return report;
}
