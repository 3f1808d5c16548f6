/**
 * Calls slice: the one call this device takes part in, as a strict state machine, plus a
 * hint about a call of the same user on another device.
 *
 *   idle ─invited──▶ calling ──server: connecting──▶ connecting ─media up─▶ connected
 *     └─server: ringing (we are the callee)─▶ receiving ─accepted─▶ connecting
 *   calling / receiving / connecting / connected ──ended (server or local)──▶ ended ─cleared─▶ idle
 *
 * Rules (docs/protocol.md, "Calls"):
 * - The server owns the call. This device is in it only while the server binds one side to
 *   our `session_id` (from `ready`); a call bound to another device of ours is only a hint
 *   (`elsewhere`) and never gets a peer connection here.
 * - Anything that does not fit the current phase is ignored: a second incoming call while
 *   busy (the server already answered `busy`), events of other calls, late duplicates.
 * - Glare: our invite ends with `glare` and `replaced_by: X`; then X arrives `connecting`
 *   with our session as the callee's, and we go on as the callee of X.
 * - `answered_elsewhere`: another device of ours took the call: back to idle.
 * - After a reconnect (`ready`) a call we hold that is still going is rejoined
 *   (`rejoining`; the gateway sends `call.rejoin`).
 * The reducer is pure: time comes in with the actions.
 */
import type { CallEndReason, CallMedia, CallState, CallView } from '../../gateway/protocol';

export type CallPhase = 'idle' | 'calling' | 'receiving' | 'connecting' | 'connected' | 'ended';
export type CallRole = 'caller' | 'callee';

export interface CurrentCall {
  id: string;
  conversationId: string;
  media: CallMedia;
  role: CallRole;
  /** The other participant's user id. */
  peerId: string;
  callerSession: string | null;
  calleeSession: string | null;
  /** When the server made the call active (RFC 3339): the call timer starts here. */
  answeredAt: string | null;
  /** The last state the server reported; null until it confirmed our invite. */
  serverState: CallState | null;
}

/** A call of this user held by another device (or tab). */
export interface ElsewhereCall {
  id: string;
  conversationId: string;
  media: CallMedia;
  peerId: string;
  state: CallState;
}

export interface CallsState {
  /** This socket's `session_id` (the last `ready`). */
  sessionId: string | null;
  /** Server clock minus local clock, in ms (from `ready.server_time`), for the call timer. */
  clockOffsetMs: number;
  phase: CallPhase;
  call: CurrentCall | null;
  /** receiving: the user accepted; the camera/microphone permission is being asked for. */
  accepting: boolean;
  /** calling: our invite lost a glare and was merged into this call (we become its callee). */
  replacedBy: string | null;
  /** ended: why (a CallEndReason, or whatever newer reason the server sent); null = unknown. */
  endReason: string | null;
  /** connected: local epoch ms when the media first connected (timer fallback). */
  connectedAt: number | null;
  /** connected, but the media path is down and an ICE restart is under way. */
  interrupted: boolean;
  /** A reconnected socket is taking its side of the call back (`call.rejoin` sent). */
  rejoining: boolean;
  muted: boolean;
  cameraOff: boolean;
  /** A video call in which this device sends no video (no camera found). */
  audioOnly: boolean;
  elsewhere: ElsewhereCall | null;
  /** The incoming call was answered on another device (a small notice, once per call). */
  notice: { callId: string; kind: 'answered_elsewhere' } | null;
}

export const initialCallsState: CallsState = {
  sessionId: null,
  clockOffsetMs: 0,
  phase: 'idle',
  call: null,
  accepting: false,
  replacedBy: null,
  endReason: null,
  connectedAt: null,
  interrupted: false,
  rejoining: false,
  muted: false,
  cameraOff: false,
  audioOnly: false,
  elsewhere: null,
  notice: null,
};

