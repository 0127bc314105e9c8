/**
 * A probe participant: joins a LiveKit room with @livekit/rtc-node, publishes a microphone
 * track (silence until told to play), records every remote audio track it hears and collects
 * DTMF events. Publishing from the start matters: livekit-sip answers a call only once
 * someone in the room publishes audio.
 *
 *   const probe = await createProbe({ url: stack.livekitUrl, apiKey, apiSecret, room: 'r1' });
 *   const sip = await probe.waitForParticipant((p) => p.kind === ParticipantKind.SIP);
 *   probe.startTone(600);                        // loops until stopTone(); or await probe.playPcm(pcm, 48000)
 *   probe.heard(sip.identity)                    // Int16Array at probe.sampleRate, from subscription on
 *   await probe.waitForDtmf('1234#')             // [{ digit, code, identity, atMs }]
 *   await probe.waitForParticipantGone(sip.identity);
 *   await probe.close();
 *
 * Times (`atMs`, `heardStartedAtMs`) are milliseconds since the probe was created.
 */
import { performance } from 'node:perf_hooks';
import {
  AudioFrame,
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
  type RemoteParticipant,
  type RemoteTrack,
} from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';
import { clamp16, readWavMono, resampleLinear } from '../../sip/phone/audio.js';

export interface ProbeOptions {
  url: string;
  apiKey: string;
  apiSecret: string;
  room: string;
  identity?: string;
  /** Rate for what the probe publishes and records; default 16 kHz (the phone is 8 kHz). */
  sampleRate?: number;
  /**
   * Native playout queue. The pump keeps it full (silence when idle), so it is also the delay
   * before anything played is sent: default 200 ms, robust on a loaded box; lower for latency.
   */
  queueMs?: number;
}

export interface ProbeDtmf {
  code: number;
  digit: string;
  identity: string;
  atMs: number;
}

export interface Probe {
  readonly room: Room;
  readonly identity: string;
  readonly sampleRate: number;
  /** Milliseconds since the probe was created. */
  now(): number;
  /** Resolves with the first remote participant matching `predicate` (already there or joining). */
  waitForParticipant(predicate: (p: RemoteParticipant) => boolean, timeoutMs?: number): Promise<RemoteParticipant>;
  waitForParticipantGone(identity: string, timeoutMs?: number): Promise<void>;
  /** Plays PCM (any rate, resampled linearly to the probe rate) after what is already queued. */
  playPcm(samples: Int16Array, sampleRate: number): Promise<void>;
  playWav(path: string): Promise<void>;
  /** A continuous sine until stopTone(); replaces queued audio. */
  startTone(frequencyHz: number, amplitude?: number): void;
  stopTone(): void;
  /** Audio received from `identity` so far, mono at `sampleRate`. */
  heard(identity: string): Int16Array;
  /** When the first frame from `identity` arrived (ms since the probe was created). */
  heardStartedAtMs(identity: string): number | undefined;
  dtmf(): readonly ProbeDtmf[];
  /** Resolves once the digits received (in order, from anyone) end with `digits`. */
  waitForDtmf(digits: string, timeoutMs?: number): Promise<ProbeDtmf[]>;
  close(): Promise<void>;
}

