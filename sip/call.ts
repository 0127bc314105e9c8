/**
 * `npm run call -- --pin NNNN` — a practice call from the terminal, without a phone: dials the
 * local livekit-sip (or LIVEKIT_SIP_HOST) on the direct trunk with the same SIP phone the tests
 * use, keys the PIN as RFC 4733 DTMF once the persona has asked for it, then
 *   - with sox's `rec`/`play` on the PATH: your microphone and speaker, until either side hangs up
 *     (Ctrl-C hangs up);
 *   - otherwise, or with --wav-in: plays the WAV file, then listens for --listen seconds.
 * What the persona said is saved to --wav-out (default practice-call-<time>.wav) in both modes.
 *
 * Needs: the stack (`npm run stack:up`, or LIVEKIT_* in the environment), the direct trunk
 * (`npm run sip:provision -- --no-twilio --direct-number +15550009999 --allow-open-trunk`), the dispatch service and
 * the agent worker running with real keys. The trunk's number and credentials are read from
 * LiveKit (trunk `practice-line-direct`); the caller ID defaults to the demo rep Riley.
 *
 *   --pin 123456        the assignment PIN (required)
 *   --from +1555…       caller ID (default +15550100001)
 *   --number +1555…     called number (default: the direct trunk's first number)
 *   --trunk NAME        inbound trunk to read number/credentials from (default practice-line-direct)
 *   --wav-in FILE       speak this WAV instead of the microphone
 *   --wav-out FILE      where to save what you heard
 *   --listen SECONDS    WAV mode: how long to keep listening after the WAV (default 20)
 *   --max SECONDS       hang up after this long in any mode (default 900)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { SipClient } from 'livekit-server-sdk';
import { loadConfig } from '../src/config.js';
import { createSipPhone, phoneSampleRate, type PhoneCall } from './phone/phone.js';
import { readStackState } from './stack/stack.js';

const say = (message: string): void => {
  process.stderr.write(`call: ${message}\n`);
};

const onPath = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for the persona's first words and the pause after them (the PIN prompt), at most `timeoutMs`. */
async function waitForPrompt(call: PhoneCall, timeoutMs: number): Promise<boolean> {
  const deadline = call.now() + timeoutMs;
  try {
    await call.waitForVoice({ afterMs: 0, timeoutMs });
  } catch {
    return false;
  }
  while (call.now() < deadline && call.isActive()) {
    const last = call.voicedSegments().at(-1);
    if (last !== undefined && call.now() - last.endMs >= 800) return true;
    await sleep(100);
  }
  return true;
}

