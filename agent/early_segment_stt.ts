// Whisper segmented by the VAD, as agents-js's `stt.StreamAdapter` does it (decision 011), but each
// segment's request leaves before the segment has ended (AGENT_STT_EARLY_REQUEST_MS).
//
// Two Silero streams hear the same audio. The segment VAD is the one StreamAdapter would use
// (AGENT_STT_SEGMENT_SILENCE_MS, 200 ms): its events alone decide the segments and what is emitted,
// in StreamAdapter's order (START_OF_SPEECH at its start of speech; at its end of speech
// END_OF_SPEECH with the same speechEndTime, then the FINAL_TRANSCRIPT unless the text is empty; one
// segment at a time). The early VAD (e.g. 120 ms) only says "the caller has paused": the audio of
// the open segment so far is sent to Whisper at once, and nothing is emitted. If the segment VAD
// then ends the segment with nothing but silence since that pause, that request's answer is the
// FINAL (up to 80 ms sooner, plus whatever of the request had already run); if speech resumed, the
// request is aborted or ignored and the segment goes on. A segment whose early request was not
// usable is sent whole when it ends, exactly as StreamAdapter would.
//
// The segment audio is rebuilt from the segment VAD's own events (its start-of-speech frame holds
// the prefix padding and the onset; each later inference event holds the window it consumed), keyed
// by the VAD's window timestamp, so a segment with a short pause in it goes to Whisper once, whole,
// with no audio twice (the early VAD's frames would overlap: its padding reaches back over the pause).
//
// Written by hand because agents-js 1.9 does not offer it: StreamAdapterWrapper asks Whisper only
// on its VAD's END_OF_SPEECH, and its loop and VAD stream are private, so it cannot be told to ask
// earlier. What is reused: the VAD streams, `STT.recognize` (request, metrics), `SpeechStream`
// (input, output, retries, close). Ours is the segment buffer and which request answers a segment.
// The STT class below repeats StreamAdapter's forwarding (capabilities, metrics, errors, keyterms);
// StreamAdapter itself cannot be extended for this, its `stream()` returns its own private class.
import { type APIConnectOptions, type AudioBuffer, isStreamClosedError, log, stt, type VAD, type VADEvent, VADEventType, type VADStream } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';

type SpeechEvent = stt.SpeechEvent;

export interface EarlySegmentVads {
  /** Ends the segments: the VAD a plain StreamAdapter would be given. */
  segment: VAD;
  /** Same model and thresholds with a shorter silence: its end of speech sends the request early. */
  early: VAD;
}

export class EarlySegmentSTT extends stt.STT {
  readonly label: string;

  constructor(
    private readonly inner: stt.STT,
    private readonly vads: EarlySegmentVads,
  ) {
    super({ streaming: true, interimResults: false, keyterms: inner.capabilities.keyterms ?? false, chatContext: inner.capabilities.chatContext ?? false });
    this.label = `EarlySegmentSTT<${inner.label}>`;
    inner.on('metrics_collected', (metrics) => this.emit('metrics_collected', metrics));
    inner.on('error', (error) => this.emit('error', error));
  }

  protected _recognize(frame: AudioBuffer, abortSignal?: AbortSignal): Promise<SpeechEvent> {
    return this.inner.recognize(frame, abortSignal);
  }

  override _updateSessionKeyterms(keyterms: string[]): void {
    this.inner._updateSessionKeyterms(keyterms);
  }

  override _pushConversationItem(event: Parameters<stt.STT['_pushConversationItem']>[0]): void {
    this.inner._pushConversationItem(event);
  }

  stream(options?: { connOptions?: APIConnectOptions }): EarlySegmentStream {
    return new EarlySegmentStream(this.inner, this.vads, options?.connOptions);
  }
}

/** A place in a VAD stream: its window timestamp (ms of audio), and how many flushes reset it before. */
interface Position {
  epoch: number;
  ts: number;
}

const isAfter = (a: Position, b: Position) => a.epoch > b.epoch || (a.epoch === b.epoch && a.ts > b.ts);

/** The segment VAD's open segment: its audio so far, one frame per VAD window. */
interface Segment {
  epoch: number;
  startTs: number;
  /** The first is the start-of-speech frame (padding + onset, up to startTs); then one per window. */
  chunks: { ts: number; frame: AudioFrame }[];
}

interface EarlyRequest {
  segment: Segment;
  /** The early VAD's end-of-speech window: the audio sent ends there. */
  ts: number;
  samples: number;
  controller: AbortController;
  result: Promise<{ event: SpeechEvent } | { error: unknown }>;
}

