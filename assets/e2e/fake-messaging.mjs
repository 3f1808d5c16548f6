/**
 * FOR UI DEVELOPMENT ONLY — the messaging half of e2e/dev-fake-server.mjs: conversations,
 * messages, receipts (REST under /api/v1) and the WebSocket gateway at /api/v1/ws, in
 * memory, following docs/protocol.md. Not the Nexus server; nothing here is durable.
 *
 * Behaviour worth knowing when reading a UI test against it:
 * - `message.send` is acked at once, then stored and fanned out as `message.new` a few ms
 *   later (FAKE_STORE_DELAY_MS), like the real pipeline (ack = durable, new = persisted).
 * - The same client_id (per sender) gets the same ack and never a second message.
 * - The sender's own message moves the sender's read and delivered pointers.
 * - The server pings at the WebSocket level; a client `{"type":"ping"}` gets `pong`.
 * - A socket whose access token expires is closed with 4003.
 * - A body starting with "/fail" is refused with `rate_limited` (to see the failed state).
 * - `attachments` (upload ids of fake-media.mjs) are claimed once: another user's or an
 *   unknown id is `not_found`, one attached before `attachment_used`. With attachments the
 *   body may be empty. Every message carries `attachments` (`[]` when none).
 * - Replies, mentions, edits, deletions, reactions, pins, the change feed, `?around_seq=` and
 *   search are in fake-changes.mjs.
 * - FAKE_MESSAGE_RATE=10 limits each user to 10 messages/s (burst 30), answered with
 *   `rate_limited` + `retry_after_ms` (429 over REST), like the server's default.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { createRooms } from './fake-rooms.mjs';
import { createCalls } from './fake-calls.mjs';
import { createChanges } from './fake-changes.mjs';

const MAX_BODY = 4000;
const PING_MS = 20_000;

/** A time-ordered UUIDv7 (48-bit ms timestamp, version 7, random rest). */
export function uuidv7() {
  const b = randomBytes(16);
  const ms = BigInt(Date.now());
  for (let i = 0; i < 6; i++) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const chars = (s) => Array.from(s).length;

/**
 * @param {{ userById(id: string): any, tokenUser(token: string): any, problem: Function, send: Function, storeDelayMs?: number }} deps
 */
export function createMessaging(deps) {
  const { userById, tokenUser, problem, send, media } = deps;
  const storeDelayMs = deps.storeDelayMs ?? Number(process.env.FAKE_STORE_DELAY_MS ?? 5);

  /** id → { id, kind, name, created_at, last_activity_at, members: Map<userId, role>, messages: [] } */
  const conversations = new Map();
  /** `${cid}:${uid}` → { delivered_seq, read_seq } */
  const receipts = new Map();
  /** `${uid}:${client_id}` → ack event */
  const acks = new Map();
  /** userId → Set<ws> */
  const sockets = new Map();
  /** userId → RFC 3339 */
  const lastSeen = new Map();
  /** Optional per-user message rate (FAKE_MESSAGE_RATE per second, burst 30), like the server's. */
  const rate = Number(process.env.FAKE_MESSAGE_RATE ?? 0);
  const buckets = new Map();
  function limited(uid) {
    if (!rate) return 0;
    const t = Date.now();
    const b = buckets.get(uid) ?? { tokens: 30, at: t };
    b.tokens = Math.min(30, b.tokens + ((t - b.at) / 1000) * rate);
    b.at = t;
    buckets.set(uid, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / rate) * 1000);
  }

  const now = () => new Date().toISOString();
  const pointer = (cid, uid) => receipts.get(`${cid}:${uid}`) ?? { delivered_seq: 0, read_seq: 0 };
  const isMember = (c, uid) => c?.members.has(uid);

  function view(c, me) {
    const mine = pointer(c.id, me);
    const last = c.messages[c.messages.length - 1] ?? null;
    return {
      id: c.id,
      kind: c.kind,
      name: c.name,
      created_at: c.created_at,
      last_seq: c.messages.length,
      last_message: last,
      last_activity_at: c.last_activity_at,
      members: [...c.members].map(([uid, role]) => ({ user: userById(uid), role })),
      unread_count: c.messages.filter((m) => m.seq > mine.read_seq && m.sender_id !== me).length,
      read_seq: mine.read_seq,
      delivered_seq: Math.max(mine.delivered_seq, mine.read_seq),
      last_change_seq: c.changeSeq ?? 0,
      mention_count: changes.mentionCount(c, me, mine.read_seq),
    };
  }

  // ---- fan-out -----------------------------------------------------------------------------

  function emit(userIds, event) {
    const frame = JSON.stringify(event);
    for (const uid of userIds) for (const ws of sockets.get(uid) ?? []) if (ws.readyState === 1) ws.send(frame);
    // Members with no socket open get a web push (fake-push.mjs), as from the real server.
    if (event.type === 'message.new' && deps.onStoredFor) {
      const m = event.message;
      const c = conversations.get(m.conversation_id);
      const away = userIds.filter((uid) => uid !== m.sender_id && !(sockets.get(uid)?.size));
      for (const uid of away) {
        const unread = [...conversations.values()].reduce((n, x) => (x.members.has(uid) ? n + view(x, uid).unread_count : n), 0);
        deps.onStoredFor(uid, m, c, unread);
      }
    }
  }

  const membersOf = (c) => [...c.members.keys()];

  // Replies, mentions, edits, deletions, reactions, pins and search (fake-changes.mjs).
  const changes = createChanges({ conversations, emit, userById, now: () => now() });

  // Group calls (fake-rooms.mjs): the room state only, no SFU.
  const rooms = createRooms({ emit, conversation: (id) => conversations.get(id) });

  // Calls (fake-calls.mjs): signaling only; a missed call leaves a `kind: "call"` message.
  const calls = createCalls({
    emit,
    conversation: (id) => (typeof id === 'string' ? conversations.get(id) : undefined),
    storeCallMessage: (cid, senderId, body) => {
      const c = conversations.get(cid);
      if (!c) return;
      const message = { id: uuidv7(), conversation_id: cid, seq: c.messages.length + 1, sender_id: senderId, body, kind: 'call', created_at: now(), client_id: null, attachments: [], ...changes.fresh(c, '', null) };
      c.messages.push(message);
      c.last_activity_at = message.created_at;
      emit(membersOf(c), { type: 'message.new', message });
    },
  });

  function publishConversation(c) {
    for (const uid of c.members.keys()) emit([uid], { type: 'conversation.updated', conversation: view(c, uid) });
  }

  /** Everyone who shares a conversation with `uid`. */
  function contactsOf(uid) {
    const out = new Set();
    for (const c of conversations.values()) if (c.members.has(uid)) for (const m of c.members.keys()) if (m !== uid) out.add(m);
    return out;
  }

  const presenceOf = (uid) => ({
    user_id: uid,
    online: (sockets.get(uid)?.size ?? 0) > 0,
    last_seen: (sockets.get(uid)?.size ?? 0) > 0 ? null : (lastSeen.get(uid) ?? null),
  });

  // ---- domain ------------------------------------------------------------------------------

  function record(c, uid, kind, seq) {
    if (!Number.isInteger(seq) || seq < 0) return { error: ['validation_failed', 'seq must be a non-negative integer'] };
    if (seq > c.messages.length) return { error: ['seq_out_of_range', `seq ${seq} is beyond the last message`] };
    const old = pointer(c.id, uid);
    const read_seq = kind === 'read' ? Math.max(old.read_seq, seq) : old.read_seq;
    const delivered_seq = Math.max(old.delivered_seq, kind === 'delivered' ? seq : 0, read_seq);
    if (read_seq !== old.read_seq || delivered_seq !== old.delivered_seq) {
      receipts.set(`${c.id}:${uid}`, { delivered_seq, read_seq });
      emit(membersOf(c), { type: 'receipt', conversation_id: c.id, user_id: uid, delivered_seq, read_seq });
    }
    return { ok: true };
  }

  /** The message pipeline: validate, ack (durable), then store with the next seq and fan out. */
  function submit(me, cid, clientId, body, attachmentIds, replyToId) {
    if (typeof clientId !== 'string' || clientId.length < 1 || clientId.length > 64) {
      return { error: ['validation_failed', 'client_id must be 1–64 characters'] };
    }
    const c = conversations.get(cid);
    if (!isMember(c, me)) return { error: ['not_found', 'no such conversation'] };
    if (attachmentIds !== undefined && (!Array.isArray(attachmentIds) || attachmentIds.length < 1 || attachmentIds.length > 10)) {
      return { error: ['validation_failed', 'attachments must hold 1–10 upload ids'] };
    }
    const withImages = Array.isArray(attachmentIds) && attachmentIds.length > 0;
    if (typeof body !== 'string' || chars(body) > MAX_BODY || (!withImages && (chars(body) < 1 || !body.trim()))) {
      return { error: ['validation_failed', `body must be 1–${MAX_BODY} characters`] };
    }
    // UI development knob: a body starting with "/fail" is refused, to see the failed state.
    if (body.startsWith('/fail')) return { error: ['rate_limited', 'too many messages; retry in 300 ms'] };
    const key = `${me}:${clientId}`;
    const seen = acks.get(key);
    if (seen) return { ack: seen };
    const reply = changes.replyTarget(c, replyToId);
    if (reply.error) return { error: reply.error };
    const wait = limited(me);
    if (wait) return { error: ['rate_limited', `too many messages; retry in ${wait} ms`], retry_after_ms: wait };
    let attachments = [];
    if (withImages) {
      const claimed = media.claim(me, attachmentIds);
      if (claimed.error) return { error: claimed.error };
      attachments = claimed.attachments;
    }
    const id = uuidv7();
    const ack = { type: 'message.ack', client_id: clientId, id, conversation_id: cid, created_at: now() };
    acks.set(key, ack);
    setTimeout(() => {
      if (!conversations.has(cid)) return;
      const message = {
        id,
        conversation_id: cid,
        seq: c.messages.length + 1,
        sender_id: me,
        body,
        created_at: ack.created_at,
        client_id: clientId,
        attachments,
        ...changes.fresh(c, body, reply.target),
      };
      c.messages.push(message);
      c.last_activity_at = message.created_at;
      emit(membersOf(c), { type: 'message.new', message });
      record(c, me, 'read', message.seq);
    }, storeDelayMs);
    return { ack };
  }

  function create(me, body) {
    if (body.kind === 'direct') {
      const other = typeof body.user_id === 'string' && userById(body.user_id);
      if (!other) return { status: 404, error: ['not_found', 'no such user'] };
      for (const c of conversations.values()) {
        if (c.kind === 'direct' && c.members.has(me) && c.members.has(other.id) && c.members.size === (me === other.id ? 1 : 2)) {
          return { status: 200, conversation: c };
        }
      }
      const c = newConversation('direct', null, [
        [me, 'member'],
        [other.id, 'member'],
      ]);
      return { status: 201, conversation: c };
    }
    if (body.kind === 'group') {
      const name = typeof body.name === 'string' ? body.name.trim() : '';
      if (chars(name) < 1 || chars(name) > 64) return { status: 422, error: ['validation_failed', 'name must be 1–64 characters'] };
      const ids = Array.isArray(body.member_ids) ? body.member_ids : [];
      if (ids.some((id) => !userById(id))) return { status: 404, error: ['not_found', 'no such user'] };
      const members = [[me, 'admin'], ...ids.filter((id) => id !== me).map((id) => [id, 'member'])];
      return { status: 201, conversation: newConversation('group', name, members) };
    }
    return { status: 422, error: ['validation_failed', 'kind must be "direct" or "group"'] };
  }

  function newConversation(kind, name, members) {
    const at = now();
    const c = { id: uuidv7(), kind, name, created_at: at, last_activity_at: at, members: new Map(members), messages: [] };
    conversations.set(c.id, c);
    publishConversation(c);
    // New contacts learn each other's presence.
    for (const [uid] of members) emit(members.map(([m]) => m).filter((m) => m !== uid), { type: 'presence', ...presenceOf(uid) });
    return c;
  }

  function page(c, q) {
    const limit = Math.min(Math.max(Number(q.get('limit') ?? 50) || 50, 1), 100);
    const after = q.get('after_seq');
    const before = q.get('before_seq');
    const around = q.get('around_seq');
    if (around !== null) return changes.around(c, Number(around) || 1, limit);
    if (after !== null) return c.messages.slice(Number(after), Number(after) + limit);
    const end = before !== null ? Math.max(0, Math.min(Number(before) - 1, c.messages.length)) : c.messages.length;
    return c.messages.slice(Math.max(0, end - limit), end);
  }

  // ---- REST --------------------------------------------------------------------------------

  /** Handles /conversations…; returns false when the path is not one of its routes. */
  async function rest(req, res, path, me, body) {
    const method = req.method ?? 'GET';
    const url = new URL(path, 'http://fake');
    const parts = url.pathname.split('/').filter(Boolean); // ['conversations', id?, sub?, sub2?]
    if (parts[0] !== 'conversations') return false;
    const [, id, sub, sub2] = parts;

    if (!id) {
      if (method === 'GET') {
        const list = [...conversations.values()]
          .filter((c) => c.members.has(me.id))
          .sort((a, b) => (a.last_activity_at < b.last_activity_at ? 1 : -1))
          .map((c) => view(c, me.id));
        send(res, 200, list);
        return true;
      }
      if (method === 'POST') {
        const r = create(me.id, body);
        if (r.error) problem(res, r.status, ...r.error);
        else send(res, r.status, view(r.conversation, me.id));
        return true;
      }
      return false;
    }

    const c = conversations.get(id);
    if (!isMember(c, me.id)) {
      problem(res, 404, 'not_found', 'No such conversation.', 'Not Found');
      return true;
    }
    const role = c.members.get(me.id);

    if (!sub && method === 'GET') return send(res, 200, view(c, me.id)), true;
    if (!sub && method === 'PATCH') {
      if (c.kind !== 'group' || role !== 'admin') return problem(res, 403, 'forbidden', 'Only group admins can rename.'), true;
      const name = typeof body.name === 'string' ? body.name.trim() : '';
      if (chars(name) < 1 || chars(name) > 64) return problem(res, 422, 'validation_failed', 'name must be 1–64 characters'), true;
      c.name = name;
      publishConversation(c);
      return send(res, 200, view(c, me.id)), true;
    }
    if (sub === 'members' && !sub2 && method === 'POST') {
      if (c.kind !== 'group' || role !== 'admin') return problem(res, 403, 'forbidden', 'Only group admins can add members.'), true;
      for (const uid of Array.isArray(body.user_ids) ? body.user_ids : []) if (userById(uid) && !c.members.has(uid)) c.members.set(uid, 'member');
      publishConversation(c);
      return send(res, 200, view(c, me.id)), true;
    }
    if (sub === 'members' && sub2 && method === 'DELETE') {
      if (sub2 !== me.id && (c.kind !== 'group' || role !== 'admin')) return problem(res, 403, 'forbidden', 'Only group admins can remove others.'), true;
      if (!c.members.has(sub2)) return problem(res, 404, 'not_found', 'Not a member.'), true;
      c.members.delete(sub2);
      emit([sub2], { type: 'conversation.removed', conversation_id: c.id });
      if (c.members.size === 0) conversations.delete(c.id);
      else publishConversation(c);
      return send(res, 204, null), true;
    }
    if (changes.rest(req, res, c, me.id, parts, url, body, { send, problem })) return true;
    if (sub === 'messages' && !sub2 && method === 'GET') return send(res, 200, page(c, url.searchParams)), true;
    if (sub === 'messages' && method === 'POST') {
      const clientId = req.headers['idempotency-key'] ?? randomUUID();
      const r = submit(me.id, c.id, clientId, body.body, body.attachments, body.reply_to);
      if (r.retry_after_ms) {
        const status = 429;
        return send(res, status, { type: 'about:blank', title: 'Too Many Requests', status, detail: r.error[1], code: r.error[0], retry_after_ms: r.retry_after_ms }, { 'content-type': 'application/problem+json' }), true;
      }
      if (r.error) return problem(res, { not_found: 404, attachment_used: 409 }[r.error[0]] ?? 422, ...r.error), true;
      const { id: mid, conversation_id, client_id, created_at } = r.ack;
      return send(res, 202, { id: mid, conversation_id, client_id, created_at }), true;
    }
    if (sub === 'read' && method === 'POST') {
      const r = record(c, me.id, 'read', body.seq);
      if (r.error) return problem(res, 422, ...r.error), true;
      return send(res, 204, null), true;
    }
    if (sub === 'receipts' && method === 'GET') {
      return send(res, 200, membersOf(c).map((uid) => ({ user_id: uid, ...pointer(c.id, uid) }))), true;
    }
    return false;
  }

  // ---- WebSocket ---------------------------------------------------------------------------

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

  function refuse(socket, status, code, detail) {
    const body = JSON.stringify({ type: `https://nexus.invalid/problems/${code}`, title: 'Refused', status, detail, code });
    socket.write(
      `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    socket.destroy();
  }

  function upgrade(req, socket, head) {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (url.pathname !== '/api/v1/ws') return refuse(socket, 404, 'not_found', 'No such endpoint.');
    const origin = req.headers.origin;
    if (origin && origin !== `http://${req.headers.host}`) return refuse(socket, 403, 'origin_not_allowed', 'Origin not allowed.');
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const auth = tokenUser(url.searchParams.get('token') ?? bearer ?? '');
    if (!auth) return refuse(socket, 401, 'unauthorized', 'Missing, expired or forged token.');
    wss.handleUpgrade(req, socket, head, (ws) => session(ws, auth.user, auth.exp));
  }

  function session(ws, user, exp) {
    const me = user.id;
    const set = sockets.get(me) ?? new Set();
    const wasOffline = set.size === 0;
    set.add(ws);
    sockets.set(me, set);
    const sessionId = uuidv7();
    ws.send(
      JSON.stringify({
        type: 'ready',
        session_id: sessionId,
        server_time: now(),
        user: userById(me),
        presence: [...contactsOf(me)].map(presenceOf),
        calls: calls.ready(ws, sessionId, me),
        rooms: rooms.ready(me),
      }),
    );
    if (wasOffline) emit([...contactsOf(me)], { type: 'presence', ...presenceOf(me) });

    const ping = setInterval(() => ws.readyState === 1 && ws.ping(), PING_MS);
    const expiry = setInterval(() => {
      if (Date.now() >= exp) ws.close(4003, 'token expired');
    }, 1000);
    const typingIn = new Set();

    const reply = (event) => ws.readyState === 1 && ws.send(JSON.stringify(event));
    const fail = (code, message, client_id) => reply({ type: 'error', code, message, ...(client_id ? { client_id } : {}) });
    const failCall = (code, message, extra) => reply({ type: 'error', code, message, ...extra });

    ws.on('message', (data, isBinary) => {
      if (isBinary) return fail('invalid_frame', 'binary frames are not events');
      let e;
      try {
        e = JSON.parse(String(data));
      } catch {
        return fail('invalid_frame', 'not JSON');
      }
      if (!e || typeof e !== 'object' || Array.isArray(e)) return fail('invalid_frame', 'an event must be a JSON object');
      const cid = typeof e.client_id === 'string' ? e.client_id : undefined;
      const c = typeof e.conversation_id === 'string' ? conversations.get(e.conversation_id) : undefined;
      switch (e.type) {
        case 'ping':
          return reply({ type: 'pong' });
        case 'message.send': {
          if (typeof e.conversation_id !== 'string' || typeof e.body !== 'string' || typeof e.client_id !== 'string') {
            return fail('invalid_event', 'message.send needs client_id, conversation_id and body', cid);
          }
          if (e.attachments !== undefined && !Array.isArray(e.attachments)) return fail('invalid_event', 'attachments must be an array', cid);
          const r = submit(me, e.conversation_id, e.client_id, e.body, e.attachments, e.reply_to);
          if (r.retry_after_ms) return reply({ type: 'error', code: r.error[0], message: r.error[1], client_id: cid, retry_after_ms: r.retry_after_ms });
          if (r.error) return fail(r.error[0], r.error[1], cid);
          typingIn.delete(e.conversation_id);
          return reply(r.ack);
        }
        case 'typing.start':
        case 'typing.stop': {
          if (!isMember(c, me)) return fail('not_found', 'no such conversation');
          const active = e.type === 'typing.start';
          if (active) typingIn.add(c.id);
          else typingIn.delete(c.id);
          return emit(
            membersOf(c).filter((u) => u !== me),
            { type: 'typing', conversation_id: c.id, user_id: me, active },
          );
        }
        case 'receipt.delivered':
        case 'receipt.read': {
          if (!isMember(c, me)) return fail('not_found', 'no such conversation');
          if (typeof e.seq !== 'number') return fail('invalid_event', 'seq must be a number');
          const r = record(c, me, e.type === 'receipt.read' ? 'read' : 'delivered', e.seq);
          if (r.error) return fail(...r.error);
          return;
        }
        default:
          if (changes.ws(me, e, reply, fail)) return;
          if (typeof e.type === 'string' && e.type.startsWith('call.')) return calls.handle(ws, e, reply, failCall);
          if (typeof e.type === 'string' && e.type.startsWith('room.')) return rooms.handle(ws, me, e, reply, failCall);
          return fail('unknown_type', `unknown event type ${JSON.stringify(String(e.type ?? '')).slice(0, 40)}`, cid);
      }
    });

    ws.on('close', () => {
      calls.closed(ws);
      rooms.closed(ws);
      clearInterval(ping);
      clearInterval(expiry);
      set.delete(ws);
      for (const conv of typingIn) {
        const c = conversations.get(conv);
        if (c) emit(membersOf(c).filter((u) => u !== me), { type: 'typing', conversation_id: conv, user_id: me, active: false });
      }
      if (set.size === 0) {
        lastSeen.set(me, now());
        emit([...contactsOf(me)], { type: 'presence', ...presenceOf(me) });
      }
    });
  }

  function close() {
    calls.close();
    for (const set of sockets.values()) for (const ws of set) ws.terminate();
    wss.close();
  }

  return { rest, upgrade, close, search: (uid, q) => changes.search(uid, q), isMember: (cid, uid) => !!isMember(conversations.get(cid), uid), stats: () => ({ conversations: conversations.size }) };
}