function waitFor<T>(
  room: Room,
  events: RoomEvent[],
  check: () => T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const first = check();
    if (first !== undefined) {
      resolve(first);
      return;
    }
    const listener = (): void => {
      const value = check();
      if (value !== undefined) {
        cleanup();
        resolve(value);
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`probe: timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      for (const event of events) room.off(event, listener);
    };
    for (const event of events) room.on(event, listener);
  });
}

export async function createProbe(options: ProbeOptions): Promise<Probe> {
  const origin = performance.now();
  const now = (): number => performance.now() - origin;
  const sampleRate = options.sampleRate ?? 16000;
  const identity = options.identity ?? `probe-${Math.random().toString(36).slice(2, 8)}`;
  const frameSamples = sampleRate / 100; // 10 ms, the frame size WebRTC audio works in

  const token = new AccessToken(options.apiKey, options.apiSecret, { identity, ttl: '1h' });
  token.addGrant({ roomJoin: true, room: options.room, canPublish: true, canSubscribe: true, canPublishData: true });
  const room = new Room();

  const recordings = new Map<string, { chunks: Int16Array[]; length: number; startedAtMs: number }>();
  const dtmfEvents: ProbeDtmf[] = [];
  const streams: AudioStream[] = [];

  room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack, _publication, participant: RemoteParticipant) => {
    if (track.kind !== TrackKind.KIND_AUDIO) return;
    const stream = new AudioStream(track, { sampleRate, numChannels: 1 });
    streams.push(stream);
    void (async () => {
      for await (const frame of stream) {
        let recording = recordings.get(participant.identity);
        if (recording === undefined) {
          recording = { chunks: [], length: 0, startedAtMs: now() };
          recordings.set(participant.identity, recording);
        }
        recording.chunks.push(new Int16Array(frame.data));
        recording.length += frame.data.length;
      }
    })().catch(() => undefined);
  });
  room.on(RoomEvent.DtmfReceived, (code: number, digit: string, participant: RemoteParticipant) => {
    dtmfEvents.push({ code, digit, identity: participant.identity, atMs: now() });
  });

  await room.connect(options.url, await token.toJwt(), { autoSubscribe: true, dynacast: false });

  const source = new AudioSource(sampleRate, 1, options.queueMs ?? 200);
  const track = LocalAudioTrack.createAudioTrack('probe-audio', source);
  const publishOptions = new TrackPublishOptions();
  publishOptions.source = TrackSource.SOURCE_MICROPHONE;
  const local = room.localParticipant;
  if (local === undefined) throw new Error('probe: no local participant after connect');
  await local.publishTrack(track, publishOptions);

  // The pump feeds 10 ms frames forever: queued audio, else a tone, else silence.
  const queue: Array<{ samples: Int16Array; offset: number; done: () => void }> = [];
  let tone: { frequencyHz: number; amplitude: number; phase: number } | undefined;
  let running = true;
  const pump = (async () => {
    while (running) {
      const data = new Int16Array(frameSamples);
      const head = queue[0];
      if (head !== undefined) {
        const take = head.samples.subarray(head.offset, head.offset + frameSamples);
        data.set(take);
        head.offset += take.length;
        if (head.offset >= head.samples.length) {
          queue.shift();
          head.done();
        }
      } else if (tone !== undefined) {
        const step = (2 * Math.PI * tone.frequencyHz) / sampleRate;
        for (let i = 0; i < frameSamples; i += 1) {
          data[i] = clamp16(tone.amplitude * 32767 * Math.sin(tone.phase));
          tone.phase += step;
        }
        tone.phase %= 2 * Math.PI;
      }
      try {
        await source.captureFrame(new AudioFrame(data, sampleRate, 1, frameSamples));
      } catch {
        return; // source closed
      }
    }
  })();

  return {
    room,
    identity,
    sampleRate,
    now,
    waitForParticipant: (predicate, timeoutMs = 30_000) =>
      waitFor(
        room,
        [RoomEvent.ParticipantConnected, RoomEvent.ParticipantAttributesChanged, RoomEvent.TrackSubscribed],
        () => [...room.remoteParticipants.values()].find(predicate),
        timeoutMs,
        'a matching participant',
      ),
    waitForParticipantGone: (gone, timeoutMs = 30_000) =>
      waitFor(room, [RoomEvent.ParticipantDisconnected], () => (room.remoteParticipants.has(gone) ? undefined : true), timeoutMs, `${gone} to leave`).then(
        () => undefined,
      ),
    playPcm: (samples, rate) =>
      new Promise<void>((resolve) => {
        queue.push({ samples: resampleLinear(samples, rate, sampleRate), offset: 0, done: resolve });
      }),
    playWav: (path) =>
      new Promise<void>((resolve) => {
        queue.push({ samples: readWavMono(path, sampleRate), offset: 0, done: resolve });
      }),
    startTone(frequencyHz, amplitude = 0.3) {
      for (const item of queue.splice(0)) item.done();
      tone = { frequencyHz, amplitude, phase: 0 };
    },
    stopTone() {
      tone = undefined;
    },
    heard(from) {
      const recording = recordings.get(from);
      if (recording === undefined) return new Int16Array(0);
      const out = new Int16Array(recording.length);
      let offset = 0;
      for (const chunk of recording.chunks) {
        out.set(chunk, offset);
        offset += chunk.length;
      }
      return out;
    },
    heardStartedAtMs: (from) => recordings.get(from)?.startedAtMs,
    dtmf: () => dtmfEvents,
    waitForDtmf: (digits, timeoutMs = 15_000) =>
      waitFor(
        room,
        [RoomEvent.DtmfReceived],
        () => (dtmfEvents.map((e) => e.digit).join('').endsWith(digits) ? [...dtmfEvents] : undefined),
        timeoutMs,
        `DTMF ${digits} (got "${dtmfEvents.map((e) => e.digit).join('')}")`,
      ),
    async close() {
      running = false;
      for (const item of queue.splice(0)) item.done();
      await room.disconnect().catch(() => undefined);
      await source.close().catch(() => undefined);
      await pump;
      for (const stream of streams) await stream.cancel().catch(() => undefined);
    },
  };
}
