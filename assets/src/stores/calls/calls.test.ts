import { describe, expect, it } from 'vitest';
import type { CallView } from '../../gateway/protocol';
import { BOB, ME } from '../../test/fixtures';
import { createAppStore } from '../index';
import { callsReducer, initialCallsState, rejoinTarget, type CallsAction, type CallsState } from './reducer';
import { callsSelectors, callStartedAt, callStatusText, endReasonLabel, formatCallDuration } from './selectors';

const MY_SESSION = 's-me';
const OTHER_DEVICE = 's-me-phone';
const BOB_SESSION = 's-bob';

/** A call between me and Bob as the server describes it; by default Bob calls me, ringing. */
function view(overrides: Partial<CallView> = {}): CallView {
  return {
    call_id: 'k1',
    conversation_id: 'c1',
    media: 'video',
    caller_id: BOB.id,
    callee_id: ME.id,
    state: 'ringing',
    reason: null,
    caller_session: BOB_SESSION,
    callee_session: null,
    created_at: '2026-11-28T05:00:00Z',
    answered_at: null,
    ended_at: null,
    ...overrides,
  };
}

/** My outgoing call to Bob. */
const outgoing = (overrides: Partial<CallView> = {}) =>
  view({ caller_id: ME.id, callee_id: BOB.id, caller_session: MY_SESSION, ...overrides });

const ready = (calls: CallView[] = [], sessionId = MY_SESSION): CallsAction => ({
  type: 'ready',
  sessionId,
  serverTime: Date.parse('2026-11-28T05:00:10Z'),
  now: Date.parse('2026-11-28T05:00:00Z'),
  myId: ME.id,
  calls,
});
const ringing = (c: CallView): CallsAction => ({ type: 'server', event: 'ringing', call: c, myId: ME.id });
const stateOf = (c: CallView): CallsAction => ({ type: 'server', event: 'state', call: c, myId: ME.id });
const invite = (callId = 'k1'): CallsAction => ({ type: 'invited', callId, conversationId: 'c1', media: 'video', peerId: BOB.id });

const run = (...actions: CallsAction[]) => actions.reduce(callsReducer, initialCallsState);
const then = (s: CallsState, ...actions: CallsAction[]) => actions.reduce(callsReducer, s);

/** Me, having called Bob, now in `connecting`. */
const callingConnected = () =>
  run(
    ready(),
    invite(),
    stateOf(outgoing()),
    stateOf(outgoing({ state: 'connecting', callee_session: BOB_SESSION })),
    { type: 'mediaConnected', callId: 'k1', now: 1_000 },
  );

