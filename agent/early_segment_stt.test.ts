// The early STT request (agent/early_segment_stt.ts) on real audio, in-process: espeak-ng speech fed
// in real time to the real Silero VADs, Whisper through the real OpenAI plugin at the Groq emulator.
// Beside it, on the same frames, the plain StreamAdapter with the same segment VAD (decision 011):
// the wrapper must emit what it emits, only sooner. The two are told apart at the emulator by model.
import { initializeLogger, stt } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { AudioFrame } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSpeechAt } from '../test/emulators/audio.js';
import { startGroqEmulator, type GroqEmulator } from '../test/emulators/groq_emulator.js';
import type { RecordedRequest } from '../test/emulators/knobs.js';
import { sleep, waitFor } from '../test/support/wait.js';
import { EarlySegmentSTT } from './early_segment_stt.js';
import { createStt, earlyVadSettings, type ProviderSettings, type TurnSettings, vadSettings } from './session_factory.js';

const RATE = 16000;
const FRAME_MS = 20;
const SENTENCE = 'How many parcels do you send each day?';
const FIRST = 'I was thinking';
const REST = 'maybe next quarter would work better for us.';
const HESITATION = `${FIRST}, ${REST}`;
const WRAPPER_MODEL = 'whisper-large-v3-turbo';
const REFERENCE_MODEL = 'whisper-large-v3';
/** Three Silero windows of 32 ms: a 120 ms silence ends speech at the 4th silent window, 200 ms at the 7th. */
const EARLY_BY_SECONDS = 0.096;

const turns: Pick<TurnSettings, 'pipeline' | 'turnDetector' | 'endpointingMinDelayMs' | 'sttSegmentSilenceMs' | 'sttEarlyRequestMs'> = {
  pipeline: 'overlapped',
  turnDetector: 'vad',
  endpointingMinDelayMs: 700,
  sttSegmentSilenceMs: 200,
  sttEarlyRequestMs: 120,
};

let groq: GroqEmulator;
let wrapper: stt.STT;
let reference: stt.STT;

beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'silent' });
  // Clauses on, as for the agent: the first half of the hesitation alone is heard as "I was thinking".
  groq = await startGroqEmulator({ utterances: [SENTENCE, HESITATION] });
  groq.knobs.preset('published');
  const providers = (sttModel: string): ProviderSettings => ({
    groqApiKey: groq.apiKey,
    groqBaseUrl: groq.url,
    sttModel,
    elevenLabsApiKey: 'unused',
    elevenLabsBaseUrl: 'http://127.0.0.1:9',
    elevenLabsModel: 'eleven_flash_v2_5',
  });
  const segmentVad = await silero.VAD.load(vadSettings(turns));
  const earlyVad = await silero.VAD.load(earlyVadSettings(turns)!);
  wrapper = createStt(providers(WRAPPER_MODEL), 'en', segmentVad, earlyVad);
  reference = createStt(providers(REFERENCE_MODEL), 'en', segmentVad);
}, 60_000);

afterAll(async () => {
  await groq?.stop();
});

interface Heard {
  type: stt.SpeechEventType;
  text?: string;
  at: number;
}

/** Reads a stream to its end, stamping each event with when it came out. */
function listen(stream: stt.SpeechStream) {
  const events: Heard[] = [];
  const ended = (async () => {
    for await (const event of stream) {
      const text = event.alternatives?.[0].text.trim();
      events.push({ type: event.type, ...(text === undefined ? {} : { text }), at: Date.now() });
    }
  })();
  return { events, ended };
}

const { START_OF_SPEECH, END_OF_SPEECH, FINAL_TRANSCRIPT: FINAL } = stt.SpeechEventType;
const sequence = (events: readonly Heard[]) => events.map((event) => [stt.SpeechEventType[event.type], event.text]);
const named = (...steps: [stt.SpeechEventType, string?][]) => steps.map(([type, text]) => [stt.SpeechEventType[type], text]);