export type CallsAction =
  | { type: 'ready'; sessionId: string; serverTime: number; now: number; myId: string; calls: CallView[] }
  /** `call.ringing` or `call.state`. */
  | { type: 'server'; event: 'ringing' | 'state'; call: CallView; myId: string }
  /** The user started a call (`call.invite` goes out). */
  | { type: 'invited'; callId: string; conversationId: string; media: CallMedia; peerId: string }
  /** The user pressed Accept; media permission comes next. */
  | { type: 'accepting'; callId: string }
  /** Media is ready and `call.accept` went out. */
  | { type: 'accepted'; callId: string }
  /** The user declined (`call.reject` went out) — or could not take the call. */
  | { type: 'declined'; callId: string }
  /** This device ended the call: hung up, cancelled, or failed (permission, ICE). */
  | { type: 'endedLocally'; callId: string; reason: CallEndReason }
  /** The peer connection reached `connected` (again). */
  | { type: 'mediaConnected'; callId: string; now: number }
  /** The media path went down (true) or came back (false) while connected. */
  | { type: 'mediaInterrupted'; callId: string; interrupted: boolean }
  /** The local stream carries no video (audio-only fallback). */
  | { type: 'audioOnly'; callId: string }
  | { type: 'micToggled'; callId: string }
  | { type: 'cameraToggled'; callId: string }
  /** The "call ended" notice has been shown long enough. */
  | { type: 'cleared'; callId: string }
  /** An `error` event carrying a `call_id`. */
  | { type: 'error'; callId: string; code: string }
  | { type: 'reset' };

const IN_CALL: readonly CallPhase[] = ['calling', 'connecting', 'connected'];

/** Whether this device holds a call (ringing on it counts). */
export const isBusy = (s: CallsState) => s.phase !== 'idle' && s.phase !== 'ended';

function sideOf(c: CallView, sessionId: string | null): CallRole | null {
  if (!sessionId) return null;
  if (c.caller_session === sessionId) return 'caller';
  if (c.callee_session === sessionId) return 'callee';
  return null;
}

function isParticipant(c: CallView, myId: string): boolean {
  return c.caller_id === myId || c.callee_id === myId;
}

function currentFrom(c: CallView, role: CallRole): CurrentCall {
  return {
    id: c.call_id,
    conversationId: c.conversation_id,
    media: c.media,
    role,
    peerId: role === 'caller' ? c.callee_id : c.caller_id,
    callerSession: c.caller_session,
    calleeSession: c.callee_session,
    answeredAt: c.answered_at,
    serverState: c.state,
  };
}

function updated(call: CurrentCall, c: CallView): CurrentCall {
  return {
    ...call,
    media: c.media,
    callerSession: c.caller_session,
    calleeSession: c.callee_session,
    answeredAt: c.answered_at ?? call.answeredAt,
    serverState: c.state,
  };
}

function elsewhereFrom(c: CallView, myId: string): ElsewhereCall {
  return {
    id: c.call_id,
    conversationId: c.conversation_id,
    media: c.media,
    peerId: c.caller_id === myId ? c.callee_id : c.caller_id,
    state: c.state,
  };
}

/** A fresh call in `phase`: every per-call flag back to its default. */
function enter(s: CallsState, phase: CallPhase, call: CurrentCall): CallsState {
  return {
    ...s,
    phase,
    call,
    accepting: false,
    replacedBy: null,
    endReason: null,
    connectedAt: null,
    interrupted: false,
    rejoining: false,
    muted: false,
    cameraOff: false,
    audioOnly: false,
    elsewhere: s.elsewhere?.id === call.id ? null : s.elsewhere,
    notice: null,
  };
}

function ended(s: CallsState, reason: string | null): CallsState {
  return { ...s, phase: 'ended', endReason: reason, accepting: false, replacedBy: null, interrupted: false, rejoining: false };
}

function idle(s: CallsState): CallsState {
  return { ...initialCallsState, sessionId: s.sessionId, clockOffsetMs: s.clockOffsetMs, elsewhere: s.elsewhere };
}

const isMine = (s: CallsState, callId: string) => s.call?.id === callId && s.phase !== 'idle';

/** A call of ours on another device: remember it for the hint, or forget it when it ends. */
function noteElsewhere(s: CallsState, c: CallView, myId: string): CallsState {
  if (c.state === 'ended') return s.elsewhere?.id === c.call_id ? { ...s, elsewhere: null } : s;
  return { ...s, elsewhere: elsewhereFrom(c, myId) };
}

/**
 * Should a `ready` make this device take its side of a call back? Yes for the call it holds
 * (calling, accepted, connecting or connected) when the server still lists it as going:
 * the socket that was bound to it is gone. Returns the call to rejoin, or null.
 */
export function rejoinTarget(s: CallsState, calls: readonly CallView[], myId: string): CallView | null {
  if (!s.call) return null;
  const holding = IN_CALL.includes(s.phase) || (s.phase === 'receiving' && s.accepting);
  if (!holding) return null;
  const ids = [s.call.id, s.replacedBy].filter((x): x is string => !!x);
  const listed = calls.find((c) => ids.includes(c.call_id) && isParticipant(c, myId));
  if (!listed) return null;
  if (listed.state === 'connecting' || listed.state === 'active') return listed;
  // Still ringing: only the caller's side is bound to a device so far.
  if (listed.state === 'ringing' && listed.caller_id === myId && s.phase === 'calling') return listed;
  return null;
}

