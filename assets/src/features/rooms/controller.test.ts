import { describe, expect, it, vi } from 'vitest';
import { BOB, CAROL, ME } from '../../test/fixtures';
import { ANSWER_TIMEOUT_MS } from './negotiation';
import { VIEW_DEBOUNCE_MS } from './viewReport';
import { flush, joinedRoom, ofType, roomView, setupRoom, useRoomTestClock } from './testing';

useRoomTestClock();

describe('room controller: joining', () => {
  it('sends room.join at once, asks for media meanwhile, and offers its send tracks after room.joined', async () => {
    const h = setupRoom();
    expect(h.controller.join('g1', 'video')).toBe(true);
    expect(ofType(h, 'room.join')).toEqual([{ type: 'room.join', conversation_id: 'g1' }]);
    expect(h.gum).toHaveBeenCalledWith({ audio: true, video: expect.objectContaining({ width: { ideal: 960 } }) });
    expect(h.store.getState().rooms.session).toMatchObject({ conversationId: 'g1', phase: 'joining' });
    await flush();
    expect(h.pcs).toHaveLength(0); // nothing before the server has us in

    h.event({ type: 'room.joined', room: roomView([BOB.id, ME.id]), max_video_kbps: 1200 });
    await flush();
    expect(h.store.getState().rooms.session).toMatchObject({ phase: 'connecting', maxVideoKbps: 1200 });
    expect(h.store.getState().rooms.live.g1?.participants).toHaveLength(2);
    const pc = h.pc();
    expect(pc.config.iceServers).toEqual([{ urls: ['turn:127.0.0.1:3478'], username: 'u', credential: 'c' }]);
    expect(pc.count('sendonly:audio')).toBe(1);
    expect(pc.count('sendonly:video')).toBe(1);
    expect(ofType(h, 'room.offer')).toEqual([
      { type: 'room.offer', conversation_id: 'g1', sdp: 'offer-1', tracks: [{ mid: '0', source: 'microphone' }, { mid: '1', source: 'camera' }] },
    ]);
    expect(h.exposed).toEqual([pc]);
  });

  it('sends the camera as three simulcast layers, the top one capped at max_video_kbps', async () => {
    const h = setupRoom();
    await joinedRoom(h);
    const camera = h.pc().transceivers.find((t) => t.kind === 'video' && t.direction === 'sendonly')!;
    expect(camera.init.sendEncodings).toEqual([
      { rid: 'h', active: true, maxBitrate: 1_200_000, scaleResolutionDownBy: 1 },
      { rid: 'm', active: true, maxBitrate: 360_000, scaleResolutionDownBy: 2 },
      { rid: 'l', active: true, maxBitrate: 120_000, scaleResolutionDownBy: 4 },
    ]);
  });

  it('cannot join while in another room, in a 1-on-1 call or offline', async () => {
    const h = setupRoom();
    await joinedRoom(h);
    expect(h.controller.join('g2', 'audio')).toBe(false);
    const g = setupRoom();
    g.store.getState().connectionChanged('offline');
    expect(g.controller.join('g1', 'audio')).toBe(false);
    expect(g.sent).toEqual([]);
  });

  it('a video join without a camera goes on with audio; without any media it still receives', async () => {
    const h = setupRoom({
      gum: async (c) => {
        if (c.video) throw Object.assign(new Error('none'), { name: 'NotFoundError' });
        const { FakeStream, FakeTrack } = await import('./testing');
        return new FakeStream([new FakeTrack('audio')]);
      },
    });
    await joinedRoom(h);
    expect(h.notify.info).toHaveBeenCalledWith('No camera found', 'You join with audio only.');
    expect(h.store.getState().rooms.session?.noCamera).toBe(true);
    expect(ofType(h, 'room.offer')[0]?.tracks).toEqual([{ mid: '0', source: 'microphone' }]);

    const denied = setupRoom({ gum: async () => Promise.reject(Object.assign(new Error('no'), { name: 'NotAllowedError' })) });
    await joinedRoom(denied);
    expect(denied.notify.error).toHaveBeenCalled();
    expect(ofType(denied, 'room.offer')[0]?.tracks).toEqual([]);
  });

  it('a join error ends the session with its words', async () => {
    const h = setupRoom();
    h.controller.join('g1', 'video');
    await flush();
    h.event({ type: 'error', code: 'room_full', message: 'full', conversation_id: 'g1' });
    expect(h.store.getState().rooms.session).toBeNull();
    expect(h.notify.error).toHaveBeenCalledWith('The call is full', undefined);
    expect(h.streams.flatMap((s) => s.tracks).every((t) => t.stopped)).toBe(true);
  });
});

