import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Conversation, Message, MessagePageQuery, Receipt } from '../api/types';
import { createAppStore, type AppStore } from '../stores';
import { messagesSelectors } from '../stores/messages/selectors';
import { conversation, ME, message } from '../test/fixtures';
import { GatewayClient, SEND_TIMEOUT_MS, type ConversationApi } from './client';
import { CLIENT_DEAD_SOCKET, PING_INTERVAL_MS, PONG_TIMEOUT_MS, type SocketLike } from './connection';
import type { ClientEvent, ServerEvent } from './protocol';

// ---- a fake socket and a fake server ------------------------------------------------------

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: ClientEvent[] = [];
  closedWith: number | null = null;
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data) as ClientEvent);
  }
  close(code?: number) {
    this.readyState = 3;
    this.closedWith = code ?? 1000;
  }
  // what the server does
  accept(ready: Partial<ServerEvent> = {}) {
    this.readyState = 1;
    this.onopen?.({});
    this.push({ type: 'ready', session_id: 's', server_time: 'now', user: ME, presence: [], ...ready } as ServerEvent);
  }
  push(event: ServerEvent) {
    this.onmessage?.({ data: JSON.stringify(event) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  ofType<T extends ClientEvent['type']>(type: T) {
    return this.sent.filter((e): e is Extract<ClientEvent, { type: T }> => e.type === type);
  }
}

interface Harness {
  store: AppStore;
  client: GatewayClient;
  sockets: FakeSocket[];
  socket: () => FakeSocket;
  server: { messages: Message[]; conversations: Conversation[]; receipts: Receipt[]; online: boolean };
  api: { [K in keyof ConversationApi]: ReturnType<typeof vi.fn> };
  refreshToken: ReturnType<typeof vi.fn>;
  checkSession: ReturnType<typeof vi.fn>;
}

let ids = 0;

function setup(): Harness {
  const store = createAppStore({ draftStorage: () => null });
  store.getState().sessionAuthenticated({ user: ME, access_token: 'tok-1', token_type: 'Bearer', expires_in: 900 });
  const server: Harness['server'] = {
    messages: [],
    conversations: [conversation()],
    receipts: [],
    online: true,
  };
  const page = (cid: string, q: MessagePageQuery = {}) => {
    const all = server.messages.filter((m) => m.conversation_id === cid).sort((a, b) => a.seq - b.seq);
    const limit = q.limit ?? 50;
    if (q.after_seq !== undefined) return all.filter((m) => m.seq > q.after_seq!).slice(0, limit);
    const before = q.before_seq !== undefined ? all.filter((m) => m.seq < q.before_seq!) : all;
    return before.slice(-limit);
  };
  const api = {
    list: vi.fn(async () => structuredClone(server.conversations)),
    get: vi.fn(async (id: string) => structuredClone(server.conversations.find((c) => c.id === id)!)),
    messages: vi.fn(async (cid: string, q?: MessagePageQuery) => structuredClone(page(cid, q))),
    receipts: vi.fn(async () => structuredClone(server.receipts)),
  };
  const sockets: FakeSocket[] = [];
  const refreshToken = vi.fn(async () => {
    store.getState().sessionAuthenticated({ user: ME, access_token: 'tok-2', token_type: 'Bearer', expires_in: 900 });
  });
  const checkSession = vi.fn(async () => undefined);
  const client = new GatewayClient({
    store,
    api: api as unknown as ConversationApi,
    newClientId: () => `cid-${++ids}`,
    socket: {
      url: (token) => `ws://test/api/v1/ws?token=${token}`,
      createSocket: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
      refreshToken,
      checkSession,
      isOnline: () => server.online,
      random: () => 0,
    },
  });
  return { store, client, sockets, socket: () => sockets[sockets.length - 1]!, server, api, refreshToken, checkSession };
}

const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

/** Puts a message "in the database" (what the server does after the ack). */
function store(h: Harness, m: Message) {
  h.server.messages.push(m);
  h.server.conversations = h.server.conversations.map((c) =>
    c.id === m.conversation_id ? { ...c, last_seq: Math.max(c.last_seq, m.seq), last_message: m } : c,
  );
}

async function connected(h: Harness) {
  h.client.start();
  await tick();
  h.socket().accept();
  await tick();
}

async function openConversation(h: Harness, cid = 'c1') {
  h.store.getState().conversationsActivated(cid);
  h.client.open(cid);
  await tick();
}

const bubbles = (h: Harness, cid = 'c1') => {
  const t = messagesSelectors.thread(h.store.getState(), cid);
  return [...t.items, ...t.pending];
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  ids = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

// ---- connection ---------------------------------------------------------------------------

describe('gateway connection', () => {
  it('connects with the access token, is open on ready, and loads the conversation list', async () => {
    const h = setup();
    h.client.start();
    expect(h.store.getState().connection.status).toBe('connecting');
    expect(h.socket().url).toBe('ws://test/api/v1/ws?token=tok-1');
    h.socket().accept({ presence: [{ user_id: 'bob', online: true, last_seen: null }] } as Partial<ServerEvent>);
    await tick();
    expect(h.store.getState().connection.status).toBe('open');
    expect(h.store.getState().conversations.byId.c1).toBeDefined();
    expect(h.store.getState().conversations.presence.bob?.online).toBe(true);
  });

  it('pings every 25 s and replaces a socket that stays silent', async () => {
    const h = await (async () => {
      const h = setup();
      await connected(h);
      return h;
    })();
    await tick(PING_INTERVAL_MS);
    expect(h.socket().ofType('ping')).toHaveLength(1);
    h.socket().push({ type: 'pong' });
    await tick(PONG_TIMEOUT_MS);
    expect(h.sockets).toHaveLength(1);
    await tick(PING_INTERVAL_MS - PONG_TIMEOUT_MS);
    expect(h.socket().ofType('ping')).toHaveLength(2);
    await tick(PONG_TIMEOUT_MS); // no pong, no frame
    expect(h.sockets[0]!.closedWith).toBe(CLIENT_DEAD_SOCKET);
    expect(h.store.getState().connection.status).toBe('reconnecting');
    await tick(1_000);
    expect(h.sockets).toHaveLength(2);
  });

  it('reconnects with growing backoff while the server is away', async () => {
    const h = setup();
    await connected(h);
    h.socket().drop(1001);
    expect(h.store.getState().connection.status).toBe('reconnecting');
    await tick(250); // attempt 0 after a healthy connection: 250–500 ms
    expect(h.sockets).toHaveLength(2);
    h.socket().drop(1006); // refused before open
    await tick();
    expect(h.checkSession).toHaveBeenCalledTimes(1);
    const { retryAt, attempt } = h.store.getState().connection;
    expect(attempt).toBe(1);
    expect(retryAt! - Date.now()).toBe(500);
    await tick(500);
    expect(h.sockets).toHaveLength(3);
    h.socket().drop(1006);
    await tick();
    expect(h.store.getState().connection.retryAt! - Date.now()).toBe(1000);
  });

  it('on 4003 refreshes the token, then reconnects with the new one', async () => {
    const h = setup();
    await connected(h);
    h.socket().drop(4003);
    await tick();
    expect(h.refreshToken).toHaveBeenCalledTimes(1);
    expect(h.sockets).toHaveLength(2);
    expect(h.socket().url).toContain('token=tok-2');
  });

  it('on 4003 with a token already refreshed, reconnects without another refresh', async () => {
    const h = setup();
    await connected(h);
    h.store.getState().sessionAuthenticated({ user: ME, access_token: 'tok-3', token_type: 'Bearer', expires_in: 900 });
    h.socket().drop(4003);
    await tick();
    expect(h.refreshToken).not.toHaveBeenCalled();
    expect(h.socket().url).toContain('token=tok-3');
  });

  it('on 4010 (account disabled) checks the session at once, even if the browser says it is offline', async () => {
    const h = setup();
    await connected(h);
    h.server.online = false;
    h.socket().drop(4010);
    await tick();
    expect(h.checkSession).toHaveBeenCalledTimes(1);
    expect(h.refreshToken).not.toHaveBeenCalled();
    expect(h.sockets).toHaveLength(1);
  });

  it('backs off at least 15 s after 4029 (flooding)', async () => {
    const h = setup();
    await connected(h);
    h.socket().drop(4029);
    await tick(14_999);
    expect(h.sockets).toHaveLength(1);
    await tick(1);
    expect(h.sockets).toHaveLength(2);
  });

  it('while offline, only probes every 30 s, and connects at once when woken', async () => {
    const h = setup();
    await connected(h);
    h.server.online = false;
    h.client.connection.goOffline();
    expect(h.store.getState().connection.status).toBe('offline');
    await tick(29_999);
    expect(h.sockets).toHaveLength(1);
    // navigator.onLine is only a hint (a LAN server may be reachable): try anyway.
    await tick(1);
    expect(h.sockets).toHaveLength(2);
    expect(h.store.getState().connection.status).toBe('offline');
    h.socket().drop(1006);
    expect(h.store.getState().connection.status).toBe('offline');
    expect(h.sockets).toHaveLength(2);
    h.server.online = true;
    h.client.connection.wake();
    expect(h.sockets).toHaveLength(3);
  });

  it('connects even when the browser claims to be offline from the start', async () => {
    const h = setup();
    h.server.online = false;
    h.client.start();
    expect(h.sockets).toHaveLength(1);
    expect(h.store.getState().connection.status).toBe('offline');
  });

  it('stop closes the socket and never reconnects', async () => {
    const h = setup();
    await connected(h);
    h.client.stop();
    expect(h.socket().closedWith).toBe(1000);
    expect(h.store.getState().connection.status).toBe('idle');
    await tick(60_000);
    expect(h.sockets).toHaveLength(1);
  });
});

// ---- sending ------------------------------------------------------------------------------

describe('gateway outbox', () => {
  it('sends with a client_id; ack → sent; message.new replaces the bubble', async () => {
    const h = setup();
    await connected(h);
    await openConversation(h);
    const clientId = h.client.send('c1', 'Hello');
    expect(bubbles(h)).toEqual([expect.objectContaining({ status: 'pending', client_id: clientId })]);
    expect(h.socket().ofType('message.send')).toEqual([
      { type: 'message.send', client_id: clientId, conversation_id: 'c1', body: 'Hello' },
    ]);
    h.socket().push({ type: 'message.ack', client_id: clientId, id: 'm1', conversation_id: 'c1', created_at: 'x' });
    expect(bubbles(h)[0]?.status).toBe('sent');
    h.socket().push({ type: 'message.new', message: message(1, { sender_id: 'me', client_id: clientId, id: 'm1', body: 'Hello' }) });
    await tick();
    expect(bubbles(h)).toEqual([expect.objectContaining({ status: 'stored', seq: 1, key: clientId })]);
    await tick(SEND_TIMEOUT_MS);
    expect(bubbles(h)[0]?.status).toBe('stored');
  });

  it('a message with images goes out only once every image has its upload id', async () => {
    const h = setup();
    await connected(h);
    await openConversation(h);
    const img = (key: string) => ({ key, id: null, mime: 'image/png', width: 4, height: 3, blurhash: null, url: 'blob:x', preview: 'blob:x', thumbnail: 'blob:x' });
    const clientId = h.client.send('c1', '', [img('a'), img('b')]);
    expect(bubbles(h)[0]).toMatchObject({ status: 'pending', attachments: [{ key: 'a' }, { key: 'b' }] });
    expect(h.socket().ofType('message.send')).toEqual([]);
    h.client.attachmentUploaded('c1', clientId, 'b', 'up-b');
    expect(h.socket().ofType('message.send')).toEqual([]);
    h.client.attachmentUploaded('c1', clientId, 'a', 'up-a');
    expect(h.socket().ofType('message.send')).toEqual([
      { type: 'message.send', client_id: clientId, conversation_id: 'c1', body: '', attachments: ['up-a', 'up-b'] },
    ]);
  });

  it('an image that fails to upload fails its message', async () => {
    const h = setup();
    await connected(h);
    await openConversation(h);
    const clientId = h.client.send('c1', 'x', [{ key: 'a', id: null, mime: 'image/png', width: 1, height: 1, blurhash: null, url: '', preview: '', thumbnail: '' }]);
    h.client.attachmentFailed('c1', clientId, 'quota_exceeded');
    expect(bubbles(h)[0]).toMatchObject({ status: 'failed', error: 'quota_exceeded' });
    expect(h.socket().ofType('message.send')).toEqual([]);
  });

  it('queues while disconnected and sends once ready, never twice', async () => {
    const h = setup();
    h.server.online = false;
    h.client.start();
    await tick();
    h.store.getState().conversationsActivated('c1');
    const clientId = h.client.send('c1', 'later');
    await tick(SEND_TIMEOUT_MS * 3);
    expect(bubbles(h)[0]?.status).toBe('pending'); // no timeout while it could not be sent
    h.server.online = true;
    h.client.connection.wake();
    h.socket().accept();
    await tick();
    await tick();
    expect(h.socket().ofType('message.send').map((e) => e.client_id)).toEqual([clientId]);
  });

  it('a message in flight when the socket drops is resent with the same client_id; ack + new + catch-up show it once', async () => {
    const h = setup();
    await connected(h);
    await openConversation(h);
    const clientId = h.client.send('c1', 'Hello');
    const first = h.socket();
    // The server stored it, but the socket died before the ack reached us.
    store(h, message(1, { sender_id: 'me', client_id: clientId, id: 'm1', body: 'Hello' }));
    first.drop(1006);
    await tick(500);
    h.socket().accept();
    await tick();
    // Catch-up (after_seq=0) brought it back, so the outbox has nothing left to resend.
    expect(h.api.messages).toHaveBeenLastCalledWith('c1', { after_seq: 0, limit: 100 });
    expect(bubbles(h)).toEqual([expect.objectContaining({ status: 'stored', seq: 1, key: clientId })]);
    expect(h.socket().ofType('message.send')).toEqual([]);
    // Late duplicates change nothing.
    h.socket().push({ type: 'message.ack', client_id: clientId, id: 'm1', conversation_id: 'c1', created_at: 'x' });
    h.socket().push({ type: 'message.new', message: message(1, { sender_id: 'me', client_id: clientId, id: 'm1', body: 'Hello' }) });
    await tick();
    expect(bubbles(h)).toHaveLength(1);
  });

  it('a message the server never got is resent with the same client_id after reconnecting', async () => {
    const h = setup();
    await connected(h);
    await openConversation(h);
    const clientId = h.client.send('c1', 'Hello');
    h.socket().drop(1006);
    await tick(500);
    h.socket().accept();
    await tick();
    await tick();
    expect(h.socket().ofType('message.send')).toEqual([
      { type: 'message.send', client_id: clientId, conversation_id: 'c1', body: 'Hello' },
    ]);
  });

  it('fails after 10 s without an ack; Retry resends with the same client_id', async () => {
    const h = setup();
    await connected(h);
    await openConversation(h);
    const clientId = h.client.send('c1', 'Hello');
    await tick(SEND_TIMEOUT_MS - 1);
    expect(bubbles(h)[0]?.status).toBe('pending');
    await tick(1);
    expect(bubbles(h)[0]).toMatchObject({ status: 'failed', error: 'timeout' });
    h.client.retry('c1', clientId);
    expect(bubbles(h)[0]?.status).toBe('pending');
    expect(h.socket().ofType('message.send').map((e) => e.client_id)).toEqual([clientId, clientId]);
    h.socket().push({ type: 'message.ack', client_id: clientId, id: 'm1', conversation_id: 'c1', created_at: 'x' });
    await tick(SEND_TIMEOUT_MS);
    expect(bubbles(h)[0]?.status).toBe('sent');
  });

  it('an error event with the client_id fails the message', async () => {
    const h = setup();
    await connected(h);
    await openConversation(h);
    const clientId = h.client.send('c1', 'Hello');
    h.socket().push({ type: 'error', code: 'rate_limited', message: 'slow down', client_id: clientId, retry_after_ms: 300 });
    expect(bubbles(h)[0]).toMatchObject({ status: 'failed', error: 'rate_limited' });
    await tick(SEND_TIMEOUT_MS); // the timeout was cancelled: still the same error
    expect(bubbles(h)[0]?.error).toBe('rate_limited');
  });
});

describe('gateway message listeners', () => {
  it('a live message.new reaches onMessage listeners once the store has it; unsubscribed, no more', async () => {
    const h = setup();
    await connected(h);
    const seen: Array<[string, boolean]> = [];
    const stop = h.client.onMessage((m) => {
      seen.push([m.id, !!h.store.getState().conversations.byId[m.conversation_id]?.last_message]);
    });
    store(h, message(1, { id: 'm1' }));
    h.socket().push({ type: 'message.new', message: message(1, { id: 'm1' }) });
    await tick();
    expect(seen).toEqual([['m1', true]]);
    stop();
    h.socket().push({ type: 'message.new', message: message(2, { id: 'm2' }) });
    await tick();
    expect(seen).toHaveLength(1);
  });
});

// ---- catch-up -----------------------------------------------------------------------------

describe('gateway catch-up', () => {
  it('a seq gap triggers GET …?after_seq=<last> and fills it', async () => {
    const h = setup();
    for (let i = 1; i <= 40; i++) store(h, message(i));
    await connected(h);
    await openConversation(h);
    store(h, message(41));
    store(h, message(42));
    h.socket().push({ type: 'message.new', message: message(42) });
    await tick();
    expect(h.api.messages).toHaveBeenCalledWith('c1', { after_seq: 40, limit: 100 });
    const t = messagesSelectors.thread(h.store.getState(), 'c1');
    expect(t.items.slice(-3).map((m) => m.seq)).toEqual([40, 41, 42]);
    expect(t.gap).toBe(false);
  });

  it('on reconnect every loaded conversation catches up from its last seq, each message once', async () => {
    const h = setup();
    h.server.conversations = [conversation(), conversation({ id: 'c2' }), conversation({ id: 'c3' })];
    for (let i = 1; i <= 3; i++) store(h, message(i));
    for (let i = 1; i <= 2; i++) store(h, message(i, { conversation_id: 'c2', id: `c2-${i}` }));
    await connected(h);
    await openConversation(h, 'c1');
    await openConversation(h, 'c2');
    h.socket().drop(1006);
    // While away: three more in c1, one in c2.
    for (let i = 4; i <= 6; i++) store(h, message(i));
    store(h, message(3, { conversation_id: 'c2', id: 'c2-3' }));
    await tick(500);
    h.api.messages.mockClear();
    h.socket().accept();
    await tick();
    expect(h.api.messages).toHaveBeenCalledWith('c1', { after_seq: 3, limit: 100 });
    expect(h.api.messages).toHaveBeenCalledWith('c2', { after_seq: 2, limit: 100 });
    expect(h.api.messages).not.toHaveBeenCalledWith('c3', expect.anything());
    // The live copies arriving late are ignored.
    h.socket().push({ type: 'message.new', message: message(5) });
    await tick();
    expect(bubbles(h, 'c1').map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(bubbles(h, 'c2').map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('catch-up pages through more than one page', async () => {
    const h = setup();
    store(h, message(1));
    await connected(h);
    await openConversation(h);
    h.socket().drop(1006);
    for (let i = 2; i <= 250; i++) store(h, message(i));
    await tick(500);
    h.socket().accept();
    await tick();
    const t = messagesSelectors.thread(h.store.getState(), 'c1');
    expect(t.items).toHaveLength(250);
    expect(t.syncedSeq).toBe(250);
  });

  it('loads older pages with before_seq', async () => {
    const h = setup();
    for (let i = 1; i <= 120; i++) store(h, message(i));
    await connected(h);
    await openConversation(h);
    expect(messagesSelectors.thread(h.store.getState(), 'c1').items[0]?.seq).toBe(71);
    await h.client.loadOlder('c1');
    expect(h.api.messages).toHaveBeenLastCalledWith('c1', { before_seq: 71, limit: 100 });
    const t = messagesSelectors.thread(h.store.getState(), 'c1');
    expect(t.items[0]?.seq).toBe(1);
    expect(t.hasOlder).toBe(false);
  });

  it('a message for an unknown conversation fetches that conversation', async () => {
    const h = setup();
    await connected(h);
    h.server.conversations.push(conversation({ id: 'new' }));
    h.socket().push({ type: 'message.new', message: message(1, { conversation_id: 'new' }) });
    await tick();
    expect(h.api.get).toHaveBeenCalledWith('new');
    expect(h.store.getState().conversations.byId.new).toBeDefined();
  });

  it('conversation.removed forgets it everywhere', async () => {
    const h = setup();
    store(h, message(1));
    await connected(h);
    await openConversation(h);
    h.socket().push({ type: 'conversation.removed', conversation_id: 'c1' });
    const s = h.store.getState();
    expect(s.conversations.byId.c1).toBeUndefined();
    expect(s.conversations.activeId).toBeNull();
    expect(s.messages.threads.c1).toBeUndefined();
  });
});

// ---- receipts and typing ------------------------------------------------------------------

describe('gateway receipts', () => {
  it('acknowledges delivery of received messages, coalesced', async () => {
    const h = setup();
    await connected(h);
    h.socket().push({ type: 'message.new', message: message(1) });
    h.socket().push({ type: 'message.new', message: message(2) });
    await tick(300);
    expect(h.socket().ofType('receipt.delivered')).toEqual([{ type: 'receipt.delivered', conversation_id: 'c1', seq: 2 }]);
  });

  it('does not acknowledge delivery of my own messages', async () => {
    const h = setup();
    await connected(h);
    h.socket().push({ type: 'message.new', message: message(1, { sender_id: 'me' }) });
    await tick(300);
    expect(h.socket().ofType('receipt.delivered')).toEqual([]);
  });

  it('read receipts move only forward, are throttled, and clear the unread badge at once', async () => {
    const h = setup();
    h.server.conversations = [conversation({ last_seq: 3, unread_count: 3, delivered_seq: 3 })];
    await connected(h);
    h.client.markRead('c1', 2);
    expect(h.store.getState().conversations.byId.c1?.unread_count).toBe(1);
    h.client.markRead('c1', 3);
    h.client.markRead('c1', 1);
    expect(h.socket().ofType('receipt.read')).toEqual([{ type: 'receipt.read', conversation_id: 'c1', seq: 2 }]);
    await tick(1_000);
    expect(h.socket().ofType('receipt.read').map((e) => e.seq)).toEqual([2, 3]);
    expect(h.store.getState().conversations.byId.c1?.unread_count).toBe(0);
    expect(h.store.getState().receipts.byConversation.c1?.me).toEqual({ delivered_seq: 3, read_seq: 3 });
    h.client.markRead('c1', 3);
    await tick(1_000);
    expect(h.socket().ofType('receipt.read')).toHaveLength(2);
  });

  it('resends the wanted read pointer after a reconnect', async () => {
    const h = setup();
    h.server.conversations = [conversation({ last_seq: 3, unread_count: 3, delivered_seq: 3 })];
    await connected(h);
    h.socket().drop(1006);
    h.client.markRead('c1', 3);
    await tick(500);
    h.socket().accept();
    await tick();
    expect(h.socket().ofType('receipt.read')).toEqual([{ type: 'receipt.read', conversation_id: 'c1', seq: 3 }]);
  });

  it('receipt events update the members’ pointers', async () => {
    const h = setup();
    await connected(h);
    h.socket().push({ type: 'receipt', conversation_id: 'c1', user_id: 'bob', delivered_seq: 4, read_seq: 2 });
    expect(h.store.getState().receipts.byConversation.c1?.bob).toEqual({ delivered_seq: 4, read_seq: 2 });
  });
});

describe('gateway typing', () => {
  it('typing.start at most every 3 s, typing.stop only after a start', async () => {
    const h = setup();
    await connected(h);
    h.client.typingStop('c1');
    expect(h.socket().ofType('typing.stop')).toEqual([]);
    h.client.typingActivity('c1');
    h.client.typingActivity('c1');
    await tick(2_999);
    h.client.typingActivity('c1');
    expect(h.socket().ofType('typing.start')).toHaveLength(1);
    await tick(1);
    h.client.typingActivity('c1');
    expect(h.socket().ofType('typing.start')).toHaveLength(2);
    h.client.send('c1', 'done');
    expect(h.socket().ofType('typing.stop')).toEqual([{ type: 'typing.stop', conversation_id: 'c1' }]);
  });

  it('a typing hint disappears 5 s after the last event', async () => {
    const h = setup();
    await connected(h);
    h.socket().push({ type: 'typing', conversation_id: 'c1', user_id: 'bob', active: true });
    expect(h.store.getState().conversations.typing.c1?.bob).toBeDefined();
    await tick(3_000);
    h.socket().push({ type: 'typing', conversation_id: 'c1', user_id: 'bob', active: true });
    await tick(4_999);
    expect(h.store.getState().conversations.typing.c1?.bob).toBeDefined();
    await tick(1);
    expect(h.store.getState().conversations.typing).toEqual({});
  });
});

describe('gateway calls', () => {
  const call = {
    call_id: 'k1',
    conversation_id: 'c1',
    media: 'video' as const,
    caller_id: ME.id,
    callee_id: 'bob',
    state: 'ringing' as const,
    reason: null,
    caller_session: 's',
    callee_session: null,
    created_at: 't',
    answered_at: null,
    ended_at: null,
  };

  it('call.ringing and call.state go to the calls slice; signaling and call errors to the listener', async () => {
    const h = setup();
    await connected(h);
    const heard: unknown[] = [];
    const off = h.client.onCallEvent((e) => heard.push(e));
    h.socket().push({ type: 'call.ringing', ...call, caller_id: 'bob', callee_id: ME.id, caller_session: 's-bob' });
    expect(h.store.getState().calls).toMatchObject({ phase: 'receiving', call: { id: 'k1', role: 'callee' } });
    h.socket().push({ type: 'call.offer', call_id: 'k1', from: 'bob', sdp: 'v=0' });
    h.socket().push({ type: 'error', code: 'call_not_found', message: 'gone', call_id: 'k1' });
    expect(heard).toEqual([
      { type: 'call.offer', call_id: 'k1', from: 'bob', sdp: 'v=0' },
      { type: 'error', code: 'call_not_found', message: 'gone', call_id: 'k1' },
    ]);
    // call_not_found for a call only ringing here: it is gone.
    expect(h.store.getState().calls.phase).toBe('idle');
    off();
    h.socket().push({ type: 'call.ice', call_id: 'k1', from: 'bob', candidate: null });
    expect(heard).toHaveLength(2);
  });

  it('after a reconnect, the call this device holds is rejoined on the new socket', async () => {
    const h = setup();
    await connected(h);
    const s = h.store.getState();
    s.callsInvited('k1', 'c1', 'video', 'bob');
    h.socket().push({ type: 'call.state', ...call, state: 'connecting', callee_session: 's-bob' });
    s.callsMediaConnected('k1');
    expect(h.store.getState().calls.phase).toBe('connected');

    h.socket().drop();
    await tick(60_000);
    h.socket().accept({ session_id: 's2', calls: [{ ...call, state: 'active', callee_session: 's-bob' }] } as Partial<ServerEvent>);
    await tick();
    expect(h.socket().ofType('call.rejoin')).toEqual([{ type: 'call.rejoin', call_id: 'k1' }]);
    expect(h.store.getState().calls).toMatchObject({ sessionId: 's2', rejoining: true, phase: 'connected' });
  });

  it('a reconnect does not rejoin a call held by another device', async () => {
    const h = setup();
    await connected(h);
    h.socket().drop();
    await tick(60_000);
    h.socket().accept({
      session_id: 's2',
      calls: [{ ...call, state: 'active', caller_session: 's-phone', callee_session: 's-bob' }],
    } as Partial<ServerEvent>);
    await tick();
    expect(h.socket().ofType('call.rejoin')).toEqual([]);
    expect(h.store.getState().calls.elsewhere).toMatchObject({ id: 'k1' });
  });

  it('group calls: ready.rooms and room.state go to the rooms slice; the other room events and room errors to the room controller', async () => {
    const h = setup();
    const heard: unknown[] = [];
    const off = h.client.onRoomEvent((e) => heard.push(e));
    const room = { conversation_id: 'g1', room_id: 'r1', started_at: 't', participants: [{ user_id: 'bob', joined_at: 't', audio_muted: false, video_muted: false, screen_sharing: false }] };
    h.client.start();
    await tick();
    h.socket().accept({ rooms: [room] } as Partial<ServerEvent>);
    await tick();
    expect(Object.keys(h.store.getState().rooms.live)).toEqual(['g1']);
    h.socket().push({ type: 'room.state', room: { ...room, participants: [] } });
    expect(h.store.getState().rooms.live).toEqual({});
    h.socket().push({ type: 'room.renegotiate', conversation_id: 'g1', audio: 1, video: 1 });
    h.socket().push({ type: 'error', code: 'room_full', message: 'full', conversation_id: 'g1' });
    expect(heard).toEqual([
      { type: 'room.renegotiate', conversation_id: 'g1', audio: 1, video: 1 },
      { type: 'error', code: 'room_full', message: 'full', conversation_id: 'g1' },
    ]);
    off();
  });
});