export function callsReducer(state: CallsState, action: CallsAction): CallsState {
  switch (action.type) {
    case 'ready':
      return onReady(state, action);
    case 'server':
      return onServer(state, action.event, action.call, action.myId);
    case 'invited':
      if (state.phase !== 'idle' && state.phase !== 'ended') return state;
      return enter(state, 'calling', {
        id: action.callId,
        conversationId: action.conversationId,
        media: action.media,
        role: 'caller',
        peerId: action.peerId,
        callerSession: state.sessionId,
        calleeSession: null,
        answeredAt: null,
        serverState: null,
      });
    case 'accepting':
      if (state.phase !== 'receiving' || !isMine(state, action.callId) || state.accepting) return state;
      return { ...state, accepting: true };
    case 'accepted':
      if (state.phase !== 'receiving' || !isMine(state, action.callId)) return state;
      return { ...state, phase: 'connecting', accepting: false, call: { ...state.call!, calleeSession: state.sessionId } };
    case 'declined':
      if (state.phase !== 'receiving' || !isMine(state, action.callId)) return state;
      return idle(state);
    case 'endedLocally':
      if (!isMine(state, action.callId) || state.phase === 'ended') return state;
      if (state.phase === 'receiving' && !state.accepting) return state; // declining is `declined`
      return ended(state, action.reason);
    case 'mediaConnected':
      if (!isMine(state, action.callId)) return state;
      if (state.phase === 'connecting') return { ...state, phase: 'connected', connectedAt: action.now, interrupted: false };
      if (state.phase === 'connected' && state.interrupted) return { ...state, interrupted: false };
      return state;
    case 'mediaInterrupted':
      if (!isMine(state, action.callId) || state.phase !== 'connected' || state.interrupted === action.interrupted) return state;
      return { ...state, interrupted: action.interrupted };
    case 'audioOnly':
      if (!isMine(state, action.callId) || !isBusy(state) || state.audioOnly) return state;
      return { ...state, audioOnly: true };
    case 'micToggled':
      if (!isMine(state, action.callId) || !isBusy(state)) return state;
      return { ...state, muted: !state.muted };
    case 'cameraToggled':
      if (!isMine(state, action.callId) || !isBusy(state) || state.call!.media !== 'video' || state.audioOnly) return state;
      return { ...state, cameraOff: !state.cameraOff };
    case 'cleared':
      if (state.phase !== 'ended' || state.call?.id !== action.callId) return state;
      return idle(state);
    case 'error':
      return onError(state, action.callId, action.code);
    case 'reset':
      return initialCallsState;
  }
}

function onServer(s: CallsState, event: 'ringing' | 'state', c: CallView, myId: string): CallsState {
  if (!isParticipant(c, myId)) return s;
  const side = sideOf(c, s.sessionId);

  if (isMine(s, c.call_id)) {
    const call = s.call!;
    if (s.phase === 'ended') return s; // already over here; the server's word changes nothing
    if (c.state === 'ended') {
      if (c.reason === 'glare' && s.phase === 'calling' && c.replaced_by) return { ...s, replacedBy: c.replaced_by, call: updated(call, c) };
      if (c.reason === 'answered_elsewhere') return { ...idle(s), notice: { callId: c.call_id, kind: 'answered_elsewhere' } };
      return { ...ended(s, c.reason ?? null), call: updated(call, c) };
    }
    if (c.state === 'ringing') {
      // Our invite confirmed, or the incoming call again (a duplicate): nothing moves.
      return s.phase === 'calling' || s.phase === 'receiving' ? { ...s, call: updated(call, c) } : s;
    }
    // connecting / active
    if (!side) {
      if (s.rejoining) return { ...s, call: updated(call, c) }; // our rejoin is on its way
      if (s.phase === 'receiving' && !s.accepting) return { ...idle(s), elsewhere: elsewhereFrom(c, myId) };
      if (s.phase === 'receiving' || s.phase === 'calling') return { ...s, call: updated(call, c) }; // the server binds us next
      // Another device of ours took this side over: this one is out of the call.
      return { ...idle(s), elsewhere: elsewhereFrom(c, myId) };
    }
    const next = { ...s, call: { ...updated(call, c), role: side }, rejoining: false, accepting: false };
    if (s.phase === 'calling' || s.phase === 'receiving') return { ...next, phase: 'connecting' };
    return next;
  }

  // Not the call this device holds.
  if (c.state === 'ended') {
    if (s.phase === 'calling' && s.replacedBy === c.call_id) return ended(s, c.reason ?? null);
    return noteElsewhere(s, c, myId);
  }

  if (c.state === 'ringing') {
    if (c.callee_id === myId && c.caller_id !== myId) {
      if (isBusy(s)) return s; // the server has answered `busy` for us
      return enter(s, 'receiving', currentFrom(c, 'callee'));
    }
    return event === 'state' ? noteElsewhere(s, c, myId) : s;
  }

  // connecting / active
  if (side) {
    const glare = s.phase === 'calling' && (s.replacedBy === c.call_id || (side === 'callee' && c.conversation_id === s.call?.conversationId));
    if (s.phase === 'idle' || s.phase === 'ended' || glare) {
      const next = enter(s, 'connecting', currentFrom(c, side));
      // The camera/mic choices of the merged invite carry over to the call that replaced it.
      return glare ? { ...next, muted: s.muted, cameraOff: s.cameraOff, audioOnly: s.audioOnly } : next;
    }
    return s; // busy with another call: a stray event
  }
  return noteElsewhere(s, c, myId);
}