describe('room controller: the negotiation queue', () => {
  it('never has two offers in flight: a renegotiate during an offer waits for its answer', async () => {
    const h = setupRoom();
    await joinedRoom(h, 'video', [BOB.id, CAROL.id]);
    expect(ofType(h, 'room.offer')).toHaveLength(1);
    h.event({ type: 'room.renegotiate', conversation_id: 'g1', audio: 2, video: 2 });
    h.event({ type: 'room.renegotiate', conversation_id: 'g1', audio: 2, video: 2 });
    await flush();
    expect(ofType(h, 'room.offer')).toHaveLength(1); // still waiting for the first answer
    expect(h.pc().count('recvonly:audio')).toBe(0);

    h.event({ type: 'room.answer', conversation_id: 'g1', sdp: 'answer-1', slots: [] });
    await flush();
    // One new offer covers both requests, with the slots added.
    const offers = ofType(h, 'room.offer');
    expect(offers).toHaveLength(2);
    expect(h.pc().count('recvonly:audio')).toBe(2);
    expect(h.pc().count('recvonly:video')).toBe(2);
    expect(offers[1]!.tracks).toEqual([{ mid: '0', source: 'microphone' }, { mid: '1', source: 'camera' }]);
    expect(h.pc().log.filter((l) => l.startsWith('local:') || l.startsWith('remote:'))).toEqual(['local:offer', 'remote:answer', 'local:offer']);
  });

  it('never removes slots: fewer wanted later keeps the ones there', async () => {
    const h = setupRoom();
    await joinedRoom(h);
    h.event({ type: 'room.renegotiate', conversation_id: 'g1', audio: 3, video: 3 });
    h.event({ type: 'room.answer', conversation_id: 'g1', sdp: 'a1', slots: [] });
    await flush();
    h.event({ type: 'room.answer', conversation_id: 'g1', sdp: 'a2', slots: [] });
    h.event({ type: 'room.renegotiate', conversation_id: 'g1', audio: 1, video: 1 });
    await flush();
    expect(h.pc().count('recvonly:audio')).toBe(3);
  });

  it('ignores a stale answer, and offers again when an answer never comes', async () => {
    const h = setupRoom();
    await joinedRoom(h);
    h.event({ type: 'room.answer', conversation_id: 'g1', sdp: 'a1', slots: [] });
    await flush();
    h.event({ type: 'room.answer', conversation_id: 'g1', sdp: 'late', slots: [] });
    await flush();
    expect(h.pc().log.filter((l) => l === 'remote:answer')).toHaveLength(1);

    h.event({ type: 'room.renegotiate', conversation_id: 'g1', audio: 1, video: 1 });
    await flush();
    expect(ofType(h, 'room.offer')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(ANSWER_TIMEOUT_MS);
    expect(ofType(h, 'room.offer')).toHaveLength(3);
    expect(h.pc().log).toContain('local:rollback');
  });

  it('a new socket joins again from it, with a new connection and the same media; mute is told again', async () => {
    const h = setupRoom();
    await joinedRoom(h);
    h.controller.toggleMic();
    const first = h.pc();
    const tracks = h.streams[0]!.tracks;
    h.socketUp.ok = false;
    h.store.getState().connectionChanged('connecting');
    h.socketUp.ok = true;
    h.store.getState().connectionChanged('open');
    expect(first.closed).toBe(true);
    expect(ofType(h, 'room.join')).toHaveLength(2);
    expect(h.store.getState().rooms.session).toMatchObject({ phase: 'joining', resuming: true, rejoined: false, muted: true });
    h.event({ type: 'room.joined', room: roomView(), max_video_kbps: 1500 });
    await flush();
    expect(h.pcs).toHaveLength(2);
    expect(h.pc().transceivers[0]!.sender.track).toBe(tracks[0]);
    expect(ofType(h, 'room.offer')).toHaveLength(2);
    expect(ofType(h, 'room.mute').at(-1)).toEqual({ type: 'room.mute', conversation_id: 'g1', source: 'microphone', muted: true });
    expect(h.store.getState().rooms.session).toMatchObject({ phase: 'connecting', resuming: false });
    // A node_lost later still gets its one automatic join again.
    h.event({ type: 'room.left', conversation_id: 'g1', reason: 'node_lost' });
    expect(h.store.getState().rooms.session?.rejoined).toBe(true);
  });

});

describe('room controller: errors after the join', () => {
  it('unavailable takes the offer back and tries again; room_not_joined joins again once', async () => {
    const h = setupRoom();
    await joinedRoom(h);
    h.event({ type: 'error', code: 'unavailable', message: 'node busy', conversation_id: 'g1' });
    await flush();
    expect(h.pc().log).toContain('local:rollback');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(ofType(h, 'room.offer')).toHaveLength(2);

    h.event({ type: 'error', code: 'room_not_joined', message: 'not in the room', conversation_id: 'g1' });
    expect(ofType(h, 'room.join')).toHaveLength(2);
    expect(h.store.getState().rooms.session?.phase).toBe('joining');
  });

  it('invalid_sdp for our offer leaves with a notice; errors of another room are not ours', async () => {
    const h = setupRoom();
    await joinedRoom(h);
    h.event({ type: 'error', code: 'invalid_sdp', message: 'no VP8', conversation_id: 'g2' });
    expect(h.store.getState().rooms.session).not.toBeNull();
    h.event({ type: 'error', code: 'invalid_sdp', message: 'no VP8', conversation_id: 'g1' });
    expect(h.store.getState().rooms.session).toBeNull();
    expect(ofType(h, 'room.leave')).toHaveLength(1);
    expect(h.notify.info).toHaveBeenCalledWith('The call’s connection failed', 'Join again to retry.');
  });
});

describe('room controller: remote tracks', () => {
  it('maps slots to one stream per participant and source, and reports the tiles’ sizes', async () => {
    const h = setupRoom();
    await joinedRoom(h, 'video', [BOB.id]);
    h.event({ type: 'room.renegotiate', conversation_id: 'g1', audio: 1, video: 1 });
    h.event({ type: 'room.answer', conversation_id: 'g1', sdp: 'a1', slots: [] });
    await flush();
    h.event({
      type: 'room.answer',
      conversation_id: 'g1',
      sdp: 'a2',
      slots: [
        { mid: '2', user_id: BOB.id, source: 'microphone' },
        { mid: '3', user_id: BOB.id, source: 'camera' },
      ],
    });
    await flush();
    const remote = h.controller.getMedia().remote;
    expect(remote.map((r) => r.key)).toEqual([`${BOB.id}:microphone`, `${BOB.id}:camera`]);
    expect(remote[1]!.track).toBe(h.pc().recvonly('video')[0]!.receiver.track);

    h.controller.setTileSize(BOB.id, 'camera', { width: 640.4, height: 360 });
    await vi.advanceTimersByTimeAsync(VIEW_DEBOUNCE_MS);
    expect(ofType(h, 'room.view').at(-1)).toEqual({
      type: 'room.view',
      conversation_id: 'g1',
      tiles: [{ user_id: BOB.id, source: 'camera', width: 640, height: 360 }],
    });

    // Bob leaves, Carol takes the slot: a new stream for her, Bob's is gone.
    const before = ofType(h, 'room.view').length;
    h.event({ type: 'room.slots', conversation_id: 'g1', slots: [{ mid: '3', user_id: CAROL.id, source: 'camera' }] });
    const now = h.controller.getMedia().remote;
    expect(now.map((r) => r.key)).toEqual([`${CAROL.id}:camera`]);
    expect(now[0]!.stream).not.toBe(remote[1]!.stream);
    await vi.advanceTimersByTimeAsync(VIEW_DEBOUNCE_MS);
    // Carol's video is not on screen yet: hidden.
    expect(ofType(h, 'room.view').slice(before)).toEqual([
      { type: 'room.view', conversation_id: 'g1', tiles: [{ user_id: CAROL.id, source: 'camera', width: 0, height: 0 }] },
    ]);
  });
});

describe('room controller: our media', () => {
  it('mute and camera off: track.enabled and room.mute', async () => {
    const h = setupRoom();
    await joinedRoom(h);
    const [mic, cam] = h.streams[0]!.tracks;
    h.controller.toggleMic();
    expect(mic!.enabled).toBe(false);
    expect(ofType(h, 'room.mute')).toEqual([{ type: 'room.mute', conversation_id: 'g1', source: 'microphone', muted: true }]);
    h.controller.toggleCamera();
    expect(cam!.enabled).toBe(false);
    expect(ofType(h, 'room.mute').at(-1)).toEqual({ type: 'room.mute', conversation_id: 'g1', source: 'camera', muted: true });
    h.controller.toggleMic();
    expect(mic!.enabled).toBe(true);
    expect(h.store.getState().rooms.session).toMatchObject({ muted: false, cameraOff: true });
  });

  it('muting before room.joined is told to the server once it has us', async () => {
    const h = setupRoom();
    h.controller.join('g1', 'video');
    h.controller.toggleMic();
    expect(ofType(h, 'room.mute')).toEqual([]);
    await flush();
    h.event({ type: 'room.joined', room: roomView(), max_video_kbps: 1500 });
    await flush();
    expect(ofType(h, 'room.mute')).toEqual([{ type: 'room.mute', conversation_id: 'g1', source: 'microphone', muted: true }]);
    expect(h.streams[0]!.tracks[0]!.enabled).toBe(false);
  });

  it('switches the camera with replaceTrack, keeping camera-off, and stops the old one', async () => {
    const h = setupRoom();
    await joinedRoom(h);
    h.controller.toggleCamera();
    const old = h.streams[0]!.getVideoTracks()[0]!;
    await h.controller.switchDevice('videoinput', 'cam-2');
    const sender = h.pc().transceivers.find((t) => t.kind === 'video' && t.direction === 'sendonly')!.sender;
    expect(sender.replaceTrack).toHaveBeenCalledTimes(1);
    expect(sender.track).toBe(h.streams[1]!.getVideoTracks()[0]);
    expect(sender.track!.enabled).toBe(false);
    expect(old.stopped).toBe(true);
    expect(h.controller.getMedia().devices.videoinput).toBe('cam-2');
    expect(ofType(h, 'room.offer')).toHaveLength(1); // no renegotiation
  });

  it('an audio join turns the camera on later: a new sendonly transceiver and an offer', async () => {
    const h = setupRoom();
    await joinedRoom(h, 'audio');
    expect(h.store.getState().rooms.session?.cameraOff).toBe(true);
    h.event({ type: 'room.answer', conversation_id: 'g1', sdp: 'a1', slots: [] });
    await flush();
    h.controller.toggleCamera();
    await flush();
    expect(h.pc().count('sendonly:video')).toBe(1);
    expect(ofType(h, 'room.offer').at(-1)?.tracks).toEqual([{ mid: '0', source: 'microphone' }, { mid: '1', source: 'camera' }]);
    expect(ofType(h, 'room.mute').at(-1)).toEqual({ type: 'room.mute', conversation_id: 'g1', source: 'camera', muted: false });
  });

  it('screen share: a sendonly transceiver and an offer; stopping it takes it out of tracks', async () => {
    const h = setupRoom();
    await joinedRoom(h);
    h.event({ type: 'room.answer', conversation_id: 'g1', sdp: 'a1', slots: [] });
    await flush();
    await h.controller.toggleScreenShare();
    await flush();
    expect(h.gdm).toHaveBeenCalledWith({ video: true, audio: false });
    expect(h.store.getState().rooms.session?.screenSharing).toBe(true);
    expect(ofType(h, 'room.offer').at(-1)?.tracks).toEqual([
      { mid: '0', source: 'microphone' },
      { mid: '1', source: 'camera' },
      { mid: '2', source: 'screen' },
    ]);
    expect(h.controller.getMedia().screen).not.toBeNull();
    h.event({ type: 'room.answer', conversation_id: 'g1', sdp: 'a2', slots: [] });
    await flush();

    // The browser's own "Stop sharing".
    const screen = h.streams.at(-1)!.tracks[0]!;
    screen.end();
    await flush();
    expect(h.store.getState().rooms.session?.screenSharing).toBe(false);
    expect(h.pc().transceivers.find((t) => t.mid === '2')?.stopped).toBe(true);
    expect(ofType(h, 'room.offer').at(-1)?.tracks).toEqual([
      { mid: '0', source: 'microphone' },
      { mid: '1', source: 'camera' },
    ]);
    expect(h.controller.getMedia().screen).toBeNull();
  });
});

describe('room controller: leaving', () => {
  it('leave sends room.leave, closes the connection and stops every track', async () => {
    const h = setupRoom();
    await joinedRoom(h);
    const pc = h.pc();
    h.controller.leave();
    expect(ofType(h, 'room.leave')).toEqual([{ type: 'room.leave', conversation_id: 'g1' }]);
    expect(pc.closed).toBe(true);
    expect(h.streams.flatMap((s) => s.tracks).every((t) => t.stopped)).toBe(true);
    expect(h.exposed.at(-1)).toBeNull();
    expect(h.store.getState().rooms.session).toBeNull();
    expect(h.controller.getMedia().remote).toEqual([]);
    expect(h.notify.info).not.toHaveBeenCalled();
  });

  it('node_lost: joins again once with the same media and a new connection; a second time ends it', async () => {
    const h = setupRoom();
    await joinedRoom(h);
    const first = h.pc();
    const tracks = h.streams[0]!.tracks;
    h.event({ type: 'room.left', conversation_id: 'g1', reason: 'node_lost' });
    expect(first.closed).toBe(true);
    expect(ofType(h, 'room.join')).toHaveLength(2);
    expect(h.store.getState().rooms.session).toMatchObject({ phase: 'joining', rejoined: true });
    expect(tracks.some((t) => t.stopped)).toBe(false);
    h.event({ type: 'room.joined', room: roomView(), max_video_kbps: 1500 });
    await flush();
    expect(h.pcs).toHaveLength(2);
    expect(h.pc().count('sendonly:video')).toBe(1);
    expect(h.pc().transceivers[0]!.sender.track).toBe(tracks[0]);
    expect(h.gum).toHaveBeenCalledTimes(1);

    h.event({ type: 'room.left', conversation_id: 'g1', reason: 'node_lost' });
    expect(h.store.getState().rooms.session).toBeNull();
    expect(h.notify.info).toHaveBeenCalledWith('The call was interrupted', 'Join again to restart it.');
    expect(tracks.every((t) => t.stopped)).toBe(true);
  });

  it('joined_elsewhere ends the session with a notice', async () => {
    const h = setupRoom();
    await joinedRoom(h);
    h.event({ type: 'room.left', conversation_id: 'g1', reason: 'joined_elsewhere' });
    expect(h.store.getState().rooms.session).toBeNull();
    expect(h.store.getState().rooms.lastLeft).toEqual({ conversationId: 'g1', reason: 'joined_elsewhere' });
    expect(h.notify.info).toHaveBeenCalledWith('You joined the call on another device', undefined);
  });

  it('sign-out (the slice reset) tears the session down', async () => {
    const h = setupRoom();
    await joinedRoom(h);
    h.store.getState().chatReset();
    expect(h.pc().closed).toBe(true);
    expect(h.streams[0]!.tracks.every((t) => t.stopped)).toBe(true);
  });

  it('the connection state shows in the session', async () => {
    const h = setupRoom();
    await joinedRoom(h);
    h.pc().setConnection('connected');
    expect(h.store.getState().rooms.session).toMatchObject({ phase: 'connected', interrupted: false });
    h.pc().setConnection('failed');
    expect(h.store.getState().rooms.session?.interrupted).toBe(true);
    h.event({ type: 'room.answer', conversation_id: 'g1', sdp: 'a1', slots: [] });
    await flush();
    expect(h.pc().offerOptions.at(-1)).toEqual({ iceRestart: true });
  });
});
