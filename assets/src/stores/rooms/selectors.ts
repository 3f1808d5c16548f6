import type { LiveRoom, RoomsState } from './reducer';

interface WithRooms {
  rooms: RoomsState;
}

/** The notice for a session the server ended; null when none is needed (we left). */
export function leftReasonText(reason: string): { title: string; description?: string } | null {
  switch (reason) {
    case 'left':
      return null;
    case 'joined_elsewhere':
      return { title: 'You joined the call on another device' };
    case 'failed':
      return { title: 'The call’s connection failed', description: 'Join again to retry.' };
    case 'disconnected':
      return { title: 'You were disconnected from the call', description: 'Join again to get back in.' };
    case 'node_lost':
      return { title: 'The call was interrupted', description: 'Join again to restart it.' };
    case 'removed':
      return { title: 'You are no longer a member of this conversation' };
    default:
      return { title: 'You left the call' };
  }
}

export const roomsSelectors = {
  state: (s: WithRooms) => s.rooms,
  session: (s: WithRooms) => s.rooms.session,
  /** The live room of a conversation, if any. */
  live: (s: WithRooms, conversationId: string | null | undefined): LiveRoom | undefined =>
    conversationId ? s.rooms.live[conversationId] : undefined,
  /** Whether this device takes part in a room (any phase). */
  inRoom: (s: WithRooms) => s.rooms.session !== null,
  /** Whether this device takes part in the room of this conversation. */
  inRoomOf: (s: WithRooms, conversationId: string) => s.rooms.session?.conversationId === conversationId,
  /** The user is in the room of this conversation from another device. */
  elsewhereIn: (s: WithRooms, conversationId: string, myId: string | null) =>
    !!myId && s.rooms.session?.conversationId !== conversationId && !!s.rooms.live[conversationId]?.participants.some((p) => p.userId === myId),
  activeSpeaker: (s: WithRooms) => s.rooms.session?.activeSpeaker ?? null,
  speakers: (s: WithRooms) => s.rooms.session?.speakers,
};
