import { describe, expect, it, vi } from 'vitest';
import { BOB } from '../../test/fixtures';
import { ENDED_NOTICE_MS } from './controller';
import { BOB_SESSION, allTracks, flush, ofType, outgoingConnecting, setup, useCallTestClock, view } from './testing';

useCallTestClock();

describe('call session: the one way out', () => {
  it('hanging up closes the peer connection and stops every local track — once, for good', async () => {
    const h = setup();
    await outgoingConnecting(h);
    const pc = h.pc();
    pc.setConnection('connected');
    h.controller.hangUp();
    expect(ofType(h, 'call.hangup')).toEqual([{ type: 'call.hangup', call_id: 'k1', reason: 'hangup' }]);
    expect(pc.closed).toBe(true);
    expect(pc.onicecandidate).toBeNull();
    expect(allTracks(h).every((t) => t.stopped)).toBe(true);
    expect(h.exposed).toEqual([pc, null]);
    expect(h.current()).toBeNull();
    expect(h.controller.getMedia()).toMatchObject({ local: null, remote: null });
    expect(h.store.getState().calls).toMatchObject({ phase: 'ended', endReason: 'hangup' });
    // Nothing more goes out for a dead connection.
    pc.onicecandidate?.({ candidate: null });
    h.relayEvent({ type: 'call.offer', call_id: 'k1', from: BOB.id, sdp: 'late' });
    await flush();
    expect(pc.log).not.toContain('remote:offer');
    await vi.advanceTimersByTimeAsync(ENDED_NOTICE_MS);
    expect(h.store.getState().calls.phase).toBe('idle');
  });
  it('the other side hanging up tears down the same way', async () => {
    const h = setup();
    await outgoingConnecting(h);
    const pc = h.pc();
    h.store.getState().callsServerEvent('state', view({ state: 'ended', reason: 'hangup', callee_session: BOB_SESSION }));
    expect(pc.closed).toBe(true);
    expect(allTracks(h).every((t) => t.stopped)).toBe(true);
    expect(h.exposed.at(-1)).toBeNull();
  });
  it('stop() (sign-out) tears the call down too', async () => {
    const h = setup();
    await outgoingConnecting(h);
    const pc = h.pc();
    h.controller.stop();
    expect(pc.closed).toBe(true);
    expect(allTracks(h).every((t) => t.stopped)).toBe(true);
  });
});
