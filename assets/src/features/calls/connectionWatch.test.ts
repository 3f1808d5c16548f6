import { describe, expect, it, vi } from 'vitest';
import { BOB } from '../../test/fixtures';
import { FAILED_HANGUP_AFTER_MS, ICE_RESTART_AFTER_MS } from './connectionWatch';
import { flush, incoming, ofType, outgoingConnecting, setup, useCallTestClock } from './testing';

useCallTestClock();

describe('call connection watch: keeping the connection', () => {
  it('trickles its own candidates and says call.connected once the connection is up', async () => {
    const h = setup();
    await outgoingConnecting(h);
    const json = { candidate: 'candidate:9', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'f' };
    h.pc().onicecandidate?.({ candidate: { toJSON: () => json } });
    h.pc().onicecandidate?.({ candidate: null });
    expect(ofType(h, 'call.ice')).toEqual([
      { type: 'call.ice', call_id: 'k1', candidate: json },
      { type: 'call.ice', call_id: 'k1', candidate: null },
    ]);
    h.pc().setConnection('connecting');
    expect(ofType(h, 'call.connected')).toEqual([]);
    h.pc().setConnection('connected');
    h.pc().setConnection('disconnected');
    expect(h.store.getState().calls).toMatchObject({ phase: 'connected', interrupted: true });
    h.pc().setConnection('connected');
    expect(ofType(h, 'call.connected')).toEqual([{ type: 'call.connected', call_id: 'k1' }]);
    expect(h.store.getState().calls.interrupted).toBe(false);
  });
  it('ICE down for 2 s: restarts with an offer that has iceRestart, again while it lasts', async () => {
    const h = setup();
    await outgoingConnecting(h);
    h.relayEvent({ type: 'call.answer', call_id: 'k1', from: BOB.id, sdp: 'a' });
    await flush();
    h.pc().setConnection('connected');
    h.pc().setIce('disconnected');
    await vi.advanceTimersByTimeAsync(ICE_RESTART_AFTER_MS - 1);
    expect(ofType(h, 'call.offer')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(ofType(h, 'call.offer').at(-1)?.sdp).toBe('offer-2-restart');
    expect(h.pc().offerOptions.at(-1)).toEqual({ iceRestart: true });
    // Recovered: no more restarts.
    h.relayEvent({ type: 'call.answer', call_id: 'k1', from: BOB.id, sdp: 'a2' });
    await flush();
    h.pc().setIce('connected');
    await vi.advanceTimersByTimeAsync(ICE_RESTART_AFTER_MS * 3);
    expect(ofType(h, 'call.offer')).toHaveLength(2);
  });
  it('a blip shorter than 2 s restarts nothing', async () => {
    const h = setup();
    await outgoingConnecting(h);
    h.pc().setIce('disconnected');
    await vi.advanceTimersByTimeAsync(1_000);
    h.pc().setIce('connected');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(ofType(h, 'call.offer')).toHaveLength(1);
  });
  it('back online: an ICE restart at once (the callee may restart too)', async () => {
    const h = setup();
    h.store.getState().callsServerEvent('ringing', incoming());
    h.controller.accept();
    await flush();
    h.relayEvent({ type: 'call.offer', call_id: 'k1', from: BOB.id, sdp: 'bob-offer' });
    await flush();
    h.online();
    await flush();
    expect(ofType(h, 'call.offer')).toEqual([{ type: 'call.offer', call_id: 'k1', sdp: 'offer-1-restart' }]);
  });
  it('failed for 10 s despite the restart: hangs up with reason failed', async () => {
    const h = setup();
    await outgoingConnecting(h);
    h.relayEvent({ type: 'call.answer', call_id: 'k1', from: BOB.id, sdp: 'a' });
    await flush();
    h.pc().setConnection('connected');
    const pc = h.pc();
    pc.setConnection('failed');
    await flush();
    expect(ofType(h, 'call.offer').at(-1)?.sdp).toMatch(/restart/);
    await vi.advanceTimersByTimeAsync(FAILED_HANGUP_AFTER_MS);
    expect(ofType(h, 'call.hangup')).toEqual([{ type: 'call.hangup', call_id: 'k1', reason: 'failed' }]);
    expect(h.store.getState().calls).toMatchObject({ phase: 'ended', endReason: 'failed' });
    expect(pc.closed).toBe(true);
  });
  it('failed, then recovered within 10 s: the call goes on', async () => {
    const h = setup();
    await outgoingConnecting(h);
    h.pc().setConnection('connected');
    h.pc().setConnection('failed');
    await vi.advanceTimersByTimeAsync(3_000);
    h.pc().setConnection('connected');
    await vi.advanceTimersByTimeAsync(FAILED_HANGUP_AFTER_MS);
    expect(ofType(h, 'call.hangup')).toEqual([]);
    expect(h.store.getState().calls.phase).toBe('connected');
  });
});