describe('callsReducer: the caller', () => {
  it('idle → calling → connecting → connected → ended → idle', () => {
    let s = run(ready(), invite());
    expect(s).toMatchObject({ phase: 'calling', call: { id: 'k1', role: 'caller', peerId: BOB.id, serverState: null } });
    expect(callStatusText(s)).toBe('Calling…');
    s = then(s, stateOf(outgoing()));
    expect(s.phase).toBe('calling');
    expect(callStatusText(s)).toBe('Ringing');
    s = then(s, stateOf(outgoing({ state: 'connecting', callee_session: BOB_SESSION })));
    expect(s.phase).toBe('connecting');
    expect(callStatusText(s)).toBe('Connecting…');
    s = then(s, { type: 'mediaConnected', callId: 'k1', now: 1_000 });
    expect(s).toMatchObject({ phase: 'connected', connectedAt: 1_000 });
    expect(callStatusText(s)).toBe('Connected');
    s = then(s, stateOf(outgoing({ state: 'active', callee_session: BOB_SESSION, answered_at: '2026-11-28T05:00:20Z' })));
    expect(s).toMatchObject({ phase: 'connected', call: { answeredAt: '2026-11-28T05:00:20Z', serverState: 'active' } });
    s = then(s, stateOf(outgoing({ state: 'ended', reason: 'hangup', callee_session: BOB_SESSION })));
    expect(s).toMatchObject({ phase: 'ended', endReason: 'hangup' });
    expect(callStatusText(s)).toBe('Call ended');
    s = then(s, { type: 'cleared', callId: 'k1' });
    expect(s).toMatchObject({ phase: 'idle', call: null, sessionId: MY_SESSION });
  });

  it('declined, busy, missed and cancelled end the outgoing call with their words', () => {
    const endWith = (reason: string) => then(run(ready(), invite(), stateOf(outgoing())), stateOf(outgoing({ state: 'ended', reason })));
    expect(callStatusText(endWith('declined'))).toBe('Call ended: Declined');
    expect(callStatusText(endWith('busy'))).toBe('Call ended: Busy');
    expect(callStatusText(endWith('missed'))).toBe('Call ended: No answer');
    expect(callStatusText(endWith('failed'))).toBe('Call ended: Call failed');
    expect(callStatusText(endWith('connection_lost'))).toBe('Call ended: Connection lost');
  });

  it('hanging up here ends the call at once; the server’s echo changes nothing', () => {
    let s = then(callingConnected(), { type: 'endedLocally', callId: 'k1', reason: 'hangup' });
    expect(s).toMatchObject({ phase: 'ended', endReason: 'hangup' });
    s = then(s, stateOf(outgoing({ state: 'ended', reason: 'connection_lost', callee_session: BOB_SESSION })));
    expect(s.endReason).toBe('hangup');
  });

  it('the camera and microphone switches belong to the call and reset with the next', () => {
    let s = then(callingConnected(), { type: 'micToggled', callId: 'k1' }, { type: 'cameraToggled', callId: 'k1' });
    expect(s).toMatchObject({ muted: true, cameraOff: true });
    s = then(s, { type: 'micToggled', callId: 'k1' });
    expect(s.muted).toBe(false);
    s = then(s, { type: 'endedLocally', callId: 'k1', reason: 'hangup' }, { type: 'cleared', callId: 'k1' }, invite('k2'));
    expect(s).toMatchObject({ phase: 'calling', muted: false, cameraOff: false });
    // No camera: the camera switch does nothing.
    s = then(s, { type: 'audioOnly', callId: 'k2' }, { type: 'cameraToggled', callId: 'k2' });
    expect(s).toMatchObject({ audioOnly: true, cameraOff: false });
  });

  it('an interrupted connection shows "Reconnecting…" until the media is back', () => {
    let s = then(callingConnected(), { type: 'mediaInterrupted', callId: 'k1', interrupted: true });
    expect(callStatusText(s)).toBe('Reconnecting…');
    s = then(s, { type: 'mediaConnected', callId: 'k1', now: 9_000 });
    expect(s).toMatchObject({ phase: 'connected', interrupted: false, connectedAt: 1_000 });
  });

  it('a refused invite (an error with its call_id) ends it as failed', () => {
    const s = run(ready(), invite(), { type: 'error', callId: 'k1', code: 'rate_limited' });
    expect(s).toMatchObject({ phase: 'ended', endReason: 'failed' });
  });
});

describe('callsReducer: the callee', () => {
  it('ringing → receiving → accepting → connecting (server) → connected', () => {
    let s = run(ready(), ringing(view()));
    expect(s).toMatchObject({ phase: 'receiving', call: { id: 'k1', role: 'callee', peerId: BOB.id, media: 'video' } });
    expect(callStatusText(s)).toBe('Incoming video call');
    s = then(s, { type: 'accepting', callId: 'k1' });
    expect(s).toMatchObject({ phase: 'receiving', accepting: true });
    s = then(s, { type: 'accepted', callId: 'k1' });
    expect(s).toMatchObject({ phase: 'connecting', call: { calleeSession: MY_SESSION } });
    s = then(s, stateOf(view({ state: 'connecting', callee_session: MY_SESSION })));
    expect(s).toMatchObject({ phase: 'connecting', call: { role: 'callee' } });
    s = then(s, { type: 'mediaConnected', callId: 'k1', now: 5 });
    expect(s.phase).toBe('connected');
  });

  it('declining goes straight back to idle', () => {
    const s = run(ready(), ringing(view()), { type: 'declined', callId: 'k1' });
    expect(s).toMatchObject({ phase: 'idle', call: null });
  });

  it('a call cancelled or missed while ringing ends with its reason', () => {
    const s = run(ready(), ringing(view()), stateOf(view({ state: 'ended', reason: 'missed' })));
    expect(callStatusText(s)).toBe('Call ended: Missed');
    const t = run(ready(), ringing(view()), stateOf(view({ state: 'ended', reason: 'cancelled' })));
    expect(callStatusText(t)).toBe('Call ended: Cancelled');
  });

  it('answered_elsewhere: back to idle with a notice, then the call is only a hint', () => {
    let s = run(ready(), ringing(view()), stateOf(view({ state: 'ended', reason: 'answered_elsewhere' })));
    expect(s).toMatchObject({ phase: 'idle', call: null, notice: { callId: 'k1', kind: 'answered_elsewhere' } });
    s = then(s, stateOf(view({ state: 'active', callee_session: OTHER_DEVICE, answered_at: '2026-11-28T05:00:20Z' })));
    expect(s).toMatchObject({ phase: 'idle', elsewhere: { id: 'k1', peerId: BOB.id, state: 'active' } });
    expect(callsSelectors.canStart({ calls: s })).toBe(false);
    s = then(s, stateOf(view({ state: 'ended', reason: 'hangup', callee_session: OTHER_DEVICE })));
    expect(s.elsewhere).toBeNull();
    expect(callsSelectors.canStart({ calls: s })).toBe(true);
  });

  it('getting media failed after Accept: declining is still possible', () => {
    const s = run(ready(), ringing(view()), { type: 'accepting', callId: 'k1' }, { type: 'declined', callId: 'k1' });
    expect(s.phase).toBe('idle');
  });
});

