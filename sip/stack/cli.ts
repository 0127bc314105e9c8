/**
 * `npm run stack:up` / `npm run stack:down` / `tsx sip/stack/cli.ts status`.
 *
 * `up` starts a detached stack (ports free unless given: --sip-port N --http-port N
 * --redis-port N --rtc-udp-port N --rtp-range A-B --webhook URL --log-level debug) and writes
 * `.stack/state.json` (pids, ports, URLs, keys) for `down` and for other tools.
 */
import { parseArgs } from 'node:util';
import {
  defaultStateFile,
  describeStack,
  readStackState,
  sipOptionsPing,
  startStack,
  stopStackFromState,
  writeStackState,
  type StackOptions,
} from './stack.js';

function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`--${flag} must be a port number, got ${value}`);
  return n;
}

async function isUp(file: string): Promise<boolean> {
  const state = readStackState(file);
  if (state === undefined) return false;
  return sipOptionsPing(state.sipHost, state.sipPort);
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      'sip-port': { type: 'string' },
      'http-port': { type: 'string' },
      'redis-port': { type: 'string' },
      'rtc-udp-port': { type: 'string' },
      'rtp-range': { type: 'string' },
      webhook: { type: 'string', multiple: true },
      'log-level': { type: 'string' },
      state: { type: 'string' },
    },
  });
  const command = positionals[0] ?? 'status';
  const stateFile = values.state ?? defaultStateFile;

  if (command === 'up') {
    if (await isUp(stateFile)) {
      console.log(`stack already up (${stateFile}); run \`npm run stack:down\` first`);
      return 0;
    }
    const options: StackOptions = { detached: true };
    const sipPort = positiveInt('sip-port', values['sip-port']);
    if (sipPort !== undefined) options.sipPort = sipPort;
    const httpPort = positiveInt('http-port', values['http-port']);
    if (httpPort !== undefined) options.httpPort = httpPort;
    const redisPort = positiveInt('redis-port', values['redis-port']);
    if (redisPort !== undefined) options.redisPort = redisPort;
    const rtcUdpPort = positiveInt('rtc-udp-port', values['rtc-udp-port']);
    if (rtcUdpPort !== undefined) options.rtcUdpPort = rtcUdpPort;
    if (values['rtp-range'] !== undefined) {
      const [start, end] = values['rtp-range'].split('-').map((v) => positiveInt('rtp-range', v));
      if (start === undefined || end === undefined || end <= start) throw new Error('--rtp-range must look like 20000-20100');
      options.rtpPortRange = { start, end };
    }
    if (values.webhook !== undefined) options.webhookUrls = values.webhook;
    const level = values['log-level'];
    if (level === 'debug' || level === 'info' || level === 'warn') options.logLevel = level;
    const stack = await startStack(options);
    const { stop: _stop, sipUri: _sipUri, describe: _describe, ...info } = stack;
    writeStackState(info, stateFile);
    console.log(
      [
        'stack up: redis, livekit-server and livekit-sip are healthy',
        `  LIVEKIT_URL=${info.livekitUrl}`,
        `  LIVEKIT_API_KEY=${info.apiKey}`,
        `  LIVEKIT_API_SECRET=${info.apiSecret}`,
        `  SIP: ${info.sipHost}:${info.sipPort} (udp+tcp), RTP ${info.rtpPortRange.start}-${info.rtpPortRange.end}`,
        `  REDIS: ${info.redisUrl}`,
        `  logs: ${info.runDir}`,
        `  state: ${stateFile}`,
      ].join('\n'),
    );
    return 0;
  }

  if (command === 'down') {
    const state = readStackState(stateFile);
    if (state === undefined) {
      console.log('no stack state file; nothing to stop');
      return 0;
    }
    for (const line of await stopStackFromState(state)) console.log(line);
    const { rmSync } = await import('node:fs');
    rmSync(stateFile, { force: true });
    return 0;
  }

  if (command === 'status') {
    const state = readStackState(stateFile);
    if (state === undefined) {
      console.log('no stack (run `npm run stack:up`)');
      return 1;
    }
    const up = await isUp(stateFile);
    console.log(`${up ? 'UP' : 'DOWN'}\n${describeStack(state)}`);
    return up ? 0 : 1;
  }

  console.error(`unknown command ${command}; use up | down | status`);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
