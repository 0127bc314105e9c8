// Who the caller is in the room: the phone's SIP participant (livekit-sip) or, on a `web` call, the
// rep's browser (a standard participant).
import { ParticipantKind, type RemoteParticipant, type Room, RoomEvent } from '@livekit/rtc-node';

export const CALLER_KINDS = [ParticipantKind.SIP, ParticipantKind.STANDARD];

const isCaller = (participant: RemoteParticipant): boolean => CALLER_KINDS.includes(participant.info.kind!);

/** The caller, once in the room; rejects if the room goes first. */
export function waitForCaller(room: Room): Promise<RemoteParticipant> {
  for (const participant of room.remoteParticipants.values()) {
    if (isCaller(participant)) return Promise.resolve(participant);
  }
  return new Promise((resolve, reject) => {
    const onJoin = (participant: RemoteParticipant) => {
      if (!isCaller(participant)) return;
      cleanup();
      resolve(participant);
    };
    const onGone = () => {
      cleanup();
      reject(new Error('room disconnected before the caller joined'));
    };
    const cleanup = () => {
      room.off(RoomEvent.ParticipantConnected, onJoin);
      room.off(RoomEvent.Disconnected, onGone);
    };
    room.on(RoomEvent.ParticipantConnected, onJoin);
    room.on(RoomEvent.Disconnected, onGone);
  });
}
