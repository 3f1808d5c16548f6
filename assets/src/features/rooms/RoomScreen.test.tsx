// @vitest-environment happy-dom
/**
 * The group call surfaces rendered alone, with fake services: the header's Start buttons,
 * the "Call in progress — Join" banner, and the in-call view (grid, badges, spotlight,
 * controls) from the store and a fake media view.
 */
import { act } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomView } from '../../gateway/protocol';
import { BOB, CAROL, conversation, ME, user } from '../../test/fixtures';
import { click, fakeServices, render, type FakeServices, type Rendered } from '../../test/services';
import { NO_ROOM_MEDIA, type RoomMediaView } from './mediaView';
import { RoomBanner } from './RoomBanner';
import { RoomButtons } from './RoomButtons';
import RoomScreen, { roomStatusText } from './RoomScreen';

let view: Rendered | null = null;
afterEach(() => {
  view?.unmount();
  view = null;
});

const DAN = user('dan', 'Dan');
const group = conversation({
  id: 'g1',
  kind: 'group',
  name: 'Design crew',
  members: [ME, BOB, CAROL, DAN].map((u) => ({ user: u, role: 'member' as const })),
});

function room(userIds: string[], flags: Record<string, Partial<RoomView['participants'][number]>> = {}): RoomView {
  return {
    conversation_id: 'g1',
    room_id: 'r1',
    started_at: new Date().toISOString(),
    participants: userIds.map((user_id) => ({ user_id, joined_at: 't', audio_muted: false, video_muted: false, screen_sharing: false, ...flags[user_id] })),
  };
}

function services(): FakeServices {
  const s = fakeServices();
  s.store.getState().callsReady('s-me', new Date().toISOString(), []);
  s.store.getState().conversationsListLoaded([group]);
  return s;
}

const tiles = (r: Rendered) => [...r.container.querySelectorAll<HTMLElement>('[data-testid="room-tile"]')];

describe('RoomButtons', () => {
  it('start an audio or a video group call', () => {
    const s = services();
    view = render(<RoomButtons conversationId="g1" />, s);
    click(view.button('Start video call'));
    expect(s.rooms.join).toHaveBeenCalledWith('g1', 'video');
    click(view.button('Start audio call'));
    expect(s.rooms.join).toHaveBeenLastCalledWith('g1', 'audio');
  });

  it('are off while offline, and gone while the conversation has a call (the banner joins it)', () => {
    const s = services();
    s.store.getState().connectionChanged('offline');
    view = render(<RoomButtons conversationId="g1" />, s);
    expect(view.button('Start video call').disabled).toBe(true);
    act(() => s.store.getState().roomsState(room([BOB.id])));
    expect(view.container.querySelector('button')).toBeNull();
  });
});

describe('RoomBanner', () => {
  it('shows a live call with its count, and joins it', () => {
    const s = services();
    s.store.getState().roomsReady([room([BOB.id, CAROL.id])]);
    view = render(<RoomBanner conversationId="g1" />, s);
    expect(view.container.textContent).toContain('Call in progress');
    expect(view.container.querySelector('[data-testid="room-banner-count"]')?.textContent).toBe('2 people in the call');
    click(view.container.querySelector<HTMLButtonElement>('button:not([aria-label])')!);
    expect(s.rooms.join).toHaveBeenCalledWith('g1', 'video');
    click(view.button('Join with audio only'));
    expect(s.rooms.join).toHaveBeenLastCalledWith('g1', 'audio');
  });

  it('says so when I am in it from another device; is gone once I am in it here, or it ended', () => {
    const s = services();
    s.store.getState().roomsReady([room([BOB.id, ME.id])]);
    view = render(<RoomBanner conversationId="g1" />, s);
    expect(view.container.textContent).toContain('You’re in this call on another device');
    expect(view.container.textContent).toContain('Join here');
    act(() => s.store.getState().roomsJoinRequested('g1', 'video'));
    expect(view.container.innerHTML).toBe('');
    act(() => {
      s.store.getState().roomsLeft('g1', 'left');
      s.store.getState().roomsState(room([]));
    });
    expect(view.container.innerHTML).toBe('');
  });
});

