// What the webhook and dispatch edges need from the vendors' verification code, as plain
// functions; adapters (src/adapters/livekit, src/adapters/twilio) implement them and main.ts wires
// them, so the routers never import a vendor SDK's verification classes themselves.
import type { DisconnectReason } from '../domain/agent_presence.js';

/** True when `signature` is Twilio's signature of `url` (PUBLIC_BASE_URL + path + query) and `params`. */
export type VerifyTwilioSignature = (signature: string, url: string, params: Record<string, unknown>) => boolean;

export interface LivekitLifecycleEvent {
  /** room_started, room_finished, participant_joined, participant_left, ... */
  event: string;
  roomName: string | undefined;
  participant:
    | {
        identity: string;
        kind: 'sip' | 'agent' | 'standard' | 'other';
        attributes: Record<string, string>;
        /** Why it left (participant_left, participant_connection_aborted); undefined when not sent or not known to us. */
        disconnectReason: DisconnectReason | undefined;
      }
    | undefined;
  createdAt: Date | undefined;
}

/** Verifies a LiveKit webhook (JWT over the raw body's sha256) and decodes it; throws when forged. */
export type VerifyLivekitWebhook = (rawBody: string, authorization: string | undefined) => Promise<LivekitLifecycleEvent>;

/** Verifies a LiveKit access token signed with our API secret; throws when it is not. */
export type VerifyLivekitToken = (token: string) => Promise<{ room: string | undefined; roomAdmin: boolean }>;
