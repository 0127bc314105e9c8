// livekit-server-sdk's WebhookReceiver and TokenVerifier behind plain functions (src/http/verifiers.ts).
import { TokenVerifier, WebhookReceiver } from 'livekit-server-sdk';
import { DISCONNECT_REASONS } from '../../domain/agent_presence.js';
import type { LivekitLifecycleEvent, VerifyLivekitToken, VerifyLivekitWebhook } from '../../http/verifiers.js';

interface Keys {
  apiKey: string;
  apiSecret: string;
}

/** ParticipantInfo.Kind in livekit_models.proto. */
const kinds: Record<number, NonNullable<LivekitLifecycleEvent['participant']>['kind']> = {
  0: 'standard',
  3: 'sip',
  4: 'agent',
};

export function createLivekitWebhookVerifier(keys: Keys): VerifyLivekitWebhook {
  const receiver = new WebhookReceiver(keys.apiKey, keys.apiSecret);
  return async (rawBody, authorization) => {
    // livekit-server sends the bare JWT; accept a Bearer prefix from other senders.
    const event = await receiver.receive(rawBody, authorization?.replace(/^Bearer\s+/i, ''));
    const participant = event.participant;
    return {
      event: event.event,
      roomName: event.room?.name || undefined,
      participant: participant
        ? {
            identity: participant.identity,
            kind: kinds[participant.kind] ?? 'other',
            attributes: { ...participant.attributes },
            // The SDK decodes the enum to its number; DISCONNECT_REASONS is in protocol order.
            disconnectReason: DISCONNECT_REASONS[participant.disconnectReason],
          }
        : undefined,
      createdAt: event.createdAt ? new Date(Number(event.createdAt) * 1000) : undefined,
    };
  };
}

export function createLivekitTokenVerifier(keys: Keys): VerifyLivekitToken {
  const verifier = new TokenVerifier(keys.apiKey, keys.apiSecret);
  return async (token) => {
    const claims = await verifier.verify(token);
    return { room: claims.video?.room, roomAdmin: claims.video?.roomAdmin === true };
  };
}
