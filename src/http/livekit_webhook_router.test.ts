import { describe, expect, it } from 'vitest';
import type { DisconnectReason } from '../domain/agent_presence.js';
import { livekitCallEvent } from './livekit_webhook_router.js';
import type { LivekitLifecycleEvent } from './verifiers.js';

const at = new Date('2026-11-25T12:00:00Z');
const event = (name: string, kind?: 'sip' | 'agent' | 'standard', disconnectReason?: DisconnectReason): LivekitLifecycleEvent => ({
  event: name,
  roomName: 'pl-room',
  participant: kind ? { identity: `${kind}-1`, kind, attributes: {}, disconnectReason } : undefined,
  createdAt: at,
});

describe('livekitCallEvent', () => {
  it('maps the caller joining and leaving, and the room finishing', () => {
    expect(livekitCallEvent(event('participant_joined', 'sip'), at)).toEqual({ type: 'answered', at });
    expect(livekitCallEvent(event('participant_left', 'sip', 'CLIENT_INITIATED'), at)).toEqual({ type: 'ended', at, reason: 'caller_left' });
    expect(livekitCallEvent(event('participant_connection_aborted', 'sip', 'CONNECTION_TIMEOUT'), at)).toEqual({ type: 'ended', at, reason: 'caller_left' });
    expect(livekitCallEvent(event('room_finished'), at)).toEqual({ type: 'ended', at, reason: 'room_finished' });
  });

  it('fails the call as agent_lost when the agent connection drops', () => {
    for (const name of ['participant_left', 'participant_connection_aborted']) {
      for (const reason of ['CONNECTION_TIMEOUT', 'SIGNAL_CLOSE', 'AGENT_ERROR'] as const) {
        expect(livekitCallEvent(event(name, 'agent', reason), at)).toEqual({ type: 'failed', at, reason: 'agent_lost' });
      }
    }
  });

  it('ignores the agent joining and every normal agent leave', () => {
    expect(livekitCallEvent(event('participant_joined', 'agent'), at)).toBeNull();
    for (const reason of ['ROOM_DELETED', 'CLIENT_INITIATED', 'ROOM_CLOSED', 'PARTICIPANT_REMOVED', 'UNKNOWN_REASON', undefined] as const) {
      expect(livekitCallEvent(event('participant_left', 'agent', reason), at)).toBeNull();
    }
  });

  it('never reads a dropped non-agent, non-caller participant as the agent', () => {
    expect(livekitCallEvent(event('participant_left', 'standard', 'CONNECTION_TIMEOUT'), at)).toBeNull();
  });
});