/** What the early VAD reported, applied once the segment VAD has heard the same window. */
interface EarlyMark extends Position {
  kind: 'paused' | 'resumed';
}

const copyOf = (frame: AudioFrame) => new AudioFrame(frame.data.slice(0, frame.samplesPerChannel * frame.channels), frame.sampleRate, frame.channels, frame.samplesPerChannel);
const samplesIn = (frames: readonly AudioFrame[]) => frames.reduce((total, frame) => total + frame.samplesPerChannel, 0);

/**
 * One frame of the first `samples` samples (all by default). agents-js's mergeFrames re-copies what it
 * has merged so far for every frame added, quadratic in a segment of hundreds of VAD windows.
 */
function joined(frames: readonly AudioFrame[], samples = samplesIn(frames)): AudioFrame {
  const { sampleRate, channels } = frames[0]!;
  const data = new Int16Array(samples * channels);
  let offset = 0;
  for (const frame of frames) {
    if (offset >= data.length) break;
    const part = frame.data.subarray(0, Math.min(frame.samplesPerChannel * channels, data.length - offset));
    data.set(part, offset);
    offset += part.length;
  }
  return new AudioFrame(data, sampleRate, channels, samples);
}

export class EarlySegmentStream extends stt.SpeechStream {
  readonly label: string;
  readonly #inner: stt.STT;
  readonly #segmentVad: VADStream;
  readonly #earlyVad: VADStream;
  #vadsClosed = false;
  #segmentAt: Position = { epoch: 0, ts: -1 };
  #earlyAt: Position = { epoch: 0, ts: -1 };
  #segment: Segment | undefined;
  #early: EarlyRequest | undefined;
  #marks: EarlyMark[] = [];
  /** Emission, one segment after another as StreamAdapter does (it awaits each request in its loop). */
  #emitting: Promise<void> = Promise.resolve();

  constructor(inner: stt.STT, vads: EarlySegmentVads, connOptions?: APIConnectOptions) {
    super(inner, undefined, connOptions);
    this.#inner = inner;
    this.#segmentVad = vads.segment.stream();
    this.#earlyVad = vads.early.stream();
    this.label = `EarlySegmentStream<${inner.label}>`;
  }