/** Feeds the samples to every stream in 20 ms frames, in real time, as the room does. */
async function speak(streams: readonly stt.SpeechStream[], samples: Int16Array): Promise<void> {
  const perFrame = (RATE * FRAME_MS) / 1000;
  const started = performance.now();
  for (let offset = 0, index = 0; offset < samples.length; offset += perFrame, index += 1) {
    const data = samples.slice(offset, offset + perFrame);
    const frame = new AudioFrame(data, RATE, 1, data.length);
    for (const stream of streams) stream.pushFrame(frame);
    await sleep(Math.max(0, started + (index + 1) * FRAME_MS - performance.now()));
  }
}

const silence = (ms: number) => new Int16Array((RATE * ms) / 1000);
function joined(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** espeak-ng's own leading and trailing quiet cut off (10 ms windows under -40 dBFS), so a gap is the gap. */
function voiced(samples: Int16Array): Int16Array {
  const window = RATE / 100;
  const loud = (start: number) => {
    let sum = 0;
    for (let i = start; i < start + window; i += 1) sum += (samples[i] ?? 0) ** 2;
    return 10 * Math.log10(sum / window / 32768 ** 2) > -40;
  };
  let first = 0;
  while (first + window <= samples.length && !loud(first)) first += window;
  let end = samples.length - (samples.length % window);
  while (end - window > first && !loud(end - window)) end -= window;
  return samples.subarray(first, end);
}

const transcriptions = (model: string, since: number) =>
  groq.requests.filter((request, index) => index >= since && request.endpoint === 'transcription' && (request.body as { model?: string } | undefined)?.model === model);
const outcomeOf = (request: RecordedRequest) => request.outcome as { text: string; audioSeconds: number };
const words = (text: string | undefined) => text?.toLowerCase().replace(/[^a-z ]/g, '').trim();

/** Both streams on the same audio until each has emitted its final transcript, then closed. */
async function hearBoth(samples: Int16Array) {
  const since = groq.requests.length;
  const ours = wrapper.stream();
  const theirs = reference.stream();
  const [heard, expected] = [listen(ours), listen(theirs)];
  await speak([ours, theirs], samples);
  await waitFor('both final transcripts', async () => (heard.events.some((e) => e.type === FINAL) && expected.events.some((e) => e.type === FINAL) ? true : undefined), 10_000);
  ours.close();
  theirs.close();
  await Promise.all([heard.ended, expected.ended]);
  return { heard: heard.events, expected: expected.events, ourRequests: transcriptions(WRAPPER_MODEL, since), theirRequests: transcriptions(REFERENCE_MODEL, since) };
}

describe('EarlySegmentSTT', () => {
  it('is what the session gets when an early request silence is set, and only then', () => {
    expect(wrapper).toBeInstanceOf(EarlySegmentSTT);
    expect(reference).not.toBeInstanceOf(EarlySegmentSTT);
    expect(earlyVadSettings({ ...turns, sttEarlyRequestMs: 0 })).toBeUndefined();
    expect(earlyVadSettings({ ...turns, pipeline: 'serial' })).toBeUndefined();
    expect(earlyVadSettings({ ...turns, sttEarlyRequestMs: 200 })).toBeUndefined();
    expect(earlyVadSettings(turns)).toEqual({ ...vadSettings(turns), minSilenceDuration: 120 });
  });

  it('a sentence, then silence: one final transcript, requested before the 200 ms segment end', async () => {
    const { heard, expected, ourRequests, theirRequests } = await hearBoth(joined(silence(300), (await renderSpeechAt(SENTENCE, RATE)).samples, silence(1200)));

    expect(sequence(expected)).toEqual(named([START_OF_SPEECH], [END_OF_SPEECH], [FINAL, SENTENCE]));
    expect(sequence(heard), 'the same events as StreamAdapter').toEqual(sequence(expected));
    expect(ourRequests).toHaveLength(1);
    const [ours] = ourRequests;
    const [theirs] = theirRequests;
    expect(outcomeOf(ours!).text).toBe(SENTENCE);
    // Sent before the segment VAD ended the segment; StreamAdapter sends its request only then.
    const ourEnd = heard.find((e) => e.type === END_OF_SPEECH)!;
    const theirEnd = expected.find((e) => e.type === END_OF_SPEECH)!;
    expect(ours!.receivedAt).toBeLessThan(ourEnd.at);
    expect(theirs!.receivedAt).toBeGreaterThanOrEqual(theirEnd.at);
    // The same segment from the same start, without the last three VAD windows of silence.
    expect(outcomeOf(theirs!).audioSeconds - outcomeOf(ours!).audioSeconds).toBeCloseTo(EARLY_BY_SECONDS, 3);
  });

  it('a phrase, a 150 ms pause, the rest: one request with the whole phrase; the early one for the first part is dropped', async () => {
    const first = voiced((await renderSpeechAt(FIRST, RATE)).samples);
    const rest = voiced((await renderSpeechAt(REST, RATE)).samples);
    const { heard, expected, ourRequests, theirRequests } = await hearBoth(joined(silence(300), first, silence(150), rest, silence(1200)));

    // 150 ms does not end a 200 ms segment: StreamAdapter sends the phrase once, whole.
    expect(sequence(expected)).toEqual(named([START_OF_SPEECH], [END_OF_SPEECH], [FINAL, HESITATION]));
    expect(theirRequests).toHaveLength(1);
    expect(sequence(heard), 'the same events as StreamAdapter').toEqual(sequence(expected));
    // The 120 ms VAD did pause there: its request carried the first part alone, and nothing of it came out.
    expect(ourRequests.length).toBeGreaterThanOrEqual(2);
    expect(words(outcomeOf(ourRequests[0]!).text)).toBe(words(FIRST));
    expect(heard.map((e) => words(e.text))).not.toContain(words(FIRST));
    // One request with the whole phrase: the first part, the pause and the rest, nothing twice
    // (the same audio as StreamAdapter's up to the last three windows of silence).
    const whole = ourRequests.filter((request) => outcomeOf(request).text === HESITATION);
    expect(whole).toHaveLength(1);
    expect(whole[0]).toBe(ourRequests.at(-1));
    expect(outcomeOf(theirRequests[0]!).audioSeconds - outcomeOf(whole[0]!).audioSeconds).toBeCloseTo(EARLY_BY_SECONDS, 3);
    expect(whole[0]!.receivedAt).toBeLessThan(heard.find((e) => e.type === END_OF_SPEECH)!.at);
  });

  it('closes cleanly: a request in flight is abandoned, nothing more comes out, and closing twice is harmless', async () => {
    groq.knobs.setLatency('transcription', { firstByteMs: 1500 });
    const metrics: unknown[] = [];
    const onMetrics = (m: unknown) => metrics.push(m);
    wrapper.on('metrics_collected', onMetrics);
    try {
      const since = groq.requests.length;
      const stream = wrapper.stream();
      const { events, ended } = listen(stream);
      const speaking = speak([stream], joined(silence(300), (await renderSpeechAt(SENTENCE, RATE)).samples, silence(1200)));
      const early = await waitFor('the early request', async () => transcriptions(WRAPPER_MODEL, since)[0], 15_000);
      stream.close();
      await ended;
      stream.close();
      await speaking.catch(() => undefined);
      // Past the emulator's latency: it never answered, because the client had hung up.
      await sleep(1800);
      expect(early.status).toBe(0);
      expect(transcriptions(WRAPPER_MODEL, since)).toHaveLength(1);
      expect(events.map((e) => e.type)).not.toContain(FINAL);
      expect(metrics).toEqual([]);
    } finally {
      wrapper.off('metrics_collected', onMetrics);
      groq.knobs.preset('published');
    }
  });
});
