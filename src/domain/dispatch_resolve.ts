// The contract of `POST /api/dispatch/resolve` (docs/architecture.md, "Second path"): the persona agent, in a
// room created by an individual SIP dispatch rule, posts what the caller keyed; the service
// answers with the room metadata (and has already written it to the room) or with a line to say.
// Shared by the service (validation) and the agent (building the request, reading the answer).
import { z } from 'zod';
import { readyRoomMetadataSchema } from './room_metadata.js';

const phoneNumber = z.string().trim().max(64, 'expected a phone number of at most 64 characters');

export const dispatchResolveRequestSchema = z.object({
  roomName: z.string().trim().min(1, 'expected the LiveKit room name').max(256),
  /** Keyed digits without the terminating '#'; empty to resolve by the called number alone. */
  digits: z
    .string()
    .trim()
    .max(32, 'expected at most 32 digits')
    .regex(/^[0-9*]*$/, 'expected only the digits 0-9 and *'),
  callerNumber: phoneNumber.nullable().default(null),
  calledNumber: phoneNumber.nullable().default(null),
  /** livekit-sip's call id (participant attribute sip.callID), kept on the call row for tracing. */
  sipCallId: z.string().trim().max(256).nullable().default(null),
});
export type DispatchResolveRequest = z.input<typeof dispatchResolveRequestSchema>;

export const dispatchRefusalReasons = [
  'no_digits',
  'wrong_pin',
  'unknown_caller',
  'caller_unverified',
  'expired',
  'exhausted',
  'inactive',
  'locked_out',
  'unavailable',
] as const;

export const dispatchResolveResponseSchema = z.discriminatedUnion('outcome', [
  z.object({ outcome: z.literal('ok'), callId: z.uuid(), metadata: readyRoomMetadataSchema }),
  z.object({
    outcome: z.literal('refused'),
    reason: z.enum(dispatchRefusalReasons),
    /** A line for the persona agent to speak before re-prompting or hanging up. */
    say: z.string(),
    /** False when another try cannot help (locked out, service trouble): say the line and hang up. */
    retry: z.boolean(),
    /** The language `say` is in, and the agent's own prompts should be: the scenario's once known, else the line's (decision 017). */
    language: z.string().max(16).default('en'),
  }),
]);
export type DispatchResolveResponse = z.infer<typeof dispatchResolveResponseSchema>;

/**
 * `POST /api/dispatch/job-ended`: the agent worker reports that the job process of a room exited
 * (agent/job_watch.ts). The service fails a call still live there as agent_lost and hangs up.
 */
export const jobEndedRequestSchema = z.object({
  roomName: z.string().trim().min(1, 'expected the LiveKit room name').max(256),
});
export type JobEndedRequest = z.input<typeof jobEndedRequestSchema>;
