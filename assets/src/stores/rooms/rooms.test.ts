import { describe, expect, it } from 'vitest';
import type { RoomView } from '../../gateway/protocol';
import { BOB, CAROL, ME } from '../../test/fixtures';
import { createAppStore } from '../index';
import { initialRoomsState, pickActiveSpeaker, roomsReducer, type RoomsAction, type RoomsState } from './reducer';
import { leftReasonText, roomsSelectors } from './selectors';

const room = (userIds: string[], o: Partial<RoomView> = {}): RoomView => ({
  conversation_id: 'g1',
  room_id: 'r1',
  started_at: '2026-12-02T10:00:00Z',
  participants: userIds.map((user_id) => ({ user_id, joined_at: 't', audio_muted: false, video_muted: false, screen_sharing: false })),
  ...o,
});
const run = (...actions: RoomsAction[]) => actions.reduce(roomsReducer, initialRoomsState);
const then = (s: RoomsState, ...actions: RoomsAction[]) => actions.reduce(roomsReducer, s);

describe('roomsReducer: live rooms', () => {
  it('ready lists the live rooms; room.state updates one; no participants ends it', () => {
    let s = run({ type: 'ready', rooms: [room([BOB.id]), room([], { conversation_id: 'g2' })] });
    expect(Object.keys(s.live)).toEqual(['g1']);
    expect(s.live.g1).toEqual({
      conversationId: 'g1',
      roomId: 'r1',
      startedAt: '2026-12-02T10:00:00Z',
      participants: [{ userId: BOB.id, joinedAt: 't', audioMuted: false, videoMuted: false, screenSharing: false }],
    });
    s = then(s, { type: 'state', room: room([BOB.id, CAROL.id]) });
    expect(s.live.g1?.participants.map((p) => p.userId)).toEqual([BOB.id, CAROL.id]);
    s = then(s, { type: 'state', room: room([]) });
    expect(s.live).toEqual({});
    // A new ready replaces everything (a room that ended while we were away is gone).
    s = then(s, { type: 'state', room: room([BOB.id], { conversation_id: 'g3' }) }, { type: 'ready', rooms: [] });
    expect(s.live).toEqual({});
  });
});

describe('roomsReducer: our session', () => {
  it('joining → connecting → connected → left', () => {
    let s = run({ type: 'joinRequested', conversationId: 'g1', media: 'video' });
    expect(s.session).toMatchObject({ conversationId: 'g1', phase: 'joining', media: 'video', cameraOff: false });
    s = then(s, { type: 'mediaConnected', conversationId: 'g1' });
    expect(s.session?.phase).toBe('joining'); // not before the server has us
    s = then(s, { type: 'joined', room: room([ME.id]), maxVideoKbps: 1500 });
    expect(s.session).toMatchObject({ phase: 'connecting', maxVideoKbps: 1500 });
    expect(s.live.g1).toBeDefined();
    s = then(s, { type: 'mediaConnected', conversationId: 'g1' });
    expect(s.session).toMatchObject({ phase: 'connected', interrupted: false });
    s = then(s, { type: 'mediaInterrupted', conversationId: 'g1', interrupted: true });
    expect(s.session?.interrupted).toBe(true);
    s = then(s, { type: 'mediaConnected', conversationId: 'g1' });
    expect(s.session?.interrupted).toBe(false);
    s = then(s, { type: 'left', conversationId: 'g1', reason: 'left' });
    expect(s.session).toBeNull();
    expect(s.lastLeft).toEqual({ conversationId: 'g1', reason: 'left' });
  });

  it('one room at a time; events of another room are ignored', () => {
    const s = run({ type: 'joinRequested', conversationId: 'g1', media: 'audio' });
    expect(then(s, { type: 'joinRequested', conversationId: 'g2', media: 'video' })).toBe(s);
    expect(then(s, { type: 'micToggled', conversationId: 'g2' })).toBe(s);
    expect(then(s, { type: 'left', conversationId: 'g2', reason: 'left' })).toBe(s);
    expect(s.session?.cameraOff).toBe(true); // an audio join starts without the camera
  });

  it('mute, camera (not without one), screen share', () => {
    let s = run({ type: 'joinRequested', conversationId: 'g1', media: 'video' });
    s = then(s, { type: 'micToggled', conversationId: 'g1' }, { type: 'cameraToggled', conversationId: 'g1' });
    expect(s.session).toMatchObject({ muted: true, cameraOff: true });
    s = then(s, { type: 'cameraToggled', conversationId: 'g1' }, { type: 'noCamera', conversationId: 'g1' }, { type: 'cameraToggled', conversationId: 'g1' });
    expect(s.session).toMatchObject({ cameraOff: false, noCamera: true });
    s = then(s, { type: 'screenSharing', conversationId: 'g1', on: true });
    expect(s.session?.screenSharing).toBe(true);
  });

  it('rejoining keeps mute but drops the screen share and the speakers', () => {
    let s = run(
      { type: 'joinRequested', conversationId: 'g1', media: 'video' },
      { type: 'joined', room: room([ME.id]), maxVideoKbps: 1500 },
      { type: 'micToggled', conversationId: 'g1' },
      { type: 'screenSharing', conversationId: 'g1', on: true },
      { type: 'speakers', conversationId: 'g1', speakers: [{ user_id: BOB.id, level: 0.5 }] },
    );
    expect(s.session?.activeSpeaker).toBe(BOB.id);
    s = then(s, { type: 'rejoining', conversationId: 'g1' });
    expect(s.session).toMatchObject({ phase: 'joining', rejoined: true, muted: true, screenSharing: false, speakers: [], activeSpeaker: null });
    s = then(s, { type: 'joined', room: room([ME.id]), maxVideoKbps: 1500 });
    expect(s.session?.phase).toBe('connecting');
  });

  it('reset forgets everything', () => {
    const store = createAppStore({ draftStorage: () => null });
    store.getState().roomsReady([room([BOB.id])]);
    store.getState().roomsJoinRequested('g1', 'video');
    store.getState().chatReset();
    expect(store.getState().rooms).toEqual(initialRoomsState);
  });
});

