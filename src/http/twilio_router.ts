// Twilio Programmable Voice webhooks (docs/architecture.md, "One call, end to end"): urlencoded, signed.
// Handlers pull fields out of the request and hand them to the use cases and the pure TwiML
// builders. The client is a phone: bad input re-prompts, and even our own failures answer with a
// spoken line and a hang-up rather than an HTTP error Twilio would read out as "an application error".
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../adapters/logger.js';
import { type AgentAvailability, nowOf } from '../app/ports.js';
import { recordCallEvent } from '../app/record_call_event.js';
import { routeTwilioCall, type CallRoutingDeps, type RouteOutcome } from '../app/resolve_call.js';
import { callPrompts, lineLanguage, type LineLanguages, lockedOutLine, MAX_PIN_TRIES, refusalLine } from '../domain/call_prompts.js';
import type { CallEvent } from '../domain/call_state.js';
import { isFullAttestation } from '../domain/lockout.js';
import {
  dialRoomTwiml,
  gatherPinTwiml,
  hangUpTwiml,
  retryOrGoodbyeTwiml,
  sayAndHangUpTwiml,
  type TwimlUrls,
} from './twiml.js';
import type { VerifyTwilioSignature } from './verifiers.js';

export interface TwilioSipTarget {
  host: string;
  username?: string;
  password?: string;
}

export interface TwilioRouterDeps {
  publicBaseUrl: string;
  /** From TWILIO_AUTH_TOKEN; without it no request can be verified, so every call hears the "not configured" line. */
  verifySignature: VerifyTwilioSignature | null;
  /** Null when LiveKit (or its SIP host) is not configured. */
  routing: CallRoutingDeps | null;
  sip: TwilioSipTarget | null;
  /** Asked before a caller keys a PIN; null when not configured (then every call is routed). */
  agentAvailability?: AgentAvailability | null;
  /** LINE_LANGUAGES: the language each called number's prompts speak before a scenario is known (decision 017). */
  lineLanguages?: LineLanguages;
  logger: Logger;
  /** False once shutdown has begun: new calls hear "call again in a minute" instead of being dispatched. */
  acceptingCalls?: () => boolean;
}

const sendTwiml = (res: Response, xml: string) => res.status(200).type('text/xml').send(xml);

/** Mirrors twilio's `webhook()` middleware: no signature -> 400, a wrong one -> 403. */
function verifyTwilioSignature(deps: TwilioRouterDeps, verifySignature: VerifyTwilioSignature) {
  return (req: Request, res: Response, next: NextFunction) => {
    const signature = req.header('X-Twilio-Signature');
    if (!signature) {
      deps.logger.warn({ path: req.path }, 'twilio webhook without a signature');
      res.status(400).type('text/plain').send('No signature header error - X-Twilio-Signature header does not exist.');
      return;
    }
    const url = `${deps.publicBaseUrl}${req.originalUrl}`;
    const params = (req.body ?? {}) as Record<string, unknown>;
    if (!verifySignature(signature, url, params)) {
      deps.logger.warn({ path: req.path }, 'twilio webhook with an invalid signature');
      res.status(403).type('text/plain').send('Twilio Request Validation Failed.');
      return;
    }
    next();
  };
}

const field = (req: Request, name: string): string | null => {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
};

/** The try counter travels in the Gather action URL, which Twilio signs, so it cannot be forged. */
function tryNumberOf(req: Request): number {
  const parsed = Number.parseInt(String(req.query.try ?? '1'), 10);
  return Number.isFinite(parsed) ? Math.min(Math.max(parsed, 1), MAX_PIN_TRIES) : 1;
}

