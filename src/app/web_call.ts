// Practice in the browser (decision 015). "Practise now" goes through the same assignment checks
// (resolver.checkAssignment), the same guarded attempt count (takeAttempt) and the same room, metadata
// and agent dispatch as a phone call; only the way in differs: a signed-in rep instead of a PIN, so
// there is nothing to guess and no PIN lock-out to apply. Staff "Try this scenario" make test calls:
// no assignment, no attempt, kept out of progress and practice metrics.
import { randomUUID } from 'node:crypto';
import { assertStaff, canPractiseOn, type Actor } from '../domain/access.js';
import { isTerminal } from '../domain/call_state.js';
import { notFound } from '../domain/errors.js';
import { checkAssignment, type RepCandidate, type ResolveFailure, type ScenarioCandidate } from '../domain/resolver.js';
import { encodeRoomMetadata } from '../domain/room_metadata.js';
import { type AgentAvailability, type CallerTokens, nowOf } from './ports.js';
import { recordCallEvent } from './record_call_event.js';
import { abandonDispatch, buildMetadata, type CallRoutingDeps, newRoomName, ROOM_DEPARTURE_TIMEOUT_SECONDS } from './resolve_call.js';
import { parseId } from './use_case.js';

export interface WebCallDeps extends Pick<CallRoutingDeps, 'db' | 'store' | 'rooms' | 'agentName' | 'onCallEnded' | 'logger' | 'now'> {
  tokens: CallerTokens;
  /** Asked before anything is taken, as on the phone: no free persona, no attempt used. Absent: not checked. */
  agentAvailability?: AgentAvailability | null | undefined;
  /** The LiveKit URL a browser connects to (wss:// in production). */
  livekitUrl: string;
  /** How long the practice page waits for the persona to join before it gives the attempt back. */
  agentJoinTimeoutSeconds: number;
}

export type WebCallOutcome =
  | { kind: 'started'; callId: string }
  | { kind: 'refused'; failure: ResolveFailure }
  /** The person already has a browser call open: one at a time, so a script cannot open rooms by the hundred. */
  | { kind: 'busy'; callId: string }
  /** No persona agent is free right now; nothing was created or used. */
  | { kind: 'no_partner' }
  | { kind: 'unavailable' };

/** The page joins within a second or two; the room closes if nobody does within this. */
const WEB_ROOM_EMPTY_TIMEOUT_SECONDS = 60;
/** A browser token outlives the call's time limit by this much (reconnections), never more. */
const TOKEN_MARGIN_SECONDS = 5 * 60;
/** A live-looking browser call older than this is stale (its end was never recorded) and blocks nothing. */
const OPEN_CALL_WINDOW_MS = 60 * 60_000;

async function createCall(
  deps: WebCallDeps,
  input: { scenario: ScenarioCandidate; rep: RepCandidate; assignmentId: string | null; maxAttempts: number | null; isTest: boolean },
): Promise<WebCallOutcome> {
  if (deps.agentAvailability) {
    const { available, detail } = await deps.agentAvailability();
    if (!available) {
      deps.logger.warn({ repId: input.rep.id, detail }, 'browser call refused: no agent worker available');
      return { kind: 'no_partner' };
    }
  }
  const callId = randomUUID();
  const roomName = newRoomName();
  const metadata = buildMetadata(callId, input.scenario, input.rep);
  const since = new Date(nowOf(deps).getTime() - OPEN_CALL_WINDOW_MS);
  const taken = await deps.store.underCallerLock(input.rep.id, async (tx): Promise<true | 'exhausted' | { busy: string }> => {
    const open = await tx.openCallOf(input.rep.id, 'web', since);
    if (open) return { busy: open };
    if (input.assignmentId && !(await tx.takeAttempt(input.assignmentId))) return 'exhausted';
    await tx.insertCall({
      id: callId,
      path: 'web',
      status: 'dispatching',
      roomName,
      isTest: input.isTest,
      assignmentId: input.assignmentId,
      scenarioId: input.scenario.id,
      personaId: input.scenario.persona.id,
      repId: input.rep.id,
    });
    return true;
  });
  if (taken === 'exhausted') return { kind: 'refused', failure: { kind: 'exhausted', maxAttempts: input.maxAttempts ?? 0 } };
  if (taken !== true) return { kind: 'busy', callId: taken.busy };
  const encoded = encodeRoomMetadata(metadata);
  try {
    await deps.rooms.createRoom({
      name: roomName,
      metadata: encoded,
      agentName: deps.agentName,
      agentMetadata: encoded,
      emptyTimeoutSeconds: WEB_ROOM_EMPTY_TIMEOUT_SECONDS,
      departureTimeoutSeconds: ROOM_DEPARTURE_TIMEOUT_SECONDS,
      maxParticipants: 2,
    });
  } catch (error) {
    return abandonDispatch(deps, { callId, roomName, assignmentId: input.assignmentId }, error);
  }
  deps.logger.info({ callId, roomName, isTest: input.isTest }, 'browser call dispatched');
  return { kind: 'started', callId };
}

