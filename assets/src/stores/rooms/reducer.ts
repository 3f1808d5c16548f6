/**
 * Rooms slice: the group calls (docs/protocol.md, "Group calls"). Two parts:
 *
 * - `live`: every live room of the user's group conversations, by conversation, as the
 *   server last described it (`ready.rooms`, `room.state`, `room.joined`). The server owns
 *   them; a room with no participants has ended and is dropped. This is what the banner
 *   "Call in progress — Join" and the header read.
 * - `session`: this device's own place in a room, from the user's Join to the leave:
 *
 *     none ─join──▶ joining ─room.joined──▶ connecting ─media up──▶ connected
 *                     ▲                                   └─media down─▶ (interrupted)
 *                     ├──room.left node_lost / disconnected (once: rejoined)
 *                     └──a new socket (the server binds our place to it: resuming)
 *     any ──leave / room.left / error on join──▶ none
 *
 *   Mute, camera-off and the screen share are ours; the active speaker comes from
 *   `room.speakers` (see `pickActiveSpeaker`).
 *
 * The reducer is pure; the controller (features/rooms/) does the talking.
 */
import type { RoomSpeaker, RoomView } from '../../gateway/protocol';

export interface Participant {
  userId: string;
  joinedAt: string;
  audioMuted: boolean;
  videoMuted: boolean;
  screenSharing: boolean;
}

export interface LiveRoom {
  conversationId: string;
  roomId: string;
  startedAt: string;
  participants: Participant[];
}

export type RoomMedia = 'audio' | 'video';
export type RoomPhase = 'joining' | 'connecting' | 'connected';

export interface RoomSession {
  conversationId: string;
  /** What the user joined with: a video join asks for the camera. */
  media: RoomMedia;
  phase: RoomPhase;
  /** The room's limit for our camera's top layer (`room.joined`); null before it. */
  maxVideoKbps: number | null;
  /** connected, but the media path is down. */
  interrupted: boolean;
  /** An automatic join again after `node_lost` / `disconnected` is under way (or was made). */
  rejoined: boolean;
  /** The socket came back: our place is being taken back from the new one (`room.join` again). */
  resuming: boolean;
  muted: boolean;
  cameraOff: boolean;
  /** No camera could be had: we send no video. */
  noCamera: boolean;
  screenSharing: boolean;
  /** Who speaks now, loudest first. */
  speakers: RoomSpeaker[];
  /** Whom the highlight ring is on (see pickActiveSpeaker); null: nobody speaks. */
  activeSpeaker: string | null;
}

export interface RoomsState {
  live: Record<string, LiveRoom>;
  session: RoomSession | null;
  /** Why our last session ended, once (for the UI's notice); cleared by the next join. */
  lastLeft: { conversationId: string; reason: string } | null;
}

export const initialRoomsState: RoomsState = { live: {}, session: null, lastLeft: null };

export type RoomsAction =
  | { type: 'ready'; rooms: RoomView[] }
  | { type: 'state'; room: RoomView }
  /** The user pressed Join / Start call (`room.join` goes out). */
  | { type: 'joinRequested'; conversationId: string; media: RoomMedia }
  | { type: 'joined'; room: RoomView; maxVideoKbps: number }
  /**
   * We join again, keeping our media: after `node_lost` / `disconnected` (once), or because
   * the socket was replaced (`afterReconnect`: the server binds our place to the socket).
   */
  | { type: 'rejoining'; conversationId: string; afterReconnect?: boolean }
  | { type: 'mediaConnected'; conversationId: string }
  | { type: 'mediaInterrupted'; conversationId: string; interrupted: boolean }
  | { type: 'noCamera'; conversationId: string }
  | { type: 'micToggled'; conversationId: string }
  | { type: 'cameraToggled'; conversationId: string }
  | { type: 'screenSharing'; conversationId: string; on: boolean }
  | { type: 'speakers'; conversationId: string; speakers: RoomSpeaker[] }
  /** Our session is over: we left, the server said `room.left`, or the join failed. */
  | { type: 'left'; conversationId: string; reason: string }
  | { type: 'reset' };

/** A speaker keeps the ring while within this share of the loudest one's level (no flicker). */
export const SPEAKER_HOLD = 0.7;
/** Below this level nobody is highlighted. */
export const SPEAKING_LEVEL = 0.05;

/**
 * The active speaker: the loudest one, except that whoever has the ring keeps it while still
 * about as loud (within SPEAKER_HOLD of the loudest). Nobody above SPEAKING_LEVEL: null.
 */
