import { describe, expect, it } from 'vitest';
import { BOB } from '../../test/fixtures';
import { BOB_SESSION, flush, incoming, ofType, outgoingConnecting, setup, useCallTestClock, view } from './testing';

useCallTestClock();

describe('call controller: the one call of the tab', () => {
  it('invites, gets media while it rings, and offers once the call is connecting', async () => {
    const h = setup();
    h.controller.startCall('c1', BOB.id, 'video');
    expect(ofType(h, 'call.invite')).toEqual([{ type: 'call.invite', call_id: 'k1', conversation_id: 'c1', media: 'video' }]);
    expect(h.gum).toHaveBeenCalledWith({ audio: true, video: true });
    await flush();
    // Ringing: no peer connection, no ICE servers fetched yet.
    expect(h.pcs).toHaveLength(0);
    expect(h.iceServers).not.toHaveBeenCalled();
    expect(h.controller.getMedia().local).toBe(h.streams[0]);

    h.store.getState().callsServerEvent('state', view({ state: 'connecting', callee_session: BOB_SESSION }));
    await flush();
    expect(h.iceServers).toHaveBeenCalledTimes(1);
    expect(h.pc().config.iceServers).toEqual([{ urls: ['turn:example.org:3478'], username: 'u', credential: 'c' }]);
    expect(h.pc().config.iceTransportPolicy).toBeUndefined();
    expect(h.pc().tracks.map((t) => t.kind)).toEqual(['audio', 'video']);
    expect(ofType(h, 'call.offer')).toEqual([{ type: 'call.offer', call_id: 'k1', sdp: 'offer-1' }]);
    expect(h.exposed).toEqual([h.pc()]);
  });
  it('cannot start a second call, nor one while offline', async () => {
    const h = setup();
    await outgoingConnecting(h);
    expect(h.controller.startCall('c2', 'carol', 'audio')).toBe(false);
    const g = setup();
    g.store.getState().connectionChanged('offline');
    expect(g.controller.startCall('c1', BOB.id, 'audio')).toBe(false);
    expect(g.sent).toEqual([]);
  });
  it('asks for media only after Accept, then accepts and answers the caller’s offer', async () => {
    const h = setup();
    h.store.getState().callsServerEvent('ringing', incoming({ media: 'audio' }));
    await flush();
    expect(h.gum).not.toHaveBeenCalled();
    h.controller.accept();
    expect(h.gum).toHaveBeenCalledWith({ audio: true });
    await flush();
    expect(ofType(h, 'call.accept')).toEqual([{ type: 'call.accept', call_id: 'k1' }]);
    expect(h.store.getState().calls.phase).toBe('connecting');
    await flush();
    // The callee does not offer first.
    expect(ofType(h, 'call.offer')).toEqual([]);
    h.relayEvent({ type: 'call.offer', call_id: 'k1', from: BOB.id, sdp: 'bob-offer' });
    await flush();
    expect(h.pc().log).toEqual(['remote:offer', 'local:answer']);
    expect(ofType(h, 'call.answer')).toEqual([{ type: 'call.answer', call_id: 'k1', sdp: 'answer-to-bob-offer' }]);
  });
  it('declining sends call.reject and never touches the camera', () => {
    const h = setup();
    h.store.getState().callsServerEvent('ringing', incoming());
    h.controller.decline();
    expect(ofType(h, 'call.reject')).toEqual([{ type: 'call.reject', call_id: 'k1' }]);
    expect(h.gum).not.toHaveBeenCalled();
  });
  it('a call on another device of mine never gets a peer connection here', async () => {
    const h = setup();
    h.store.getState().callsServerEvent('ringing', incoming());
    h.store.getState().callsServerEvent('state', incoming({ state: 'ended', reason: 'answered_elsewhere' }));
    h.store.getState().callsServerEvent('state', incoming({ state: 'active', callee_session: 's-my-phone' }));
    await flush();
    expect(h.notify.info).toHaveBeenCalledWith('Answered on another device');
    expect(h.pcs).toHaveLength(0);
    expect(h.gum).not.toHaveBeenCalled();
    expect(h.store.getState().calls.elsewhere).toMatchObject({ id: 'k1' });
  });
});
