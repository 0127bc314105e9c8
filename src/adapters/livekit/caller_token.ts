// Tokens for a rep's browser in a practice call: this room only, the microphone only. No data,
// no screen share, no metadata changes, no room admin: a token that leaks buys nothing more.
import { AccessToken, TrackSource } from 'livekit-server-sdk';
import type { CallerTokens } from '../../app/ports.js';

export function createLivekitCallerTokens(credentials: { apiKey: string; apiSecret: string }): CallerTokens {
  return {
    async mint({ room, identity, name, ttlSeconds }) {
      const token = new AccessToken(credentials.apiKey, credentials.apiSecret, { identity, name, ttl: ttlSeconds });
      token.addGrant({
        room,
        roomJoin: true,
        canPublish: true,
        canPublishSources: [TrackSource.MICROPHONE],
        canSubscribe: true,
        canPublishData: false,
        canUpdateOwnMetadata: false,
      });
      return token.toJwt();
    },
  };
}
