// POST /livekit/webhook: livekit-server's signed lifecycle events (docs/architecture.md, "Known traps":
// `application/webhook+json`, verify the raw body). The JWT in Authorization carries a sha256 of
// the exact bytes, so the body is read raw and never re-serialised before verification.
import express, { Router, type Request, type Response } from 'express';
import type { Logger } from '../adapters/logger.js';
import { nowOf, type AgentAvailability, type Clock, type RoomService } from '../app/ports.js';
import { hangUpLostAgentCall } from '../app/agent_lost.js';
import { recordCallEvent, type RecordCallEventDeps } from '../app/record_call_event.js';
import { AGENT_LOST, agentConnectionLost } from '../domain/agent_presence.js';
import type { CallEvent } from '../domain/call_state.js';
import { sendError } from './api/errors.js';
import type { LivekitLifecycleEvent, VerifyLivekitWebhook } from './verifiers.js';

export interface LivekitWebhookRouterDeps {
  /** Null when LiveKit is not configured. */
  verifyWebhook: VerifyLivekitWebhook | null;
  calls: RecordCallEventDeps;
  /** Hangs up a call whose agent was lost (deleting the room makes livekit-sip send BYE). Null when LiveKit is not configured. */
  rooms: RoomService | null;
  /** Asked when a caller's SIP leg joins; with no agent free the room is deleted, which refuses the call. */
  agentAvailability?: AgentAvailability | null;
  logger: Logger;
  now?: Clock;
}

/**
 * Which call event a LiveKit webhook means, if any: the caller's SIP leg, the room itself, and the
 * persona agent's connection dropping (its job died mid-call: nobody else would ever hang up).
 */
export function livekitCallEvent(event: LivekitLifecycleEvent, at: Date): CallEvent | null {
  const kind = event.participant?.kind;
  const isSip = kind === 'sip';
  switch (event.event) {
    case 'participant_joined':
      return isSip ? { type: 'answered', at } : null;
    case 'participant_left':
    case 'participant_connection_aborted':
      if (isSip) return { type: 'ended', at, reason: 'caller_left' };
      // A normal agent leave (its own room deletion, a clean disconnect) is no event: the agent
      // finalises the call itself, and the state machine keeps whatever end came first.
      if (kind === 'agent' && agentConnectionLost(event.participant?.disconnectReason)) return { type: 'failed', at, reason: AGENT_LOST };
      return null;
    case 'room_finished':
      return { type: 'ended', at, reason: 'room_finished' };
    default:
      return null;
  }
}

export function makeLivekitWebhookRouter(deps: LivekitWebhookRouterDeps): Router {
  const router = Router();

  router.post('/livekit/webhook', express.raw({ type: () => true, limit: '1mb' }), async (req: Request, res: Response) => {
    if (!deps.verifyWebhook) {
      sendError(res, 503, 'not_configured', 'LiveKit is not configured');
      return;
    }
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    let event: LivekitLifecycleEvent;
    try {
      event = await deps.verifyWebhook(raw, req.header('Authorization'));
    } catch (error) {
      deps.logger.warn({ err: { message: (error as Error).message } }, 'livekit webhook rejected');
      sendError(res, 401, 'unauthorized', 'webhook signature did not verify');
      return;
    }

    const roomName = event.roomName;
    const at = event.createdAt ?? nowOf(deps);
    const callEvent = livekitCallEvent(event, at);
    let admitted = false;
    if (callEvent && roomName) {
      try {
        const sipCallId = event.participant?.attributes['sip.callID'];
        const input = { roomName, trigger: 'livekit_webhook' as const, ...(sipCallId ? { sipCallId } : {}) };
        const lost = callEvent.type === 'failed' && callEvent.reason === AGENT_LOST;
        if (lost && !deps.rooms) throw new Error('agent lost but LiveKit room service is not configured');
        const result = lost && deps.rooms
          ? await hangUpLostAgentCall({ ...deps.calls, rooms: deps.rooms }, { ...input, at: callEvent.at })
          : await recordCallEvent(deps.calls, { ...input, event: callEvent });
        req.log?.info(
          {
            webhook: event.event,
            roomName,
            ...(event.participant?.disconnectReason ? { disconnectReason: event.participant.disconnectReason } : {}),
            ...(result.found ? { callId: result.callId, status: result.status, changed: result.changed } : { found: false }),
          },
          'livekit webhook applied',
        );
        admitted = result.found;
      } catch (error) {
        // 5xx makes livekit-server retry; the state machine makes the retry harmless.
        deps.logger.error({ err: error, webhook: event.event, roomName }, 'applying a livekit webhook failed');
        sendError(res, 500, 'internal', 'the event could not be applied; it is safe to retry');
        return;
      }
    }
    // A room with a call row was admitted already (the Twilio path asked before taking the PIN, and
    // the attempt is used): its agent job is dispatched, so a busy moment now must not drop the call.
    if (event.event === 'participant_joined' && event.participant?.kind === 'sip' && roomName && !admitted) {
      await refuseWithoutAgent(deps, roomName);
    }
    res.status(200).json({ ok: true });
  });

  return router;
}

/** How long a room's agent may take to join after its worker took the job (a prewarmed process: well under a second). */
const AGENT_JOIN_GRACE_MS = 3_000;

async function agentJoins(rooms: NonNullable<LivekitWebhookRouterDeps['rooms']>, roomName: string): Promise<boolean> {
  const deadline = Date.now() + AGENT_JOIN_GRACE_MS;
  for (;;) {
    if (await rooms.hasAgent(roomName).catch(() => false)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * A caller reached a room no call was admitted for (the direct trunk, where no one asked before) but no persona can take the
 * call: livekit-sip answers only once someone speaks, so the caller would ring until the carrier
 * gives up. Deleting the room refuses the call at once instead.
 */
async function refuseWithoutAgent(deps: LivekitWebhookRouterDeps, roomName: string): Promise<void> {
  if (!deps.agentAvailability || !deps.rooms) return;
  const { available, detail } = await deps.agentAvailability();
  if (available) return;
  // The worker that took this very room's job may be what made them all busy: its agent is joining.
  if (await agentJoins(deps.rooms, roomName)) return;
  deps.logger.warn({ roomName, detail }, 'caller joined but no agent worker is available; refusing the call');
  await deps.rooms.deleteRoom(roomName).catch((error: unknown) => deps.logger.error({ err: error, roomName }, 'refusing a call without an agent failed'));
}