/** Pipes the microphone into the call and the call into the speaker through sox, until the call ends. */
async function soxAudio(call: PhoneCall): Promise<void> {
  const raw = ['-q', '-t', 'raw', '-r', String(phoneSampleRate), '-e', 'signed', '-b', '16', '-c', '1'];
  const mic: ChildProcess = spawn('rec', [...raw, '-'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const speaker: ChildProcess = spawn('play', [...raw, '-'], { stdio: ['pipe', 'ignore', 'inherit'] });
  let pending = Buffer.alloc(0);
  mic.stdout?.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    const whole = pending.length - (pending.length % 320); // 20 ms frames
    if (whole === 0) return;
    const frame = pending.subarray(0, whole);
    pending = pending.subarray(whole);
    const samples = new Int16Array(frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.length));
    void call.playPcm(samples, 'mic');
  });
  let played = 0;
  const pump = setInterval(() => {
    const heard = call.recording();
    if (heard.length > played) {
      speaker.stdin?.write(Buffer.from(heard.buffer, heard.byteOffset + played * 2, (heard.length - played) * 2));
      played = heard.length;
    }
  }, 60);
  const micFailed = new Promise<void>((resolve) => mic.on('exit', (code) => {
    if (code !== 0 && call.isActive()) say(`the microphone (sox rec) stopped with code ${code}; use --wav-in FILE instead`);
    resolve();
  }));
  await Promise.race([call.ended, micFailed]);
  clearInterval(pump);
  mic.kill('SIGTERM');
  speaker.stdin?.end();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pin: { type: 'string' },
      from: { type: 'string', default: '+15550100001' },
      number: { type: 'string' },
      trunk: { type: 'string', default: 'practice-line-direct' },
      'wav-in': { type: 'string' },
      'wav-out': { type: 'string' },
      listen: { type: 'string', default: '20' },
      max: { type: 'string', default: '900' },
    },
  });
  if (values.pin === undefined || !/^\d{4,12}$/.test(values.pin)) throw new Error('pass the assignment PIN: npm run call -- --pin 123456');
  const config = loadConfig();
  const state = readStackState();
  const useEnv = config.LIVEKIT_URL !== undefined && config.LIVEKIT_API_KEY !== undefined && config.LIVEKIT_API_SECRET !== undefined;
  const server = useEnv
    ? { url: config.LIVEKIT_URL!, apiKey: config.LIVEKIT_API_KEY!, apiSecret: config.LIVEKIT_API_SECRET! }
    : state !== undefined
      ? { url: state.httpUrl, apiKey: state.apiKey, apiSecret: state.apiSecret }
      : undefined;
  if (server === undefined) throw new Error('no LiveKit: run `npm run stack:up`, or set LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET');
  const sipHost = (useEnv ? config.LIVEKIT_SIP_HOST : undefined) ?? state?.sipAddress ?? config.LIVEKIT_SIP_HOST;
  if (sipHost === undefined) throw new Error('no SIP host: set LIVEKIT_SIP_HOST (host:port of livekit-sip)');

  const sip = new SipClient(server.url.replace(/^ws(s?):\/\//, 'http$1://'), server.apiKey, server.apiSecret);
  const trunk = (await sip.listSipInboundTrunk()).find((t) => t.name === values.trunk);
  if (trunk === undefined) {
    throw new Error(`no inbound trunk "${values.trunk}" on ${server.url}: run npm run sip:provision -- --no-twilio --direct-number +15550009999 --allow-open-trunk`);
  }
  const number = values.number ?? trunk.numbers[0];
  if (number === undefined) throw new Error(`trunk "${values.trunk}" has no numbers; pass --number`);

  const wavOut = values['wav-out'] ?? `practice-call-${new Date().toISOString().replace(/[:.]/g, '-')}.wav`;
  const useSox = values['wav-in'] === undefined && onPath('rec') && onPath('play');
  if (!useSox && values['wav-in'] === undefined) say('sox (rec/play) not found and no --wav-in: the persona will hear silence');

  const phone = await createSipPhone({ from: values.from });
  const uri = `sip:${number}@${sipHost}`;
  say(`dialling ${uri} from ${values.from}`);
  const call = await phone.dial(uri, {
    answerTimeoutMs: 60_000,
    ...(trunk.authUsername !== '' ? { auth: { username: trunk.authUsername, password: trunk.authPassword } } : {}),
  });
  say(`connected in ${Math.round(call.answeredAtMs)} ms`);
  const hangUp = async () => {
    if (call.isActive()) await call.hangup();
  };
  process.once('SIGINT', () => {
    say('hanging up');
    void hangUp();
  });
  const maxTimer = setTimeout(() => void hangUp(), Number(values.max) * 1000);

  const prompted = await waitForPrompt(call, 15_000);
  say(prompted ? 'heard the prompt; keying the PIN' : 'no prompt heard within 15 s; keying the PIN anyway');
  // The PIN is never printed.
  await call.sendDtmf(`${values.pin}#`);

  if (useSox) {
    say('talk now (microphone and speaker through sox); Ctrl-C hangs up');
    await soxAudio(call);
  } else {
    if (values['wav-in'] !== undefined) {
      // Let the persona react to the PIN before speaking.
      await waitForPrompt(call, 10_000);
      say(`speaking ${values['wav-in']}`);
      await call.playWav(values['wav-in']);
    }
    say(`listening for ${values.listen} s`);
    await Promise.race([call.ended, sleep(Number(values.listen) * 1000)]);
  }
  clearTimeout(maxTimer);
  const end = call.isActive() ? (await hangUp(), 'you hung up') : `${(await call.ended).by === 'remote' ? 'the persona' : 'you'} hung up`;
  call.saveRecording(wavOut);
  say(`${end} after ${Math.round((call.now() - call.answeredAtMs) / 1000)} s; heard ${call.voicedSegments().length} stretch(es) of speech, saved to ${wavOut}`);
  await phone.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    say(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
