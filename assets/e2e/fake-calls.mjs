/**
 * FOR UI DEVELOPMENT ONLY — calls in e2e/dev-fake-server.mjs: the signaling of docs'
 * "Calls" section (call.* events over the gateway), in memory. No TURN relay: the ICE
 * server list is empty, so peers connect over host candidates (fine on one machine).
 *
 * What it does: invite → `call.ringing` to the callee's devices and `call.state ringing` to
 * both users; accept → `connecting` (the callee's other devices get `answered_elsewhere`);
 * the first `call.connected` → `active`; reject / hangup / ring timeout (FAKE_RING_SECS,
 * default 30) / busy / glare end it, each with its reason, and a missed call leaves a
 * `kind: "call"` message. offer/answer/ice are relayed between the two bound sockets. A
 * bound socket that closes has FAKE_CALL_GRACE_SECS (default 30) to `call.rejoin`.
 */
const REASONS_BY_HANGUP = { hangup: 'hangup', failed: 'failed' };

/**
 * @param {{ emit(userIds: string[], event: object): void, conversation(id: string): any,
 *   storeCallMessage(conversationId: string, senderId: string, body: string): void }} deps
 */
export function createCalls(deps) {
  const ringSecs = Number(process.env.FAKE_RING_SECS ?? 30);
  const graceSecs = Number(process.env.FAKE_CALL_GRACE_SECS ?? 30);
  /** call_id → call */
  const calls = new Map();
  /** ws → { sessionId, userId } */
  const sessions = new Map();

  const now = () => new Date().toISOString();
  const live = (c) => c.state !== 'ended';
  const currentOf = (uid) => [...calls.values()].find((c) => live(c) && (c.caller_id === uid || c.callee_id === uid));

  function view(c) {
    return {
      call_id: c.call_id,
      conversation_id: c.conversation_id,
      media: c.media,
      caller_id: c.caller_id,
      callee_id: c.callee_id,
      state: c.state,
      reason: c.reason,
      caller_session: c.caller?.sessionId ?? null,
      callee_session: c.callee?.sessionId ?? null,
      created_at: c.created_at,
      answered_at: c.answered_at,
      ended_at: c.ended_at,
      ...(c.replaced_by ? { replaced_by: c.replaced_by } : {}),
    };
  }

  function publish(c, except = null) {
    const event = { type: 'call.state', ...view(c) };
    const frame = JSON.stringify(event);
    for (const [ws, s] of sessions) {
      if (ws === except || ws.readyState !== 1) continue;
      if (s.userId === c.caller_id || s.userId === c.callee_id) ws.send(frame);
    }
  }

  function end(c, reason) {
    if (!live(c)) return;
    clearTimeout(c.timer);
    c.state = 'ended';
    c.reason = reason;
    c.ended_at = now();
    publish(c);
    if (reason === 'missed') {
      deps.storeCallMessage(c.conversation_id, c.caller_id, c.media === 'video' ? 'Missed video call' : 'Missed audio call');
    }
  }

  function ready(ws, sessionId, userId) {
    sessions.set(ws, { sessionId, userId });
    const c = currentOf(userId);
    return c ? [view(c)] : [];
  }

  function closed(ws) {
    sessions.delete(ws);
    for (const c of calls.values()) {
      if (!live(c)) continue;
      for (const side of ['caller', 'callee']) {
        if (c[side]?.ws !== ws) continue;
        c[side] = { ...c[side], ws: null };
        c[`${side}Grace`] = setTimeout(() => end(c, c.state === 'ringing' ? 'cancelled' : 'connection_lost'), graceSecs * 1000);
      }
    }
  }

  /** Handles one call.* frame. `reply(event)` answers this socket; `fail(code, message, extra)` sends an error. */
  function handle(ws, e, reply, fail) {
    const me = sessions.get(ws);
    if (!me) return;
    const uid = me.userId;
    const callId = typeof e.call_id === 'string' ? e.call_id : undefined;
    const error = (code, message) => fail(code, message, callId ? { call_id: callId } : {});
    const c = callId ? calls.get(callId) : undefined;
    const isParticipant = c && (c.caller_id === uid || c.callee_id === uid);
    const side = c && (c.caller?.ws === ws ? 'caller' : c.callee?.ws === ws ? 'callee' : null);
    const other = (s) => (s === 'caller' ? 'callee' : 'caller');

    switch (e.type) {
      case 'call.invite': {
        if (!callId) return error('validation_failed', 'call_id is required');
        if (calls.has(callId)) return error('call_exists', 'call_id already used');
        if (e.media !== 'audio' && e.media !== 'video') return error('validation_failed', 'media must be audio or video');
        const conv = deps.conversation(e.conversation_id);
        if (!conv || !conv.members.has(uid)) return error('not_found', 'no such conversation');
        if (conv.kind !== 'direct') return error('validation_failed', 'calls are for direct conversations');
        const peer = [...conv.members.keys()].find((m) => m !== uid);
        if (!peer) return error('validation_failed', 'no one to call');
        const call = {
          call_id: callId,
          conversation_id: conv.id,
          media: e.media,
          caller_id: uid,
          callee_id: peer,
          state: 'ringing',
          reason: null,
          caller: { ws, sessionId: me.sessionId },
          callee: null,
          created_at: now(),
          answered_at: null,
          ended_at: null,
        };
        calls.set(callId, call);
        // Glare: the peer's invite to us in this conversation is ringing: merge ours into it.
        const theirs = [...calls.values()].find((x) => live(x) && x.state === 'ringing' && x.caller_id === peer && x.callee_id === uid && x.conversation_id === conv.id);
        if (theirs) {
          call.state = 'ended';
          call.reason = 'glare';
          call.replaced_by = theirs.call_id;
          call.ended_at = now();
          reply({ type: 'call.state', ...view(call) });
          return accept(theirs, ws, me);
        }
        if (currentOf(uid) !== call) {
          call.state = 'ended';
          call.reason = 'busy';
          call.ended_at = now();
          return reply({ type: 'call.state', ...view(call) });
        }
        const busy = [...calls.values()].some((x) => x !== call && live(x) && (x.caller_id === peer || x.callee_id === peer));
        if (busy) {
          call.state = 'ended';
          call.reason = 'busy';
          call.ended_at = now();
          return publish(call);
        }
        call.timer = setTimeout(() => end(call, 'missed'), ringSecs * 1000);
        deps.emit([peer], { type: 'call.ringing', ...view(call) });
        return publish(call);
      }
      case 'call.accept':
        if (!isParticipant) return error('call_not_found', 'no such call');
        if (c.callee_id !== uid || c.state !== 'ringing') return error('call_invalid_state', 'not ringing for you');
        return accept(c, ws, me);
      case 'call.reject':
        if (!isParticipant) return error('call_not_found', 'no such call');
        if (c.callee_id !== uid || c.state !== 'ringing') return error('call_invalid_state', 'not ringing for you');
        return end(c, 'declined');
      case 'call.hangup': {
        if (!isParticipant) return error('call_not_found', 'no such call');
        if (!live(c)) return error('call_invalid_state', 'the call has ended');
        if (c.state === 'ringing') {
          if (c.caller?.ws === ws) return end(c, 'cancelled');
          if (c.callee_id === uid) return end(c, 'declined');
          return error('call_not_found', 'not your device');
        }
        if (!side) return error('call_not_found', 'not your device');
        const reason = REASONS_BY_HANGUP[e.reason ?? 'hangup'];
        if (!reason) return error('validation_failed', 'unknown reason');
        return end(c, reason);
      }
      case 'call.offer':
      case 'call.answer':
      case 'call.ice': {
        if (!isParticipant || !side) return error('call_not_found', 'no such call');
        if (c.state !== 'connecting' && c.state !== 'active') return error('call_invalid_state', `${e.type} while ${c.state}`);
        const to = c[other(side)]?.ws;
        const payload = e.type === 'call.ice' ? { candidate: e.candidate ?? null } : { sdp: String(e.sdp ?? '') };
        if (to?.readyState === 1) to.send(JSON.stringify({ type: e.type, call_id: c.call_id, from: uid, ...payload }));
        return;
      }
      case 'call.connected':
        if (!isParticipant || !side) return error('call_not_found', 'no such call');
        if (c.state === 'connecting') {
          c.state = 'active';
          c.answered_at = now();
          clearTimeout(c.timer);
          publish(c);
        }
        return;
      case 'call.rejoin': {
        if (!isParticipant || !live(c)) return error('call_not_found', 'no such call');
        const mine = c.caller_id === uid ? 'caller' : 'callee';
        if (!c[mine] || c[mine].ws) return error('call_invalid_state', 'that side is connected');
        clearTimeout(c[`${mine}Grace`]);
        c[mine] = { ws, sessionId: me.sessionId };
        return publish(c);
      }
      default:
        return error('unknown_type', 'unknown call event');
    }
  }

  function accept(c, ws, me) {
    clearTimeout(c.timer);
    c.state = 'connecting';
    c.callee = { ws, sessionId: me.sessionId };
    c.timer = setTimeout(() => end(c, 'failed'), 30_000);
    // The callee's other devices: answered elsewhere.
    const elsewhere = JSON.stringify({ type: 'call.state', ...view({ ...c, state: 'ended', reason: 'answered_elsewhere' }) });
    for (const [other, s] of sessions) {
      if (other !== ws && s.userId === c.callee_id && other.readyState === 1) other.send(elsewhere);
    }
    const frame = JSON.stringify({ type: 'call.state', ...view(c) });
    for (const [other, s] of sessions) {
      if (other.readyState !== 1) continue;
      if (s.userId === c.caller_id || other === ws) other.send(frame);
    }
  }

  function close() {
    for (const c of calls.values()) {
      clearTimeout(c.timer);
      clearTimeout(c.callerGrace);
      clearTimeout(c.calleeGrace);
    }
  }

  return { ready, closed, handle, close };
}