describe('pickActiveSpeaker: the highlight ring', () => {
  it('goes to the loudest speaker above the threshold', () => {
    expect(pickActiveSpeaker(null, [])).toBeNull();
    expect(pickActiveSpeaker(null, [{ user_id: BOB.id, level: 0.01 }])).toBeNull();
    expect(pickActiveSpeaker(null, [{ user_id: BOB.id, level: 0.2 }, { user_id: CAROL.id, level: 0.6 }])).toBe(CAROL.id);
  });
  it('stays with the current speaker while about as loud (no flicker), moves when clearly louder', () => {
    expect(pickActiveSpeaker(BOB.id, [{ user_id: CAROL.id, level: 0.6 }, { user_id: BOB.id, level: 0.5 }])).toBe(BOB.id);
    expect(pickActiveSpeaker(BOB.id, [{ user_id: CAROL.id, level: 0.9 }, { user_id: BOB.id, level: 0.3 }])).toBe(CAROL.id);
    expect(pickActiveSpeaker(BOB.id, [{ user_id: CAROL.id, level: 0.3 }])).toBe(CAROL.id);
  });
});

describe('rooms selectors', () => {
  it('tell whether I am in the room here or on another device', () => {
    let s = run({ type: 'ready', rooms: [room([BOB.id, ME.id])] });
    expect(roomsSelectors.elsewhereIn({ rooms: s }, 'g1', ME.id)).toBe(true);
    expect(roomsSelectors.inRoomOf({ rooms: s }, 'g1')).toBe(false);
    s = then(s, { type: 'joinRequested', conversationId: 'g1', media: 'video' });
    expect(roomsSelectors.elsewhereIn({ rooms: s }, 'g1', ME.id)).toBe(false);
    expect(roomsSelectors.inRoomOf({ rooms: s }, 'g1')).toBe(true);
    expect(roomsSelectors.live({ rooms: s }, 'g1')?.participants).toHaveLength(2);
  });
  it('word the reasons the server ends a session for', () => {
    expect(leftReasonText('left')).toBeNull();
    expect(leftReasonText('removed')?.title).toMatch(/no longer a member/);
    expect(leftReasonText('something-new')?.title).toBe('You left the call');
  });
});