describe('RoomScreen', () => {
  function inCall(userIds: string[], flags: Parameters<typeof room>[1] = {}, media: Partial<RoomMediaView> = {}) {
    const s = services();
    s.store.getState().roomsJoinRequested('g1', 'video');
    s.store.getState().roomsJoined(room(userIds, flags), 1500);
    const m = { ...NO_ROOM_MEDIA, ...media };
    s.rooms.getMedia.mockReturnValue(m);
    return s;
  }

  it('one tile per participant with names; badges show who is muted or has the camera off', () => {
    const s = inCall([BOB.id, ME.id, CAROL.id, DAN.id], { [BOB.id]: { audio_muted: true }, [CAROL.id]: { video_muted: true } });
    view = render(<RoomScreen />, s);
    const t = tiles(view);
    expect(t.map((el) => el.getAttribute('aria-label'))).toEqual(['Bob', 'Me (you)', 'Carol', 'Dan']);
    expect(t.map((el) => el.dataset.muted)).toEqual(['true', 'false', 'false', 'false']);
    expect(t[0]!.querySelector('[data-testid="badge-muted"]')).not.toBeNull();
    expect(t[2]!.querySelector('[data-testid="badge-camera-off"]')).not.toBeNull();
    expect(view.container.querySelector('[data-testid="room-count"]')?.textContent).toBe('4');
    expect(view.container.querySelector('h2')?.textContent).toBe('Design crew');
    expect(view.container.querySelector('[data-testid="room-status"]')?.textContent).toBe('Connecting…');
  });

  it('rings the active speaker and shows who speaks', () => {
    const s = inCall([BOB.id, ME.id, CAROL.id]);
    view = render(<RoomScreen />, s);
    act(() => s.store.getState().roomsSpeakers('g1', [{ user_id: CAROL.id, level: 0.7 }, { user_id: BOB.id, level: 0.2 }]));
    const t = tiles(view);
    expect(t.map((el) => el.dataset.active)).toEqual(['false', 'false', 'true']);
    expect(t.map((el) => !!el.querySelector('[data-testid="speaking"]'))).toEqual([true, false, true]);
  });

  it('a screen share takes the spotlight; the cameras go to the strip', () => {
    const screen = new MediaStream();
    const s = inCall([BOB.id, ME.id], { [BOB.id]: { screen_sharing: true } }, {
      remote: [{ key: `${BOB.id}:screen`, userId: BOB.id, source: 'screen', mid: '5', track: {} as MediaStreamTrack, stream: screen }],
    });
    view = render(<RoomScreen />, s);
    expect(view.container.querySelector('[data-testid="room-spotlight"]')).not.toBeNull();
    const t = tiles(view);
    expect(t.map((el) => `${el.dataset.user}:${el.dataset.source}`)).toEqual([`${BOB.id}:screen`, `${BOB.id}:camera`, `${ME.id}:camera`]);
    expect(t[0]!.getAttribute('aria-label')).toBe('Bob’s screen');
  });

  it('the controls call the room controller', () => {
    const s = inCall([BOB.id, ME.id]);
    view = render(<RoomScreen />, s);
    click(view.button('Mute microphone'));
    expect(s.rooms.toggleMic).toHaveBeenCalled();
    click(view.button('Turn camera off'));
    expect(s.rooms.toggleCamera).toHaveBeenCalled();
    click(view.button('Share the screen'));
    expect(s.rooms.toggleScreenShare).toHaveBeenCalled();
    click(view.button('Leave call'));
    expect(s.rooms.leave).toHaveBeenCalled();
    act(() => s.store.getState().roomsMicToggled('g1'));
    expect(view.button('Unmute microphone').getAttribute('aria-pressed')).toBe('true');
  });

  it('no screen-share button where the browser cannot share a screen', () => {
    const s = inCall([ME.id]);
    s.rooms.canShareScreen.mockReturnValue(false);
    view = render(<RoomScreen />, s);
    expect(() => view!.button('Share the screen')).toThrow();
  });

  it('status words', () => {
    const base = { interrupted: false, rejoined: false, resuming: false };
    expect(roomStatusText({ ...base, phase: 'joining' })).toBe('Joining…');
    expect(roomStatusText({ ...base, phase: 'joining', rejoined: true })).toBe('Rejoining…');
    expect(roomStatusText({ ...base, phase: 'joining', resuming: true })).toBe('Reconnecting…');
    expect(roomStatusText({ ...base, phase: 'connected', interrupted: true })).toBe('Reconnecting…');
    expect(roomStatusText({ ...base, phase: 'connected' })).toBeNull();
  });
});
