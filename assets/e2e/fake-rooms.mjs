/**
 * FOR UI DEVELOPMENT ONLY — group calls in e2e/dev-fake-server.mjs: the room state of
 * docs' "Group calls" section (room.* events over the gateway), in memory, without an SFU.
 *
 * What it does: `room.join` by a member of a group → `room.joined` to that socket and
 * `room.state` to every member (a second device of the same user takes the place over:
 * `room.left joined_elsewhere` to the first); `room.mute` and the screen flag from the
 * offer's `tracks` show in `room.state`; `room.leave` → `room.left left`; a socket that
 * closes leaves at once. `ready.rooms` lists the live rooms. `room.offer` is never
 * answered and `room.view` is ignored: no media flows, the tiles show avatars.
 */
export function createRooms({ emit, conversation }) {
  /** conversation id → { room_id, started_at, participants: Map<userId, { ws, joined_at, audio_muted, video_muted, screen_sharing }> } */
  const rooms = new Map();
  let n = 0;

  const now = () => new Date().toISOString();
  const membersOf = (c) => [...c.members.keys()];

  function view(cid) {
    const r = rooms.get(cid);
    if (!r) return { conversation_id: cid, room_id: '', started_at: '', participants: [] };
    return {
      conversation_id: cid,
      room_id: r.room_id,
      started_at: r.started_at,
      participants: [...r.participants].map(([user_id, p]) => ({
        user_id,
        joined_at: p.joined_at,
        audio_muted: p.audio_muted,
        video_muted: p.video_muted,
        screen_sharing: p.screen_sharing,
      })),
    };
  }

  function publish(cid) {
    const c = conversation(cid);
    const room = view(cid);
    if (room.participants.length === 0) rooms.delete(cid);
    if (c) emit(membersOf(c), { type: 'room.state', room });
  }

  function leave(cid, uid, ws, reason) {
    const r = rooms.get(cid);
    const p = r?.participants.get(uid);
    if (!p || (ws && p.ws !== ws)) return;
    r.participants.delete(uid);
    if (p.ws.readyState === 1 && reason) p.ws.send(JSON.stringify({ type: 'room.left', conversation_id: cid, reason }));
    publish(cid);
  }

  /** The live rooms of the user's group conversations, for `ready`. */
  function ready(uid) {
    return [...rooms.keys()].filter((cid) => conversation(cid)?.members.has(uid)).map(view);
  }

  function handle(ws, uid, e, reply, fail) {
    const cid = e.conversation_id;
    const c = typeof cid === 'string' ? conversation(cid) : undefined;
    const err = (code, message) => fail(code, message, { conversation_id: cid ?? null });
    if (!c || !c.members.has(uid)) return err('not_found', 'no such conversation');
    if (c.kind !== 'group') return err('validation_failed', 'a room needs a group conversation (use call.invite)');
    const r = rooms.get(cid);
    const me = r?.participants.get(uid);
    switch (e.type) {
      case 'room.join': {
        if (me && me.ws !== ws) leave(cid, uid, null, 'joined_elsewhere');
        const room = rooms.get(cid) ?? { room_id: `fake-room-${++n}`, started_at: now(), participants: new Map() };
        rooms.set(cid, room);
        if (room.participants.size >= 16 && !room.participants.has(uid)) return err('room_full', 'the call is full');
        room.participants.set(uid, { ws, joined_at: now(), audio_muted: false, video_muted: false, screen_sharing: false });
        reply({ type: 'room.joined', room: view(cid), max_video_kbps: 1500 });
        return publish(cid);
      }
      case 'room.leave':
        if (!me || me.ws !== ws) return err('room_not_joined', 'not in the room');
        return leave(cid, uid, ws, 'left');
      case 'room.mute':
        if (!me || me.ws !== ws) return err('room_not_joined', 'not in the room');
        if (e.source === 'microphone') me.audio_muted = e.muted === true;
        else if (e.source === 'camera') me.video_muted = e.muted === true;
        else return err('invalid_event', 'unknown source');
        return publish(cid);
      case 'room.offer': {
        if (!me || me.ws !== ws) return err('room_not_joined', 'not in the room');
        const sharing = Array.isArray(e.tracks) && e.tracks.some((t) => t?.source === 'screen');
        const camera = Array.isArray(e.tracks) && e.tracks.some((t) => t?.source === 'camera');
        if (!camera) me.video_muted = true;
        if (sharing !== me.screen_sharing) me.screen_sharing = sharing;
        return publish(cid); // no SFU here: never answered
      }
      case 'room.view':
        return;
      default:
        return fail('unknown_type', `unknown event type ${String(e.type).slice(0, 40)}`, {});
    }
  }

  /** A socket closed: its places are given up at once (the fake has no grace period). */
  function closed(ws) {
    for (const [cid, r] of rooms) for (const [uid, p] of r.participants) if (p.ws === ws) leave(cid, uid, ws, null);
  }

  return { ready, handle, closed };
}