/** Twilio status (CallStatus of a leg, or DialCallStatus of the Dial action) -> a call event. */
export function twilioStatusEvent(status: string, at: Date, isDialAction: boolean): CallEvent | null {
  switch (status) {
    case 'ringing':
      return { type: 'ringing', at };
    case 'in-progress':
    case 'answered':
      // The Dial action reports "answered" once the bridged call is over.
      return isDialAction ? { type: 'ended', at, reason: 'dial_completed' } : { type: 'answered', at };
    case 'completed':
      return { type: 'ended', at, reason: isDialAction ? 'dial_completed' : 'twilio_completed' };
    case 'canceled':
      return { type: 'ended', at, reason: 'caller_hung_up' };
    case 'busy':
    case 'failed':
    case 'no-answer':
      return { type: 'failed', at, reason: `twilio_${status.replace('-', '_')}` };
    default:
      // queued, initiated: nothing to record yet.
      return null;
  }
}

export function makeTwilioRouter(deps: TwilioRouterDeps): Router {
  const router = Router();
  const urls: TwimlUrls = { publicBaseUrl: deps.publicBaseUrl };
  const now = () => nowOf(deps.routing ?? {});
  /** The called line's language; a scenario the attempt names speaks its own (RouteOutcome.scenarioLanguage). */
  const languageOf = (req: Request) => lineLanguage(deps.lineLanguages, field(req, 'To'));
  const body = express.urlencoded({ extended: false, limit: '64kb' });

  if (!deps.verifySignature) {
    // Safe to answer unverified: the reply says only that the line is not set up, and nothing is resolved.
    router.post(['/twilio/voice', '/twilio/pin', '/twilio/status'], body, (req, res) => {
      deps.logger.warn({ path: req.path, missing: ['TWILIO_AUTH_TOKEN'] }, 'twilio webhook but twilio is not configured');
      const language = languageOf(req);
      sendTwiml(res, sayAndHangUpTwiml([callPrompts(language).notConfigured], language));
    });
    return router;
  }

  const verify = verifyTwilioSignature(deps, deps.verifySignature);

  const answer = (res: Response, outcome: RouteOutcome, call: { tryNumber: number; firstContact: boolean; attested: boolean; lineLanguage: string }) => {
    const routing = deps.routing!;
    const { tryNumber, firstContact, attested } = call;
    const language = (outcome.kind === 'refused' || outcome.kind === 'locked_out' ? outcome.scenarioLanguage : undefined) ?? call.lineLanguage;
    const prompts = callPrompts(language);
    switch (outcome.kind) {
      case 'connected':
        return sendTwiml(
          res,
          dialRoomTwiml(urls, {
            callId: outcome.callId,
            roomName: outcome.roomName,
            sipHost: deps.sip!.host,
            ...(deps.sip!.username ? { sipUsername: deps.sip!.username } : {}),
            ...(deps.sip!.password ? { sipPassword: deps.sip!.password } : {}),
            timeLimitSeconds: outcome.metadata.scenario.timeLimitSeconds,
          }),
        );
      case 'locked_out':
        return sendTwiml(res, sayAndHangUpTwiml([lockedOutLine(outcome.until, nowOf(routing), language)], language));
      case 'unavailable':
        return sendTwiml(res, sayAndHangUpTwiml([prompts.unavailable], language));
      case 'refused':
        if (firstContact) {
          const failure = outcome.failure;
          const lead =
            failure.kind === 'no_digits'
              ? [prompts.greeting]
              : 'via' in failure && failure.via === 'direct_line'
                ? [refusalLine(failure, language)]
                : [refusalLine(failure, language), prompts.enterAgain];
          return sendTwiml(res, gatherPinTwiml(urls, { lead, tryNumber: 1, attested, language }));
        }
        return sendTwiml(res, retryOrGoodbyeTwiml(urls, { reason: refusalLine(outcome.failure, language), tryNumber, attested, language }));
    }
  };

  const notConfigured = (req: Request, res: Response): boolean => {
    if (deps.routing && deps.sip) return false;
    deps.logger.warn({ path: req.path, integration: 'livekit' }, 'twilio call but the practice line is not configured');
    const language = languageOf(req);
    sendTwiml(res, sayAndHangUpTwiml([callPrompts(language).notConfigured], language));
    return true;
  };

  /** No persona can answer: say so before any PIN is taken or checked, so no attempt is used up. */
  const noPartnerFree = async (req: Request, res: Response): Promise<boolean> => {
    if (!deps.agentAvailability) return false;
    const { available, detail } = await deps.agentAvailability();
    if (available) return false;
    deps.logger.warn({ path: req.path, callSid: field(req, 'CallSid'), detail }, 'twilio call refused: no agent worker available');
    const language = languageOf(req);
    sendTwiml(res, sayAndHangUpTwiml([callPrompts(language).noPartnerFree], language));
    return true;
  };

  const route = async (req: Request, res: Response, digits: string, tryNumber: number, firstContact: boolean) => {
    const lineTag = languageOf(req);
    if (deps.acceptingCalls && !deps.acceptingCalls()) {
      sendTwiml(res, sayAndHangUpTwiml([callPrompts(lineTag).restarting], lineTag));
      return;
    }
    const callSid = field(req, 'CallSid');
    if (!callSid) {
      res.status(400).type('text/plain').send('CallSid is required');
      return;
    }
    if (await noPartnerFree(req, res)) return;
    // StirVerstat comes with the voice webhook; the Gather action URL carries it on (signed) to /twilio/pin.
    const attested = isFullAttestation(field(req, 'StirVerstat')) || req.query.attested === '1';
    try {
      const outcome = await routeTwilioCall(deps.routing!, {
        twilioCallSid: callSid,
        callerNumber: field(req, 'From'),
        calledNumber: field(req, 'To'),
        digits,
        callerAttested: attested,
      });
      req.log?.info({ callSid, outcome: outcome.kind, tryNumber, attested, ...(outcome.kind === 'refused' ? { reason: outcome.failure.kind } : {}), pii: { from: field(req, 'From') } }, 'twilio call routed');
      answer(res, outcome, { tryNumber, firstContact, attested, lineLanguage: lineTag });
    } catch (error) {
      deps.logger.error({ err: error, callSid }, 'routing a twilio call failed');
      sendTwiml(res, sayAndHangUpTwiml([callPrompts(lineTag).unavailable], lineTag));
    }
  };

  router.post('/twilio/voice', body, verify, async (req, res) => {
    if (notConfigured(req, res)) return;
    // Only a direct line resolves without digits; everyone else is greeted and asked for a PIN.
    await route(req, res, '', 1, true);
  });

  router.post('/twilio/pin', body, verify, async (req, res) => {
    if (notConfigured(req, res)) return;
    const digits = (field(req, 'Digits') ?? '').replace(/[^0-9*]/g, '');
    await route(req, res, digits, tryNumberOf(req), false);
  });

  router.post('/twilio/status', body, verify, async (req, res) => {
    const dialStatus = field(req, 'DialCallStatus');
    const status = dialStatus ?? field(req, 'CallStatus');
    const callId = typeof req.query.call === 'string' ? req.query.call : null;
    const callSid = field(req, 'ParentCallSid') ?? field(req, 'CallSid');
    const event = status ? twilioStatusEvent(status, now(), dialStatus !== null) : null;
    if (event && deps.routing && (callId || callSid)) {
      try {
        const result = await recordCallEvent(deps.routing, {
          ...(callId ? { callId } : { twilioCallSid: callSid! }),
          event,
          trigger: 'twilio_status',
        });
        req.log?.info({ callId: result.found ? result.callId : callId, status, dial: dialStatus !== null, ...(result.found ? { callStatus: result.status, changed: result.changed } : { found: false }) }, 'twilio status recorded');
      } catch (error) {
        deps.logger.error({ err: error, callId, status }, 'recording a twilio status failed');
      }
    }
    // For the Dial action this ends the caller's leg; for status callbacks Twilio ignores the body.
    sendTwiml(res, hangUpTwiml());
  });

  return router;
}