  override close(): void {
    super.close();
    if (this.#vadsClosed) return;
    this.#vadsClosed = true;
    this.#segmentVad.close();
    this.#earlyVad.close();
    this.#dropEarly();
  }

  /** Events go straight to the output, as in StreamAdapterWrapper. */
  protected override async monitorMetrics(): Promise<void> {
    return;
  }

  protected async run(): Promise<void> {
    await Promise.all([this.#forwardInput(), this.#followSegments(), this.#followEarly()]);
    await this.#emitting;
  }

  async #forwardInput(): Promise<void> {
    for await (const input of this.input) {
      if (this.#vadsClosed) break;
      for (const vad of [this.#segmentVad, this.#earlyVad]) {
        if (input === stt.SpeechStream.FLUSH_SENTINEL) vad.flush();
        else vad.pushFrame(input);
      }
    }
    for (const vad of [this.#segmentVad, this.#earlyVad]) {
      try {
        vad.endInput();
      } catch (error) {
        // close() during a hand-over closes the VADs first, as with StreamAdapterWrapper.
        if (!isStreamClosedError(error)) throw error;
      }
    }
  }

  async #followSegments(): Promise<void> {
    for await (const event of this.#segmentVad) {
      switch (event.type) {
        case VADEventType.INFERENCE_DONE:
          // A flush resets the VAD, and its clock with it: the open segment is gone (no END_OF_SPEECH).
          if (event.timestamp <= this.#segmentAt.ts) {
            this.#segmentAt = { epoch: this.#segmentAt.epoch + 1, ts: event.timestamp };
            this.#segment = undefined;
            this.#dropEarly();
          } else this.#segmentAt = { epoch: this.#segmentAt.epoch, ts: event.timestamp };
          if (this.#segment && event.frames[0]) this.#segment.chunks.push({ ts: event.timestamp, frame: copyOf(event.frames[0]) });
          this.#applyMarks();
          break;
        case VADEventType.START_OF_SPEECH:
          this.#segment = { epoch: this.#segmentAt.epoch, startTs: event.timestamp, chunks: event.frames[0] ? [{ ts: event.timestamp, frame: copyOf(event.frames[0]) }] : [] };
          this.#emit(async () => this.#put({ type: stt.SpeechEventType.START_OF_SPEECH }));
          break;
        case VADEventType.END_OF_SPEECH:
          this.#endSegment(event);
          break;
      }
    }
  }

  async #followEarly(): Promise<void> {
    for await (const event of this.#earlyVad) {
      switch (event.type) {
        case VADEventType.INFERENCE_DONE:
          this.#earlyAt = { epoch: this.#earlyAt.epoch + (event.timestamp <= this.#earlyAt.ts ? 1 : 0), ts: event.timestamp };
          break;
        case VADEventType.START_OF_SPEECH:
          this.#marks.push({ kind: 'resumed', ...this.#earlyAt });
          this.#applyMarks();
          break;
        case VADEventType.END_OF_SPEECH:
          this.#marks.push({ kind: 'paused', ...this.#earlyAt });
          this.#applyMarks();
          break;
      }
    }
  }

  /** Early VAD events up to the window the segment VAD has reached, in order: the two streams run apart. */
  #applyMarks(): void {
    while (this.#marks[0] !== undefined && !isAfter(this.#marks[0], this.#segmentAt)) {
      const mark = this.#marks.shift()!;
      const segment = this.#segment;
      if (segment === undefined || segment.epoch !== mark.epoch || segment.startTs > mark.ts) continue;
      // Speech again inside the same segment: what was sent at the pause is not the segment.
      this.#dropEarly();
      if (mark.kind === 'paused') this.#requestEarly(segment, mark.ts);
    }
  }

  #requestEarly(segment: Segment, ts: number): void {
    const frames = segment.chunks.filter((chunk) => chunk.ts <= ts).map((chunk) => chunk.frame);
    if (frames.length === 0) return;
    const audio = joined(frames);
    const controller = new AbortController();
    // Aborted when speech resumes, and when the stream closes (even once it answers the segment).
    const onClose = () => controller.abort();
    this.abortSignal.addEventListener('abort', onClose, { once: true });
    const result = this.#inner
      .recognize(audio, controller.signal)
      .then(
        (event) => ({ event }),
        (error: unknown) => ({ error }),
      )
      .finally(() => this.abortSignal.removeEventListener('abort', onClose));
    this.#early = { segment, ts, samples: audio.samplesPerChannel, controller, result };
  }

  #dropEarly(): void {
    this.#early?.controller.abort();
    this.#early = undefined;
  }

  #endSegment(event: VADEvent): void {
    const speechEndTime = Date.now() - event.silenceDuration - event.inferenceDuration;
    const segment = this.#segment;
    this.#segment = undefined;
    const vadFrame = event.frames[0];
    const length = vadFrame?.samplesPerChannel ?? 0;
    const chunks = segment?.chunks.map((chunk) => chunk.frame) ?? [];
    // The VAD's own frame has as many samples (fewer once it stops buffering, maxBufferedSpeech).
    // Only if ours came up short, e.g. a start of speech never seen, is the VAD's frame sent instead.
    let audio: AudioFrame | undefined;
    if (chunks.length > 0 && samplesIn(chunks) >= length) audio = joined(chunks, length);
    else if (vadFrame) audio = copyOf(vadFrame);
    const early = this.#early;
    // Usable only if nothing but silence followed the pause it was sent at: the segment VAD's
    // closing silence covers every window after it.
    const usable = early !== undefined && segment !== undefined && early.segment === segment && !early.controller.signal.aborted && event.timestamp - early.ts <= event.silenceDuration && early.samples <= length;
    if (usable) this.#early = undefined;
    else this.#dropEarly();
    this.#emit(async () => {
      this.#put({ type: stt.SpeechEventType.END_OF_SPEECH, speechEndTime });
      const transcript = await this.#transcript(usable ? early : undefined, audio);
      if (!transcript?.alternatives?.[0].text) return;
      this.#put({ ...transcript, speechEndTime: transcript.speechEndTime ?? speechEndTime });
    });
  }

  async #transcript(early: EarlyRequest | undefined, audio: AudioFrame | undefined): Promise<SpeechEvent | undefined> {
    if (early) {
      const settled = await early.result;
      if ('event' in settled) return settled.event;
      // A failed early request: ask again with the whole segment, the request StreamAdapter makes.
    }
    if (this.abortSignal.aborted || audio === undefined || audio.samplesPerChannel === 0) return undefined;
    try {
      return await this.#inner.recognize(audio, this.abortSignal);
    } catch (error) {
      log()
        .child({ error: error instanceof Error ? error.message : error })
        .error(`${this.label}: provider recognize task failed`);
      return undefined;
    }
  }

  #emit(step: () => Promise<void>): void {
    this.#emitting = this.#emitting.then(step).catch((error: unknown) => {
      log().child({ error: error instanceof Error ? error.message : error }).error(`${this.label}: emitting a transcript failed`);
    });
  }

  #put(event: SpeechEvent): void {
    if (!this.output.closed) this.output.put(event);
  }
}
