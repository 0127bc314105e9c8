// LiveKit's RoomService behind the small `RoomService` port the routing use cases declare. Every
// failure leaves here as a ProviderError, so the use cases never see Twirp errors.
import { ParticipantInfo_Kind } from '@livekit/protocol';
import { RoomAgentDispatch, RoomServiceClient, TwirpError } from 'livekit-server-sdk';
import type { CreateRoomInput, RoomService } from '../../app/ports.js';
import { isRetryableStatus, ProviderError } from '../../domain/provider_error.js';

export interface LivekitCredentials {
  /** ws(s):// or http(s):// — the SDK turns ws into http for its API calls. */
  url: string;
  apiKey: string;
  apiSecret: string;
  /** Per request; a caller is waiting on the phone, so fail fast rather than hang. Default 5 s. */
  requestTimeoutSeconds?: number;
}

export function toProviderError(action: string, error: unknown): ProviderError {
  if (error instanceof TwirpError) {
    return new ProviderError('livekit', `${action} failed: ${error.code ?? error.name} ${error.message}`, {
      status: error.status,
      retryable: isRetryableStatus(error.status),
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError('livekit', `${action} failed: ${message}`, { retryable: true, cause: error });
}

const isNotFound = (error: unknown): boolean => error instanceof TwirpError && (error.status === 404 || error.code === 'not_found');

export function createLivekitRoomService(credentials: LivekitCredentials): RoomService {
  const client = new RoomServiceClient(credentials.url, credentials.apiKey, credentials.apiSecret, {
    requestTimeout: credentials.requestTimeoutSeconds ?? 5,
    // Failover is a LiveKit Cloud feature; a self-hosted server has no other region to try.
    failover: false,
  });

  return {
    async createRoom(input: CreateRoomInput) {
      try {
        await client.createRoom({
          name: input.name,
          metadata: input.metadata,
          emptyTimeout: input.emptyTimeoutSeconds,
          departureTimeout: input.departureTimeoutSeconds,
          maxParticipants: input.maxParticipants,
          agents: [new RoomAgentDispatch({ agentName: input.agentName, metadata: input.agentMetadata })],
        });
      } catch (error) {
        throw toProviderError('createRoom', error);
      }
    },

    async updateRoomMetadata(name: string, metadata: string) {
      try {
        await client.updateRoomMetadata(name, metadata);
      } catch (error) {
        throw toProviderError('updateRoomMetadata', error);
      }
    },

    async deleteRoom(name: string) {
      try {
        await client.deleteRoom(name);
      } catch (error) {
        // Already gone is what we wanted.
        if (isNotFound(error)) return;
        throw toProviderError('deleteRoom', error);
      }
    },

    async hasAgent(name: string) {
      try {
        // Not the dispatch's job list: livekit-server v1.13 leaves it empty in ListDispatch.
        return (await client.listParticipants(name)).some((participant) => participant.kind === ParticipantInfo_Kind.AGENT);
      } catch (error) {
        if (isNotFound(error)) return false;
        throw toProviderError('listParticipants', error);
      }
    },
  };
}