describe('callsReducer: illegal transitions are ignored', () => {
  it('actions that do not fit the phase leave the state as it is', () => {
    const idle = run(ready());
    const illegal: CallsAction[] = [
      { type: 'accepting', callId: 'k1' },
      { type: 'accepted', callId: 'k1' },
      { type: 'declined', callId: 'k1' },
      { type: 'endedLocally', callId: 'k1', reason: 'hangup' },
      { type: 'mediaConnected', callId: 'k1', now: 1 },
      { type: 'mediaInterrupted', callId: 'k1', interrupted: true },
      { type: 'micToggled', callId: 'k1' },
      { type: 'cleared', callId: 'k1' },
      { type: 'error', callId: 'k1', code: 'call_not_found' },
      stateOf(view({ state: 'ended', reason: 'hangup' })),
    ];
    for (const a of illegal) expect(callsReducer(idle, a)).toBe(idle);

    const calling = run(ready(), invite());
    for (const a of [
      { type: 'accepted', callId: 'k1' },
      { type: 'declined', callId: 'k1' },
      { type: 'mediaConnected', callId: 'k1', now: 1 },
      { type: 'cleared', callId: 'k1' },
      invite('k2'),
    ] as CallsAction[]) {
      expect(callsReducer(calling, a)).toBe(calling);
    }

    const receiving = run(ready(), ringing(view()));
    for (const a of [
      { type: 'mediaConnected', callId: 'k1', now: 1 },
      { type: 'endedLocally', callId: 'k1', reason: 'hangup' },
      { type: 'accepting', callId: 'other' },
      invite('k2'),
    ] as CallsAction[]) {
      expect(callsReducer(receiving, a)).toBe(receiving);
    }
  });

  it('a connected call does not go back to connecting or ringing', () => {
    const s = callingConnected();
    expect(then(s, stateOf(outgoing({ state: 'ringing' })))).toBe(s);
    expect(then(s, stateOf(outgoing({ state: 'connecting', callee_session: BOB_SESSION }))).phase).toBe('connected');
  });

  it('a second incoming call while busy is ignored (the server answers busy)', () => {
    const s = callingConnected();
    const other = view({ call_id: 'k2', conversation_id: 'c2', caller_id: 'carol' });
    expect(then(s, ringing(other))).toBe(s);
    const receiving = run(ready(), ringing(view()));
    expect(then(receiving, ringing(other))).toBe(receiving);
  });

  it('stray events of another call never touch the one in progress', () => {
    const s = callingConnected();
    const stray = (o: Partial<CallView>) => stateOf(outgoing({ call_id: 'k9', conversation_id: 'c9', callee_id: 'carol', ...o }));
    expect(then(s, stray({ state: 'ended', reason: 'hangup' }))).toBe(s);
    expect(then(s, stray({ state: 'connecting', callee_session: 's-carol' }))).toBe(s);
    expect(then(s, { type: 'mediaConnected', callId: 'k9', now: 2 }).connectedAt).toBe(1_000);
    expect(then(s, { type: 'error', callId: 'k9', code: 'call_not_found' })).toBe(s);
  });

  it('an ended call stays ended until cleared; a late clear of an older call does nothing', () => {
    let s = then(callingConnected(), { type: 'endedLocally', callId: 'k1', reason: 'hangup' });
    expect(then(s, { type: 'mediaConnected', callId: 'k1', now: 3 })).toBe(s);
    // A new incoming call replaces the "ended" notice; the old notice's timer must not clear it.
    s = then(s, ringing(view({ call_id: 'k2' })));
    expect(s).toMatchObject({ phase: 'receiving', call: { id: 'k2' } });
    expect(then(s, { type: 'cleared', callId: 'k1' })).toBe(s);
  });

  it('events of calls I am not part of are ignored', () => {
    const s = run(ready());
    expect(then(s, ringing(view({ caller_id: 'carol', callee_id: 'dave' })))).toBe(s);
  });
});