/** "Practise now" on one of the signed-in rep's assignments. */
export async function startPractice(deps: WebCallDeps, actor: Actor, assignmentId: string): Promise<WebCallOutcome> {
  const found = await deps.store.assignment(parseId(assignmentId, 'assignment'));
  if (!found || !canPractiseOn(actor, found.assignment) || found.assignment.revoked) throw notFound('assignment');
  const { assignment, rep } = found;
  const scenario = await deps.store.scenario(assignment.scenarioId);
  if (!scenario) throw notFound('assignment');
  const outcome = checkAssignment('web', scenario, rep, assignment, nowOf(deps));
  if (outcome.kind !== 'ok') return { kind: 'refused', failure: outcome };
  return createCall(deps, { scenario, rep, assignmentId: assignment.id, maxAttempts: assignment.maxAttempts, isTest: false });
}

/** "Try this scenario": a manager or admin calls the persona themself, as a test call. */
export async function startTestCall(deps: WebCallDeps, actor: Actor, scenarioId: string): Promise<WebCallOutcome> {
  assertStaff(actor);
  if (actor.userId === null) throw notFound('user');
  const scenario = await deps.store.scenario(parseId(scenarioId, 'scenario'));
  if (!scenario) throw notFound('scenario');
  if (scenario.archived || scenario.persona.archived) return { kind: 'refused', failure: { kind: 'inactive' } };
  const me = await deps.store.rep(actor.userId, { activeOnly: true });
  if (!me) throw notFound('user');
  return createCall(deps, { scenario, rep: me, assignmentId: null, maxAttempts: null, isTest: true });
}

async function loadOwnWebCall(deps: Pick<WebCallDeps, 'store'>, actor: Actor, callId: string) {
  const call = await deps.store.findCall({ callId: parseId(callId, 'call') });
  // Only the person in the call may join it: not their manager, not an admin.
  if (!call || call.path !== 'web' || actor.userId === null || call.repId !== actor.userId) throw notFound('call');
  return call;
}

export type JoinDetails =
  | { kind: 'ended'; callId: string }
  | {
      kind: 'join';
      callId: string;
      livekitUrl: string;
      token: string;
      persona: { name: string; role: string; company: string };
      scenarioTitle: string;
      timeLimitSeconds: number;
      agentJoinTimeoutSeconds: number;
      isTest: boolean;
    };

/** What the practice page needs to join its call; a fresh token on every load (reloads reconnect). */
export async function joinDetails(deps: WebCallDeps, actor: Actor, callId: string): Promise<JoinDetails> {
  const call = await loadOwnWebCall(deps, actor, callId);
  if (isTerminal(call.status) || !call.scenarioId) return { kind: 'ended', callId: call.id };
  const scenario = await deps.store.scenario(call.scenarioId);
  if (!scenario) return { kind: 'ended', callId: call.id };
  const token = await deps.tokens.mint({
    room: call.roomName,
    identity: `caller-${actor.userId}`,
    name: `caller-${actor.userId}`,
    ttlSeconds: scenario.timeLimitSeconds + TOKEN_MARGIN_SECONDS,
  });
  const { persona } = scenario;
  return {
    kind: 'join',
    callId: call.id,
    livekitUrl: deps.livekitUrl,
    token,
    persona: { name: persona.name, role: persona.role, company: persona.company },
    scenarioTitle: scenario.title,
    timeLimitSeconds: scenario.timeLimitSeconds,
    agentJoinTimeoutSeconds: deps.agentJoinTimeoutSeconds,
    isTest: call.isTest,
  };
}

/**
 * The page saw no persona join in time. If the agent never took the call (it marks the call
 * answered the moment it sees the caller), the call fails as agent_unavailable, the room goes and
 * the attempt comes back. A call the agent did take is left alone.
 */
export async function giveBackUnansweredCall(deps: WebCallDeps, actor: Actor, callId: string): Promise<{ givenBack: boolean }> {
  const call = await loadOwnWebCall(deps, actor, callId);
  if (call.status !== 'dispatching') return { givenBack: false };
  const result = await recordCallEvent(deps, { callId: call.id, event: { type: 'failed', at: nowOf(deps), reason: 'agent_unavailable' }, trigger: 'dispatch_failed' });
  if (!result.found || !result.changed) return { givenBack: false };
  if (call.assignmentId) await deps.store.giveBackAttempt(call.assignmentId);
  await deps.rooms.deleteRoom(call.roomName).catch((error: unknown) => deps.logger.warn({ err: error, callId: call.id }, 'room delete failed'));
  deps.logger.warn({ callId: call.id }, 'persona agent never joined the browser call; attempt given back');
  return { givenBack: true };
}