export function pickActiveSpeaker(previous: string | null, speakers: RoomSpeaker[]): string | null {
  const audible = speakers.filter((s) => s.level >= SPEAKING_LEVEL);
  if (audible.length === 0) return null;
  const loudest = audible.reduce((a, b) => (b.level > a.level ? b : a));
  const held = previous ? audible.find((s) => s.user_id === previous) : undefined;
  if (held && held.level >= loudest.level * SPEAKER_HOLD) return held.user_id;
  return loudest.user_id;
}

export function liveRoom(v: RoomView): LiveRoom {
  return {
    conversationId: v.conversation_id,
    roomId: v.room_id,
    startedAt: v.started_at,
    participants: v.participants.map((p) => ({
      userId: p.user_id,
      joinedAt: p.joined_at,
      audioMuted: p.audio_muted,
      videoMuted: p.video_muted,
      screenSharing: p.screen_sharing,
    })),
  };
}

function withRoom(live: Record<string, LiveRoom>, v: RoomView): Record<string, LiveRoom> {
  const next = { ...live };
  if (v.participants.length === 0) delete next[v.conversation_id];
  else next[v.conversation_id] = liveRoom(v);
  return next;
}

function patchSession(s: RoomsState, conversationId: string, patch: Partial<RoomSession>): RoomsState {
  if (!s.session || s.session.conversationId !== conversationId) return s;
  return { ...s, session: { ...s.session, ...patch } };
}

export function roomsReducer(s: RoomsState, a: RoomsAction): RoomsState {
  switch (a.type) {
    case 'ready': {
      let live: Record<string, LiveRoom> = {};
      for (const r of a.rooms) live = withRoom(live, r);
      return { ...s, live };
    }
    case 'state':
      return { ...s, live: withRoom(s.live, a.room) };
    case 'joinRequested':
      if (s.session) return s; // one room at a time
      return {
        ...s,
        lastLeft: null,
        session: {
          conversationId: a.conversationId,
          media: a.media,
          phase: 'joining',
          maxVideoKbps: null,
          interrupted: false,
          rejoined: false,
          resuming: false,
          muted: false,
          // An audio join starts with the camera off; the camera button turns it on.
          cameraOff: a.media === 'audio',
          noCamera: false,
          screenSharing: false,
          speakers: [],
          activeSpeaker: null,
        },
      };
    case 'joined': {
      const live = withRoom(s.live, a.room);
      if (!s.session || s.session.conversationId !== a.room.conversation_id || s.session.phase !== 'joining') return { ...s, live };
      return { ...s, live, session: { ...s.session, phase: 'connecting', resuming: false, maxVideoKbps: a.maxVideoKbps || null } };
    }
    case 'rejoining':
      if (!s.session || s.session.conversationId !== a.conversationId) return s;
      return patchSession(s, a.conversationId, {
        phase: 'joining',
        ...(a.afterReconnect ? { resuming: true } : { rejoined: true }),
        interrupted: false,
        screenSharing: false,
        speakers: [],
        activeSpeaker: null,
      });
    case 'mediaConnected':
      if (s.session?.conversationId !== a.conversationId || s.session.phase === 'joining') return s;
      if (s.session.phase === 'connected' && !s.session.interrupted) return s;
      return patchSession(s, a.conversationId, { phase: 'connected', interrupted: false });
    case 'mediaInterrupted':
      if (s.session?.conversationId !== a.conversationId || s.session.phase !== 'connected' || s.session.interrupted === a.interrupted) return s;
      return patchSession(s, a.conversationId, { interrupted: a.interrupted });
    case 'noCamera':
      return patchSession(s, a.conversationId, { noCamera: true });
    case 'micToggled':
      return s.session?.conversationId === a.conversationId ? patchSession(s, a.conversationId, { muted: !s.session.muted }) : s;
    case 'cameraToggled':
      return s.session?.conversationId === a.conversationId && !s.session.noCamera
        ? patchSession(s, a.conversationId, { cameraOff: !s.session.cameraOff })
        : s;
    case 'screenSharing':
      return s.session?.conversationId === a.conversationId && s.session.screenSharing !== a.on
        ? patchSession(s, a.conversationId, { screenSharing: a.on })
        : s;
    case 'speakers': {
      if (s.session?.conversationId !== a.conversationId) return s;
      return patchSession(s, a.conversationId, {
        speakers: a.speakers,
        activeSpeaker: pickActiveSpeaker(s.session.activeSpeaker, a.speakers),
      });
    }
    case 'left':
      if (s.session?.conversationId !== a.conversationId) return s;
      return { ...s, session: null, lastLeft: { conversationId: a.conversationId, reason: a.reason } };
    case 'reset':
      return initialRoomsState;
  }
}
