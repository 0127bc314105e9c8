import { describe, expect, it } from 'vitest';
import { agentConnectionLost, DISCONNECT_REASONS, type DisconnectReason } from './agent_presence.js';

describe('agentConnectionLost', () => {
  it('reads a dropped connection or a broken agent as lost', () => {
    for (const reason of ['SIGNAL_CLOSE', 'CONNECTION_TIMEOUT', 'JOIN_FAILURE', 'MEDIA_FAILURE', 'AGENT_ERROR'] as const) expect(agentConnectionLost(reason)).toBe(true);
  });

  it('never reads the agent hanging up, shutting down or being removed as lost', () => {
    for (const reason of ['ROOM_DELETED', 'CLIENT_INITIATED', 'ROOM_CLOSED', 'PARTICIPANT_REMOVED', 'SERVER_SHUTDOWN', 'DUPLICATE_IDENTITY', 'MIGRATION'] as const) {
      expect(agentConnectionLost(reason)).toBe(false);
    }
  });

  it('is conservative when the reason is missing, unknown or recoverable', () => {
    expect(agentConnectionLost(undefined)).toBe(false);
    expect(agentConnectionLost('UNKNOWN_REASON')).toBe(false);
    expect(agentConnectionLost('STATE_MISMATCH')).toBe(false);
  });

  it('lists the protocol enum in wire order (index = enum number)', () => {
    const at = (reason: DisconnectReason) => DISCONNECT_REASONS.indexOf(reason);
    expect([at('UNKNOWN_REASON'), at('CLIENT_INITIATED'), at('ROOM_DELETED'), at('SIGNAL_CLOSE'), at('CONNECTION_TIMEOUT'), at('AGENT_ERROR')]).toEqual([0, 1, 5, 9, 14, 16]);
  });
});