function onReady(s: CallsState, a: Extract<CallsAction, { type: 'ready' }>): CallsState {
  const rejoin = rejoinTarget(s, a.calls, a.myId);
  const offset = Number.isFinite(a.serverTime) ? a.serverTime - a.now : 0;
  let next: CallsState = { ...s, sessionId: a.sessionId, clockOffsetMs: offset, rejoining: false };
  const going = a.calls.filter((c) => isParticipant(c, a.myId) && c.state !== 'ended');

  if (rejoin) {
    if (s.call && rejoin.call_id !== s.call.id) {
      // Our invite had been merged (glare) into the call we now rejoin as its callee.
      next = enter(next, 'connecting', currentFrom(rejoin, 'callee'));
    } else if (s.call) {
      next = { ...next, call: updated(s.call, rejoin) };
      if (s.phase === 'receiving') next = { ...next, phase: 'connecting', accepting: false };
    }
    next = { ...next, rejoining: true };
  } else if (s.call && (IN_CALL.includes(s.phase) || s.phase === 'receiving')) {
    const listed = a.calls.find((c) => c.call_id === s.call!.id);
    if (s.phase === 'receiving' && listed?.state === 'ringing') {
      next = { ...next, call: updated(s.call, listed) };
    } else if (s.phase === 'receiving') {
      next = idle(next); // answered elsewhere, cancelled or missed while we were away
    } else {
      // Gone while we were away: it ended for a reason we did not hear.
      next = ended(next, listed?.state === 'ended' ? listed.reason : null);
    }
  }

  // An incoming call still ringing (a new tab, or back after a blip).
  if (!isBusy(next)) {
    const ringing = going.find((c) => c.state === 'ringing' && c.callee_id === a.myId && c.caller_id !== a.myId);
    if (ringing) next = enter(next, 'receiving', currentFrom(ringing, 'callee'));
  }

  // Whatever else is going on is on another device (a fresh socket is bound to nothing).
  // (An incoming call that is not shown because we are busy is no hint: the server said busy.)
  const held = isBusy(next) ? next.call!.id : null;
  const other = going.find((c) => c.call_id !== held && !(c.state === 'ringing' && c.callee_id === a.myId));
  return { ...next, elsewhere: other ? elsewhereFrom(other, a.myId) : null };
}

function onError(s: CallsState, callId: string, code: string): CallsState {
  if (!isMine(s, callId) || s.phase === 'ended') {
    // A rejoin that was refused for a call we were only tracking: nothing to undo.
    return s;
  }
  if (s.rejoining && (code === 'call_not_found' || code === 'call_invalid_state')) return ended(s, 'connection_lost');
  if (s.phase === 'calling' && s.call!.serverState === null) return ended(s, 'failed'); // the invite was refused
  if (code === 'call_not_found') {
    // The server no longer knows us in this call.
    return s.phase === 'receiving' && !s.accepting ? idle(s) : ended(s, 'failed');
  }
  return s; // e.g. call_invalid_state for an ICE candidate that crossed a hangup
}
