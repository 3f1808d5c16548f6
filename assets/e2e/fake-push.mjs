/**
 * FOR UI DEVELOPMENT ONLY (dev-fake-server.mjs): the web push and notification settings
 * endpoints (docs/protocol.md), in memory, with the real server's validation, and pushes
 * (npm web-push builds the encrypted, VAPID-signed request) to a member with no socket
 * open, unless the conversation is muted or do-not-disturb is on. http endpoints on
 * 127.0.0.1 are taken (like the server's `push.allow_http_endpoints`).
 */
import webpush from 'web-push';

const B64URL = /^[A-Za-z0-9_-]+$/;
const bytesOf = (s) => (typeof s === 'string' && B64URL.test(s) ? Buffer.from(s, 'base64url') : null);

export function createPush({ send, problem, userById }) {
  const vapid = webpush.generateVAPIDKeys();
  const vapidPublic = vapid.publicKey;
  /** endpoint → { userId, keys } */
  const subscriptions = new Map();
  /** userId → { hide_content, dnd_until, mutes: Map<conversationId, until> } */
  const settings = new Map();
  const settingsOf = (userId) => {
    if (!settings.has(userId)) settings.set(userId, { hide_content: false, dnd_until: null, mutes: new Map() });
    return settings.get(userId);
  };
  const view = (s) => ({
    hide_content: s.hide_content,
    dnd_until: s.dnd_until,
    // Past mutes are not listed (as the server does).
    mutes: [...s.mutes].filter(([, until]) => until === null || Date.parse(until) > Date.now()).map(([conversation_id, until]) => ({ conversation_id, until })),
  });
  const isTime = (v) => v === null || (typeof v === 'string' && Number.isFinite(Date.parse(v)));

  /** Handles /push… and /notifications…; false when the path is not one of its routes. */
  function rest(req, res, path, me, body, isMember) {
    const method = req.method;
    if (method === 'GET' && path === '/push/key') return send(res, 200, { enabled: true, public_key: vapidPublic }), true;
    if (method === 'POST' && path === '/push/subscriptions') {
      const endpoint = body?.endpoint;
      let url = null;
      try {
        url = new URL(endpoint);
      } catch {
        /* checked below */
      }
      const p256dh = bytesOf(body?.keys?.p256dh);
      const auth = bytesOf(body?.keys?.auth);
      if (!url || (url.protocol !== 'https:' && url.hostname !== '127.0.0.1') || p256dh?.length !== 65 || auth?.length !== 16) {
        problem(res, 400, 'validation_failed', 'endpoint must be https; keys.p256dh a P-256 point, keys.auth 16 bytes.');
        return true;
      }
      const existing = subscriptions.get(endpoint);
      const id = existing?.id ?? crypto.randomUUID();
      subscriptions.set(endpoint, { id, userId: me.id, keys: body.keys });
      send(res, 201, { id });
      return true;
    }
    if (method === 'DELETE' && path === '/push/subscriptions') {
      const sub = subscriptions.get(body?.endpoint);
      if (sub?.userId === me.id) subscriptions.delete(body.endpoint);
      send(res, 204, null);
      return true;
    }
    if (path === '/notifications/settings') {
      const s = settingsOf(me.id);
      if (method === 'GET') return send(res, 200, view(s)), true;
      if (method === 'PATCH') {
        if ('hide_content' in body && typeof body.hide_content !== 'boolean') return problem(res, 400, 'validation_failed', 'hide_content is a boolean.'), true;
        if ('dnd_until' in body && !isTime(body.dnd_until)) return problem(res, 400, 'validation_failed', 'dnd_until is RFC 3339 or null.'), true;
        if ('hide_content' in body) s.hide_content = body.hide_content;
        if ('dnd_until' in body) s.dnd_until = body.dnd_until;
        send(res, 200, view(s));
        return true;
      }
    }
    const mute = path.match(/^\/notifications\/mutes\/([\w-]+)$/);
    if (mute) {
      const [, cid] = mute;
      if (!isMember(cid)) return problem(res, 404, 'not_found', 'No such conversation.', 'Not Found'), true;
      const s = settingsOf(me.id);
      if (method === 'PUT') {
        if (!isTime(body?.until ?? null)) return problem(res, 400, 'validation_failed', 'until is RFC 3339 or null.'), true;
        s.mutes.set(cid, body.until ?? null);
        send(res, 200, { conversation_id: cid, until: body.until ?? null });
        return true;
      }
      if (method === 'DELETE') {
        s.mutes.delete(cid);
        send(res, 204, null);
        return true;
      }
    }
    return false;
  }

  /** A stored message for `uid`, who has no socket open. */
  function messageStored(uid, m, c, unread) {
    const s = settingsOf(uid);
    const until = s.mutes.get(m.conversation_id);
    const muted = s.mutes.has(m.conversation_id) && (until === null || Date.parse(until) > Date.now());
    if (muted || m.kind === 'call' || (s.dnd_until && Date.parse(s.dnd_until) > Date.now())) return;
    const sender = userById(m.sender_id);
    const line = (m.body ?? '').split(/\r?\n/).find((l) => l.trim()) ?? '';
    const payload = JSON.stringify({
      v: 1,
      type: 'message',
      conversation_id: m.conversation_id,
      conversation_kind: c.kind,
      conversation_name: c.kind === 'group' ? c.name : null,
      sender: { id: m.sender_id, display_name: sender?.display_name ?? 'Someone' },
      message_id: m.id,
      seq: m.seq,
      ...(s.hide_content ? {} : { body: line.slice(0, 140), image: (m.attachments?.length ?? 0) > 0 }),
      mention: false,
      hidden: s.hide_content,
      unread,
      sent_at: m.created_at,
    });
    for (const [endpoint, sub] of subscriptions) {
      if (sub.userId !== uid) continue;
      const req = webpush.generateRequestDetails({ endpoint, keys: sub.keys }, payload, {
        TTL: 3600,
        vapidDetails: { subject: 'mailto:dev@nexus.invalid', publicKey: vapid.publicKey, privateKey: vapid.privateKey },
      });
      fetch(req.endpoint, { method: req.method, headers: req.headers, body: req.body, signal: AbortSignal.timeout(10_000) })
        .then((res) => {
          if (res.status === 404 || res.status === 410) subscriptions.delete(endpoint);
        })
        .catch(() => undefined);
    }
  }

  return { rest, subscriptions, messageStored };
}