describe('callsReducer: glare', () => {
  it('our invite merged into Bob’s: we carry on as the callee of his call', () => {
    let s = run(ready(), invite('mine'), stateOf(outgoing({ call_id: 'mine' })));
    // Bob's invite to us arrives while ours rings: we are busy, so it is not shown.
    s = then(s, ringing(view({ call_id: 'his' })));
    expect(s.phase).toBe('calling');
    s = then(s, stateOf(outgoing({ call_id: 'mine', state: 'ended', reason: 'glare', replaced_by: 'his' })));
    expect(s).toMatchObject({ phase: 'calling', replacedBy: 'his', call: { id: 'mine' } });
    s = then(s, stateOf(view({ call_id: 'his', state: 'connecting', callee_session: MY_SESSION })));
    expect(s).toMatchObject({ phase: 'connecting', replacedBy: null, call: { id: 'his', role: 'callee', peerId: BOB.id } });
  });

  it('also when Bob’s call says connecting before our invite’s glare end arrives', () => {
    let s = run(ready(), invite('mine'), stateOf(outgoing({ call_id: 'mine' })));
    s = then(s, stateOf(view({ call_id: 'his', state: 'connecting', callee_session: MY_SESSION })));
    expect(s).toMatchObject({ phase: 'connecting', call: { id: 'his', role: 'callee' } });
    const after = then(s, stateOf(outgoing({ call_id: 'mine', state: 'ended', reason: 'glare', replaced_by: 'his' })));
    expect(after).toBe(s);
  });

  it('the merged call ending before it connects ends ours', () => {
    const s = run(
      ready(),
      invite('mine'),
      stateOf(outgoing({ call_id: 'mine', state: 'ended', reason: 'glare', replaced_by: 'his' })),
      stateOf(view({ call_id: 'his', state: 'ended', reason: 'cancelled' })),
    );
    expect(s).toMatchObject({ phase: 'ended', endReason: 'cancelled' });
  });

  it('the glare end itself is never shown as "ended"', () => {
    const s = run(ready(), invite('mine'), stateOf(outgoing({ call_id: 'mine', state: 'ended', reason: 'glare', replaced_by: 'his' })));
    expect(s.phase).toBe('calling');
    expect(endReasonLabel('glare', 'caller')).toBeNull();
  });
});

describe('callsReducer: calls on another device', () => {
  it('a call held by another of my devices is only a hint: no phase, no call here', () => {
    const s = run(ready(), stateOf(outgoing({ caller_session: OTHER_DEVICE, state: 'connecting', callee_session: BOB_SESSION })));
    expect(s).toMatchObject({ phase: 'idle', call: null, elsewhere: { id: 'k1', peerId: BOB.id } });
    // My other device calling Bob (ringing) is a hint too, not an incoming call.
    const t = run(ready(), stateOf(outgoing({ caller_session: OTHER_DEVICE })));
    expect(t).toMatchObject({ phase: 'idle', elsewhere: { id: 'k1', state: 'ringing' } });
  });

  it('our side taken over by another device (its rejoin) puts this one out of the call', () => {
    const s = then(callingConnected(), stateOf(outgoing({ state: 'active', caller_session: OTHER_DEVICE, callee_session: BOB_SESSION })));
    expect(s).toMatchObject({ phase: 'idle', call: null, elsewhere: { id: 'k1' } });
  });
});

