import { describe, expect, it } from 'vitest';
import { BOB } from '../../test/fixtures';
import { BOB_SESSION, flush, incoming, ofType, outgoingConnecting, setup, useCallTestClock, view } from './testing';

useCallTestClock();

describe('call signaling: offers, answers, candidates', () => {
  it('remote candidates wait for the remote description, then are added in order', async () => {
    const h = setup();
    await outgoingConnecting(h);
    const c1 = { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 };
    const c2 = { candidate: 'candidate:2', sdpMid: '0', sdpMLineIndex: 0 };
    h.relayEvent({ type: 'call.ice', call_id: 'k1', from: BOB.id, candidate: c1 });
    h.relayEvent({ type: 'call.ice', call_id: 'k1', from: BOB.id, candidate: c2 });
    await flush();
    expect(h.pc().addedCandidates).toEqual([]);
    expect(h.current()?.pendingCandidates).toBe(2);
    h.relayEvent({ type: 'call.answer', call_id: 'k1', from: BOB.id, sdp: 'bob-answer' });
    await flush();
    expect(h.pc().log).toEqual(['local:offer', 'remote:answer', 'candidate', 'candidate']);
    expect(h.pc().addedCandidates).toEqual([c1, c2]);
    expect(h.current()?.pendingCandidates).toBe(0);
    // Later ones go straight in; end-of-candidates too.
    h.relayEvent({ type: 'call.ice', call_id: 'k1', from: BOB.id, candidate: null });
    await flush();
    expect(h.pc().addedCandidates).toHaveLength(3);
  });
  it('crossing offers: the caller keeps its own; the callee rolls back and answers', async () => {
    const caller = setup();
    await outgoingConnecting(caller); // have-local-offer
    caller.relayEvent({ type: 'call.offer', call_id: 'k1', from: BOB.id, sdp: 'bob-restart' });
    await flush();
    expect(caller.pc().log).toEqual(['local:offer']);
    expect(ofType(caller, 'call.answer')).toEqual([]);

    const callee = setup();
    callee.store.getState().callsServerEvent('ringing', incoming());
    callee.controller.accept();
    await flush();
    callee.relayEvent({ type: 'call.offer', call_id: 'k1', from: BOB.id, sdp: 'first' });
    await flush();
    callee.online(); // our own restart offer goes out…
    await flush();
    callee.relayEvent({ type: 'call.offer', call_id: 'k1', from: BOB.id, sdp: 'crossing' }); // …and crosses his
    await flush();
    expect(callee.pc().log.slice(-4)).toEqual(['local:offer', 'local:rollback', 'remote:offer', 'local:answer']);
    expect(ofType(callee, 'call.answer').at(-1)?.sdp).toBe('answer-to-crossing');
  });
  it('an offer that could not be sent (socket down) is taken back and sent after the rejoin', async () => {
    const h = setup();
    await outgoingConnecting(h);
    h.relayEvent({ type: 'call.answer', call_id: 'k1', from: BOB.id, sdp: 'a' });
    await flush();
    h.pc().setConnection('connected');
    h.socketUp.ok = false;
    h.online();
    await flush();
    expect(h.pc().signalingState).toBe('stable');
    expect(h.pc().log.at(-1)).toBe('local:rollback');
    h.socketUp.ok = true;
    const listed = view({ state: 'active', callee_session: BOB_SESSION });
    h.store.getState().callsReady('s-me-2', new Date().toISOString(), [listed]);
    expect(h.store.getState().calls.rejoining).toBe(true);
    h.store.getState().callsServerEvent('state', { ...listed, caller_session: 's-me-2' });
    await flush();
    expect(ofType(h, 'call.offer').at(-1)?.sdp).toMatch(/restart/);
  });
});
