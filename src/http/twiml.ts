// Pure TwiML builders for the Twilio webhooks (docs/architecture.md, "Layers and house style"): plain values in,
// XML out; the router only pulls fields from the request. Tests parse the XML.
import twilio from 'twilio';
import { callPrompts, MAX_PIN_TRIES } from '../domain/call_prompts.js';
import { baseLanguage, type BaseLanguage } from '../domain/languages.js';
import { PIN_LENGTH } from '../domain/pin.js';

const { VoiceResponse } = twilio.twiml;

type SayAttributes = Parameters<InstanceType<typeof VoiceResponse>['say']>[0];

/**
 * Twilio's text-to-speech voice for routing prompts, per language (Amazon Polly voices Twilio lists
 * for <Say>: https://www.twilio.com/docs/voice/twiml/say/text-speech#available-voices-and-languages);
 * a regional tag gets its region's voice where there is one. The persona speaks with its own voice later.
 */
const SAY_BY_LANGUAGE: Record<BaseLanguage, SayAttributes> = {
  en: { voice: 'Polly.Joanna', language: 'en-US' },
  es: { voice: 'Polly.Lucia', language: 'es-ES' },
  de: { voice: 'Polly.Vicki', language: 'de-DE' },
  fr: { voice: 'Polly.Lea', language: 'fr-FR' },
};
const SAY_BY_REGION: Record<string, SayAttributes> = {
  'en-GB': { voice: 'Polly.Amy', language: 'en-GB' },
  'en-AU': { voice: 'Polly.Nicole', language: 'en-AU' },
  'es-MX': { voice: 'Polly.Mia', language: 'es-MX' },
  'fr-CA': { voice: 'Polly.Chantal', language: 'fr-CA' },
};

/** The <Say> attributes for prompts in a language tag (English for anything unknown). */
export const sayAttributes = (language = 'en'): SayAttributes => SAY_BY_REGION[language] ?? SAY_BY_LANGUAGE[baseLanguage(language)];

export interface TwimlUrls {
  /** PUBLIC_BASE_URL, without a trailing slash. Absolute URLs keep Twilio's signatures predictable. */
  publicBaseUrl: string;
}

/** Seconds Twilio waits for the first digit, and between digits, before it posts what it has. */
export const GATHER_TIMEOUT_SECONDS = 8;

/**
 * The try counter and the call's STIR/SHAKEN attestation ride in the action URL, which Twilio
 * signs, so neither can be forged and no server-side session is needed.
 */
export const pinActionUrl = (urls: TwimlUrls, tryNumber: number, attested = false): string =>
  `${urls.publicBaseUrl}/twilio/pin?try=${tryNumber}${attested ? '&attested=1' : ''}`;
export const statusUrl = (urls: TwimlUrls, callId: string): string => `${urls.publicBaseUrl}/twilio/status?call=${encodeURIComponent(callId)}`;

/** Greeting (or a refusal line) plus a `<Gather>` for the PIN; `tryNumber` travels in the action URL. */
export function gatherPinTwiml(urls: TwimlUrls, input: { lead: string[]; tryNumber: number; attested?: boolean; language?: string }): string {
  const response = new VoiceResponse();
  const gather = response.gather({
    input: ['dtmf'],
    // A full PIN submits itself; a shorter extension ends with # (or the timeout).
    numDigits: PIN_LENGTH,
    finishOnKey: '#',
    timeout: GATHER_TIMEOUT_SECONDS,
    action: pinActionUrl(urls, input.tryNumber, input.attested ?? false),
    method: 'POST',
    // Silence also comes back to /twilio/pin, so it counts as a try and is answered there.
    actionOnEmptyResult: true,
  });
  const say = sayAttributes(input.language);
  for (const line of input.lead) gather.say(say, line);
  return response.toString();
}

/** After a refused try: the reason, then another `<Gather>`, or goodbye once the tries are used up. */
export function retryOrGoodbyeTwiml(urls: TwimlUrls, input: { reason: string; tryNumber: number; attested?: boolean; language?: string }): string {
  const language = input.language ?? 'en';
  const prompts = callPrompts(language);
  if (input.tryNumber >= MAX_PIN_TRIES) return sayAndHangUpTwiml([input.reason, prompts.tooManyTries], language);
  return gatherPinTwiml(urls, { lead: [input.reason, prompts.enterAgain], tryNumber: input.tryNumber + 1, attested: input.attested ?? false, language });
}

export function sayAndHangUpTwiml(lines: string[], language = 'en'): string {
  const response = new VoiceResponse();
  const say = sayAttributes(language);
  for (const line of lines) response.say(say, line);
  response.hangup();
  return response.toString();
}

export interface DialRoomInput {
  callId: string;
  roomName: string;
  /** LIVEKIT_SIP_HOST, e.g. "abc.sip.livekit.cloud" or "sip.example.com:5060". */
  sipHost: string;
  /** Digest credentials of the LiveKit inbound trunk, when it uses them. */
  sipUsername?: string;
  sipPassword?: string;
  /** The scenario's limit; Twilio's own cap sits a little above it as a safety net. */
  timeLimitSeconds: number;
}

/** Twilio's hard cap over the scenario limit: the agent wraps up first, this only stops runaways. */
export const DIAL_TIME_LIMIT_GRACE_SECONDS = 120;

/**
 * `<Dial><Sip>` into the room. The call id rides in the URI query as a custom header: it must start
 * with X- and must not start with X-Twilio (https://www.twilio.com/docs/voice/twiml/sip#custom-headers).
 */
export function sipUri(input: Pick<DialRoomInput, 'callId' | 'roomName' | 'sipHost'>): string {
  return `sip:${input.roomName}@${input.sipHost};transport=tcp?X-Practice-Call=${encodeURIComponent(input.callId)}`;
}

export function dialRoomTwiml(urls: TwimlUrls, input: DialRoomInput): string {
  const response = new VoiceResponse();
  const dial = response.dial({
    action: statusUrl(urls, input.callId),
    method: 'POST',
    answerOnBridge: true,
    timeout: 20,
    timeLimit: input.timeLimitSeconds + DIAL_TIME_LIMIT_GRACE_SECONDS,
  });
  dial.sip(
    {
      statusCallback: statusUrl(urls, input.callId),
      statusCallbackMethod: 'POST',
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      ...(input.sipUsername ? { username: input.sipUsername } : {}),
      ...(input.sipPassword ? { password: input.sipPassword } : {}),
    },
    sipUri(input),
  );
  return response.toString();
}

/** What `/twilio/status` answers: Twilio ignores it for status callbacks; for the Dial action it ends the call. */
export function hangUpTwiml(): string {
  const response = new VoiceResponse();
  response.hangup();
  return response.toString();
}