describe('callsReducer: ready and rejoin', () => {
  it('ready records the session and the server clock offset; old servers send no calls', () => {
    const s = run(ready());
    expect(s).toMatchObject({ sessionId: MY_SESSION, clockOffsetMs: 10_000, phase: 'idle', elsewhere: null });
  });

  it('a new tab sees a call that is still ringing for it', () => {
    const s = run(ready([view()]));
    expect(s).toMatchObject({ phase: 'receiving', call: { id: 'k1', role: 'callee' } });
  });

  it('after a reconnect, the call this device holds is rejoined', () => {
    const before = callingConnected();
    const listed = outgoing({ state: 'active', callee_session: BOB_SESSION });
    expect(rejoinTarget(before, [listed], ME.id)?.call_id).toBe('k1');
    let s = then(before, ready([listed], 's-me-2'));
    expect(s).toMatchObject({ phase: 'connected', rejoining: true, sessionId: 's-me-2' });
    // The server binds our side to the new socket: rejoined.
    s = then(s, stateOf(outgoing({ state: 'active', caller_session: 's-me-2', callee_session: BOB_SESSION })));
    expect(s).toMatchObject({ phase: 'connected', rejoining: false, call: { callerSession: 's-me-2' } });
  });

  it('while the rejoin is on its way, a state with the old session does not drop the call', () => {
    const s = then(callingConnected(), ready([outgoing({ state: 'active', callee_session: BOB_SESSION })], 's-me-2'));
    const t = then(s, stateOf(outgoing({ state: 'active', callee_session: 's-bob-2' })));
    expect(t).toMatchObject({ phase: 'connected', rejoining: true });
  });

  it('a refused rejoin ends the call as lost', () => {
    const s = then(
      callingConnected(),
      ready([outgoing({ state: 'active', callee_session: BOB_SESSION })], 's-me-2'),
      { type: 'error', callId: 'k1', code: 'call_invalid_state' },
    );
    expect(s).toMatchObject({ phase: 'ended', endReason: 'connection_lost' });
  });

  it('no rejoin for calls this device does not hold (another device’s, or just ringing here)', () => {
    const idle = run(ready());
    const elsewhere = outgoing({ state: 'active', caller_session: OTHER_DEVICE, callee_session: BOB_SESSION });
    expect(rejoinTarget(idle, [elsewhere], ME.id)).toBeNull();
    const s = then(idle, ready([elsewhere], 's-me-2'));
    expect(s).toMatchObject({ phase: 'idle', rejoining: false, elsewhere: { id: 'k1' } });
    const receiving = run(ready(), ringing(view()));
    expect(rejoinTarget(receiving, [view()], ME.id)).toBeNull();
    expect(then(receiving, ready([view()], 's-me-2'))).toMatchObject({ phase: 'receiving', rejoining: false });
  });

  it('a held call missing from ready ended while we were away', () => {
    const s = then(callingConnected(), ready([], 's-me-2'));
    expect(s).toMatchObject({ phase: 'ended', endReason: null });
    expect(callStatusText(s)).toBe('Call ended');
    const r = then(run(ready(), ringing(view())), ready([], 's-me-2'));
    expect(r).toMatchObject({ phase: 'idle', call: null });
  });

  it('our outgoing call still ringing after a reconnect is rejoined too', () => {
    const s = run(ready(), invite(), stateOf(outgoing()));
    expect(rejoinTarget(s, [outgoing()], ME.id)?.call_id).toBe('k1');
  });
});

describe('calls selectors and the slice', () => {
  it('formats the call duration', () => {
    expect(formatCallDuration(0)).toBe('00:00');
    expect(formatCallDuration(65_900)).toBe('01:05');
    expect(formatCallDuration(3_725_000)).toBe('1:02:05');
    expect(formatCallDuration(-5_000)).toBe('00:00');
  });

  it('the timer starts at answered_at on the local clock, else when the media connected', () => {
    const s = callingConnected();
    expect(callStartedAt(s)).toBe(1_000);
    const active = then(s, stateOf(outgoing({ state: 'active', callee_session: BOB_SESSION, answered_at: '2026-11-28T05:00:20Z' })));
    // The server is 10 s ahead (see ready()).
    expect(callStartedAt(active)).toBe(Date.parse('2026-11-28T05:00:10Z'));
  });

  it('in the store: the session user decides which side we are; sign-out forgets the call', () => {
    const store = createAppStore({ draftStorage: () => null, now: () => 42 });
    store.getState().sessionAuthenticated({ user: ME, access_token: 't', token_type: 'Bearer', expires_in: 900 });
    store.getState().callsReady(MY_SESSION, '2026-11-28T05:00:00Z', []);
    store.getState().callsServerEvent('ringing', view());
    expect(callsSelectors.phase(store.getState())).toBe('receiving');
    expect(callsSelectors.isBusy(store.getState())).toBe(true);
    store.getState().chatReset();
    expect(store.getState().calls).toEqual(initialCallsState);
  });
});
