/**
 * FOR UI DEVELOPMENT ONLY — the conversation features of e2e/dev-fake-server.mjs, used by
 * fake-messaging.mjs: replies, mentions, edits (with versions), deletions (tombstones),
 * reactions, pins, the change feed (`GET …/changes`), history around a seq and search, over
 * REST and the gateway (`message.edit`, `message.delete`, `reaction.set`, `message.pin`,
 * answered with `change.ack`; `message.updated` / `message.deleted` / `message.reaction` to
 * every member's devices). In memory, following the wire contract; not the Nexus server.
 *
 * Knobs: FAKE_EDIT_WINDOW_SECS (default 86400), FAKE_DELETE_WINDOW_SECS (default 86400;
 * group admins have none).
 */
const SNIPPET_MAX = 140;
const MAX_REACTIONS = 20;
const EMOJI = /^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|[#*0-9]\uFE0F?\u20E3)/u;
const chars = (s) => Array.from(s).length;

/**
 * @param {{ conversations: Map<string, any>, emit(userIds: string[], event: object): void, userById(id: string): any, now(): string }} deps
 */
export function createChanges(deps) {
  const { conversations, emit, userById, now } = deps;
  const editWindowMs = Number(process.env.FAKE_EDIT_WINDOW_SECS ?? 86_400) * 1000;
  const deleteWindowMs = Number(process.env.FAKE_DELETE_WINDOW_SECS ?? 86_400) * 1000;
  /** message id → [{ version, body, created_at }] */
  const versions = new Map();
  /** `${uid}:${client_id}` → the ack of a change */
  const acks = new Map();

  const membersOf = (c) => [...c.members.keys()];
  const find = (c, id) => c.messages.find((m) => m.id === id);

  /** The feature fields of a message as it is stored. */
  function fresh(c, body, replyTo) {
    const mentions = [];
    for (const match of body.matchAll(/(?:^|[^\p{L}\p{N}_.@])@([a-z0-9_.]+)/giu)) {
      const name = match[1].replace(/\.+$/u, '').toLowerCase();
      const uid = membersOf(c).find((id) => userById(id)?.username === name);
      if (uid && !mentions.includes(uid)) mentions.push(uid);
    }
    return {
      change_seq: 0,
      edited_at: null,
      deleted_at: null,
      deleted_by: null,
      reply_to: replyTo ? replyView(replyTo) : null,
      reactions: [],
      pinned_at: null,
      pinned_by: null,
      mentions,
    };
  }

  function replyView(m) {
    return {
      id: m.id,
      seq: m.seq,
      sender_id: m.sender_id,
      snippet: m.deleted_at ? '' : snippet(m.body),
      deleted: !!m.deleted_at,
      attachments: m.attachments?.length ?? 0,
    };
  }

  function snippet(body) {
    const first = body.split('\n').find((l) => l.trim())?.trim() ?? '';
    const cs = Array.from(first);
    return cs.length > SNIPPET_MAX ? `${cs.slice(0, SNIPPET_MAX - 1).join('')}…` : first;
  }

  /** Checks a reply target of a message being sent: null, or an error. */
  function replyTarget(c, id) {
    if (id === undefined || id === null) return { target: null };
    const m = typeof id === 'string' ? find(c, id) : null;
    if (!m) return { error: ['not_found', 'no such message to reply to'] };
    if (m.deleted_at) return { error: ['message_deleted', 'that message was deleted'] };
    return { target: m };
  }

  /** The next change of `m` in `c`: numbers it, keeps replies to it current, tells everyone. */
  function changed(c, m, event) {
    c.changeSeq = (c.changeSeq ?? 0) + 1;
    m.change_seq = c.changeSeq;
    for (const x of c.messages) if (x.reply_to?.id === m.id) x.reply_to = replyView(m);
    emit(membersOf(c), { ...event, message: m });
    return m;
  }

  /** One change asked by `me`: returns { message } or { error: [code, detail] }. */
  function apply(me, c, kind, args) {
    const m = typeof args.message_id === 'string' ? find(c, args.message_id) : null;
    if (!m || m.kind === 'call') return { error: ['not_found', 'no such message'] };
    const admin = c.kind === 'group' && c.members.get(me) === 'admin';
    const age = Date.now() - Date.parse(m.created_at);
    switch (kind) {
      case 'edit': {
        if (m.sender_id !== me) return { error: ['forbidden', 'only the author can edit a message'] };
        if (m.deleted_at) return { error: ['message_deleted', 'that message was deleted'] };
        if (age > editWindowMs) return { error: ['edit_window_passed', 'too late to edit that message'] };
        const body = typeof args.body === 'string' ? args.body.trim() : '';
        if ((!body && !m.attachments?.length) || chars(body) > 4000) return { error: ['validation_failed', 'body must be 1–4000 characters'] };
        if (body === m.body) return { message: m };
        const list = versions.get(m.id) ?? [{ version: 1, body: m.body, created_at: m.created_at }];
        const at = now();
        list.push({ version: list.length + 1, body, created_at: at });
        versions.set(m.id, list);
        m.body = body;
        m.edited_at = at;
        return { message: changed(c, m, { type: 'message.updated', change: 'edited', by: me }) };
      }
      case 'delete': {
        if (m.deleted_at) return { message: m };
        if (m.sender_id !== me && !admin) return { error: ['forbidden', 'only the author or a group admin can delete a message'] };
        if (!admin && age > deleteWindowMs) return { error: ['delete_window_passed', 'too late to delete that message'] };
        Object.assign(m, { body: '', attachments: [], reactions: [], deleted_at: now(), deleted_by: me, pinned_at: null, pinned_by: null });
        return { message: changed(c, m, { type: 'message.deleted', by: me }) };
      }
      case 'reaction': {
        if (m.deleted_at) return { error: ['message_deleted', 'that message was deleted'] };
        const emoji = args.emoji;
        if (typeof emoji !== 'string' || !emoji || emoji.length > 32 || !EMOJI.test(emoji)) return { error: ['validation_failed', 'emoji must be one emoji'] };
        const on = args.on === true;
        const r = m.reactions.find((x) => x.emoji === emoji);
        const mine = !!r?.user_ids.includes(me);
        if (on === mine) return { message: m };
        if (on) {
          if (!r && m.reactions.length >= MAX_REACTIONS) return { error: ['too_many_reactions', `at most ${MAX_REACTIONS} different reactions`] };
          if (r) {
            r.user_ids.push(me);
            r.count = r.user_ids.length;
          } else m.reactions.push({ emoji, count: 1, user_ids: [me] });
        } else {
          r.user_ids = r.user_ids.filter((u) => u !== me);
          r.count = r.user_ids.length;
          if (!r.count) m.reactions = m.reactions.filter((x) => x !== r);
        }
        return { message: changed(c, m, { type: 'message.reaction', by: me, emoji, on }) };
      }
      case 'pin': {
        if (c.kind === 'group' && !admin) return { error: ['forbidden', 'only group admins can pin'] };
        if (m.deleted_at) return { error: ['message_deleted', 'that message was deleted'] };
        const pinned = args.pinned === true;
        if (pinned === !!m.pinned_at) return { message: m };
        m.pinned_at = pinned ? now() : null;
        m.pinned_by = pinned ? me : null;
        return { message: changed(c, m, { type: 'message.updated', change: pinned ? 'pinned' : 'unpinned', by: me }) };
      }
    }
    return { error: ['invalid_event', 'unknown change'] };
  }

  /** Same client_id (per user): the same answer, and nothing changes twice. */
  function once(me, clientId, run) {
    if (typeof clientId === 'string' && clientId) {
      const seen = acks.get(`${me}:${clientId}`);
      if (seen) return seen;
    }
    const r = run();
    if (r.message && typeof clientId === 'string' && clientId) acks.set(`${me}:${clientId}`, r);
    return r;
  }

  const KINDS = { 'message.edit': 'edit', 'message.delete': 'delete', 'reaction.set': 'reaction', 'message.pin': 'pin' };

  /** A gateway event of ours? Answers it and returns true. */
  function ws(me, e, reply, fail) {
    const kind = KINDS[e.type];
    if (!kind) return false;
    const cid = typeof e.client_id === 'string' ? e.client_id : undefined;
    if (!cid || typeof e.conversation_id !== 'string' || typeof e.message_id !== 'string') {
      fail('invalid_event', `${e.type} needs client_id, conversation_id and message_id`, cid);
      return true;
    }
    const c = conversations.get(e.conversation_id);
    if (!c?.members.has(me)) {
      fail('not_found', 'no such conversation', cid);
      return true;
    }
    const r = once(me, cid, () => apply(me, c, kind, e));
    if (r.error) fail(r.error[0], r.error[1], cid);
    else reply({ type: 'change.ack', client_id: cid, message: r.message });
    return true;
  }

  const STATUS = { not_found: 404, forbidden: 403, edit_window_passed: 403, delete_window_passed: 403, message_deleted: 409, too_many_reactions: 409, validation_failed: 422 };

  /** `/conversations/{id}/…` routes of ours; returns false for any other. */
  function rest(req, res, c, me, parts, url, body, { send, problem }) {
    const method = req.method ?? 'GET';
    const [, , sub, mid, leaf, arg] = parts;
    const answer = (r) => (r.error ? problem(res, STATUS[r.error[0]] ?? 422, ...r.error) : send(res, 200, r.message));
    if (sub === 'pins' && !mid && method === 'GET') {
      const pins = c.messages.filter((m) => m.pinned_at).sort((a, b) => (a.pinned_at < b.pinned_at ? 1 : -1));
      return send(res, 200, pins), true;
    }
    if (sub === 'changes' && !mid && method === 'GET') {
      const after = Math.max(0, Number(url.searchParams.get('after') ?? 0) || 0);
      const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 200) || 200, 1), 200);
      const messages = c.messages.filter((m) => m.change_seq > after).sort((a, b) => a.change_seq - b.change_seq).slice(0, limit);
      return send(res, 200, { messages, last_change_seq: c.changeSeq ?? 0 }), true;
    }
    if (sub !== 'messages' || !mid) return false;
    if (!leaf && method === 'PATCH') return answer(once(me, body.client_id, () => apply(me, c, 'edit', { ...body, message_id: mid }))), true;
    if (!leaf && method === 'DELETE') return answer(apply(me, c, 'delete', { message_id: mid })), true;
    if (leaf === 'versions' && method === 'GET') {
      const m = find(c, mid);
      if (!m) return problem(res, 404, 'not_found', 'no such message'), true;
      return send(res, 200, versions.get(m.id) ?? [{ version: 1, body: m.body, created_at: m.created_at }]), true;
    }
    if (leaf === 'reactions' && arg && (method === 'PUT' || method === 'DELETE')) {
      return answer(apply(me, c, 'reaction', { message_id: mid, emoji: decodeURIComponent(arg), on: method === 'PUT' })), true;
    }
    if (leaf === 'pin' && (method === 'PUT' || method === 'DELETE')) return answer(apply(me, c, 'pin', { message_id: mid, pinned: method === 'PUT' })), true;
    return false;
  }

  /** `GET /messages?around_seq=SEQ`: up to half of `limit` before it, then it and those after. */
  function around(c, seq, limit) {
    const i = Math.max(0, Math.min(c.messages.length, seq) - 1);
    const start = Math.max(0, i - Math.floor(limit / 2));
    return c.messages.slice(start, start + limit);
  }

  /** `GET /search`: newest first over the user's conversations; the matches marked. */
  function search(me, q) {
    const words = (q.get('q') ?? '').toLowerCase().split(/\s+/u).filter(Boolean);
    const limit = Math.min(Math.max(Number(q.get('limit') ?? 20) || 20, 1), 50);
    const offset = Math.max(0, Number(q.get('cursor') ?? 0) || 0);
    const cid = q.get('conversation_id');
    const sender = q.get('sender_id');
    const after = q.get('after');
    const before = q.get('before');
    const images = q.get('has') === 'image';
    if (!words.length) return { results: [], next_cursor: null };
    const hits = [];
    for (const c of conversations.values()) {
      if (!c.members.has(me) || (cid && c.id !== cid)) continue;
      for (const m of c.messages) {
        if (m.deleted_at || m.kind === 'call') continue;
        if (sender && m.sender_id !== sender) continue;
        if (after && m.created_at < after) continue;
        if (before && m.created_at > before) continue;
        if (images && !m.attachments?.length) continue;
        const lower = m.body.toLowerCase();
        if (words.every((w) => lower.includes(w))) hits.push(m);
      }
    }
    hits.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
    const page = hits.slice(offset, offset + limit);
    return {
      results: page.map((m) => ({ message: m, snippet: marked(m.body, words) })),
      next_cursor: offset + limit < hits.length ? String(offset + limit) : null,
    };
  }

  function marked(body, words) {
    const lower = body.toLowerCase();
    const first = Math.min(...words.map((w) => lower.indexOf(w)).filter((i) => i >= 0));
    const start = Math.max(0, first - 40);
    const text = (start > 0 ? '…' : '') + body.slice(start, start + 160) + (start + 160 < body.length ? '…' : '');
    const re = new RegExp(`(${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'giu');
    return text.replace(re, '\u0002$1\u0003');
  }

  /** Unread messages after `readSeq` that mention `uid`. */
  function mentionCount(c, uid, readSeq) {
    return c.messages.filter((m) => m.seq > readSeq && m.sender_id !== uid && !m.deleted_at && m.mentions?.includes(uid)).length;
  }

  return { fresh, replyTarget, ws, rest, around, search, mentionCount };
}
