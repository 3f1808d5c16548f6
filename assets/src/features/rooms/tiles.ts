/**
 * What the in-call view shows, as data: one tile per participant's camera (ours first
 * seen as "You"), one more for each screen share, each with its stream (if it is there and
 * on), the badges (muted, camera off), speaking and the active-speaker ring. With a screen
 * share on, the layout is a spotlight: the (first) screen large, everyone else in a strip.
 */
import type { Participant, RoomSession } from '../../stores';
import { SPEAKING_LEVEL } from '../../stores/rooms/reducer';
import type { RoomMediaView } from './mediaView';
import { mediaKey } from './slots';

export interface Tile {
  key: string;
  userId: string;
  source: 'camera' | 'screen';
  isMe: boolean;
  /** The video to show; null: the avatar instead (camera off, or not there yet). */
  stream: MediaStream | null;
  audioMuted: boolean;
  videoOff: boolean;
  speaking: boolean;
  /** The active speaker's camera tile wears the ring. */
  active: boolean;
}

export interface TileLayout {
  /** The spotlight (a screen share), if any. */
  spotlight: Tile | null;
  /** Everyone else: the grid, or the strip beside the spotlight. */
  tiles: Tile[];
}

export function buildTiles(
  participants: readonly Participant[],
  myId: string,
  session: Pick<RoomSession, 'muted' | 'cameraOff' | 'noCamera' | 'screenSharing' | 'speakers' | 'activeSpeaker'>,
  media: Pick<RoomMediaView, 'local' | 'screen' | 'remote'>,
): TileLayout {
  const remote = new Map(media.remote.map((r) => [r.key, r]));
  const speaking = new Set(session.speakers.filter((s) => s.level >= SPEAKING_LEVEL).map((s) => s.user_id));
  const people = participants.some((p) => p.userId === myId)
    ? participants
    : [...participants, { userId: myId, joinedAt: '', audioMuted: session.muted, videoMuted: session.cameraOff, screenSharing: session.screenSharing }];
  const cameras: Tile[] = [];
  const screens: Tile[] = [];
  for (const p of people) {
    const isMe = p.userId === myId;
    const audioMuted = isMe ? session.muted : p.audioMuted;
    const videoOff = isMe ? session.cameraOff || session.noCamera || !media.local : p.videoMuted;
    const camera = isMe ? media.local : (remote.get(mediaKey(p.userId, 'camera'))?.stream ?? null);
    cameras.push({
      key: mediaKey(p.userId, 'camera'),
      userId: p.userId,
      source: 'camera',
      isMe,
      stream: videoOff ? null : camera,
      audioMuted,
      videoOff,
      speaking: !audioMuted && speaking.has(p.userId),
      active: !audioMuted && session.activeSpeaker === p.userId && people.length > 1,
    });
    const sharing = isMe ? session.screenSharing : p.screenSharing || remote.has(mediaKey(p.userId, 'screen'));
    if (sharing) {
      screens.push({
        key: mediaKey(p.userId, 'screen'),
        userId: p.userId,
        source: 'screen',
        isMe,
        stream: isMe ? media.screen : (remote.get(mediaKey(p.userId, 'screen'))?.stream ?? null),
        audioMuted,
        videoOff: false,
        speaking: false,
        active: false,
      });
    }
  }
  // Someone else's screen before our own: that is what we want to look at.
  screens.sort((a, b) => Number(a.isMe) - Number(b.isMe));
  const [spotlight, ...otherScreens] = screens;
  return { spotlight: spotlight ?? null, tiles: [...cameras, ...otherScreens] };
}
