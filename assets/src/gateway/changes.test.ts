import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import type { ChangesPage, Conversation, Message, MessagePageQuery } from '../api/types';
import { createAppStore, type AppStore } from '../stores';
import { messagesSelectors } from '../stores/messages/selectors';
import { conversation, ME, message, messages } from '../test/fixtures';
import { CHANGE_TIMEOUT_MS, CHANGES_PAGE, ChangeError, type ChangesRestApi } from './changes';
import { GatewayClient, type ConversationApi } from './client';
import type { SocketLike } from './connection';
import type { ClientEvent, ServerEvent } from './protocol';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: ClientEvent[] = [];
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data) as ClientEvent);
  }
  close() {
    this.readyState = 3;
  }
  accept() {
    this.readyState = 1;
    this.onopen?.({});
    this.push({ type: 'ready', session_id: 's', server_time: 'now', user: ME, presence: [] } as unknown as ServerEvent);
  }
  push(event: unknown) {
    this.onmessage?.({ data: JSON.stringify(event) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({ code: 1006 });
  }
  ofType<T extends ClientEvent['type']>(type: T) {
    return this.sent.filter((e): e is Extract<ClientEvent, { type: T }> => e.type === type);
  }
}

interface Server {
  messages: Message[];
  conversations: Conversation[];
  /** Every change, in order: the state of a message after change n is changes[n - 1]. */
  changes: Message[];
}

let ids = 0;

function setup() {
  const store: AppStore = createAppStore({ draftStorage: () => null });
  store.getState().sessionAuthenticated({ user: ME, access_token: 't', token_type: 'Bearer', expires_in: 900 });
  const server: Server = { messages: messages(1, 5), conversations: [conversation({ last_seq: 5 })], changes: [] };
  const page = (cid: string, q: MessagePageQuery = {}) => {
    const all = server.messages.filter((m) => m.conversation_id === cid);
    const limit = q.limit ?? 50;
    if (q.after_seq !== undefined) return all.filter((m) => m.seq > q.after_seq!).slice(0, limit);
    if (q.around_seq !== undefined) return all.filter((m) => Math.abs(m.seq - q.around_seq!) <= limit / 2);
    return all.slice(-limit);
  };
  const api = {
    list: vi.fn(async () => structuredClone(server.conversations)),
    get: vi.fn(async (id: string) => structuredClone(server.conversations.find((c) => c.id === id)!)),
    messages: vi.fn(async (cid: string, q?: MessagePageQuery) => structuredClone(page(cid, q))),
    receipts: vi.fn(async () => []),
  };
  const changesApi = {
    edit: vi.fn(async (_c: string, mid: string, _k: string, body: string) => ({ ...server.messages.find((m) => m.id === mid)!, body, change_seq: 1 })),
    remove: vi.fn(),
    react: vi.fn(),
    pin: vi.fn(),
    changes: vi.fn(async (_cid: string, after: number, limit: number): Promise<ChangesPage> => {
      const last = server.changes.length;
      return structuredClone({ messages: server.changes.slice(after, after + limit), last_change_seq: last });
    }),
  };
  const sockets: FakeSocket[] = [];
  const client = new GatewayClient({
    store,
    api: api as unknown as ConversationApi,
    changesApi: changesApi as unknown as ChangesRestApi,
    newClientId: () => `k${++ids}`,
    socket: {
      url: (token) => `ws://test/?token=${token}`,
      createSocket: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
      refreshToken: vi.fn(async () => undefined),
      checkSession: vi.fn(async () => undefined),
      isOnline: () => true,
      random: () => 0,
    },
  });
  const socket = () => sockets[sockets.length - 1]!;
  /** The server changes message `seq`: the next change number, and (optionally) the event. */
  const change = (seq: number, extra: Partial<Message> = {}) => {
    const n = server.changes.length + 1;
    const m = { ...server.messages.find((x) => x.seq === seq)!, body: `edit ${n}`, edited_at: 't', change_seq: n, ...extra };
    server.messages = server.messages.map((x) => (x.seq === seq ? m : x));
    server.changes.push(m);
    server.conversations = server.conversations.map((c) => ({ ...c, last_change_seq: n }));
    return m;
  };
  return { store, client, api, changesApi, server, socket, change };
}

type H = ReturnType<typeof setup>;
const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);
const body = (h: H, seq: number) => messagesSelectors.shown(messagesSelectors.thread(h.store.getState(), 'c1')).find((m) => m.seq === seq)?.body;
const thread = (h: H) => messagesSelectors.thread(h.store.getState(), 'c1');

async function opened(h: H) {
  h.client.start();
  await tick();
  h.socket().accept();
  await tick();
  h.store.getState().conversationsActivated('c1');
  h.client.open('c1');
  await tick();
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  ids = 0;
});
afterEach(() => vi.useRealTimers());

describe('ChangeSync: the user’s changes', () => {
  it('an edit goes out as message.edit, shows at once, and the ack settles it', async () => {
    const h = setup();
    await opened(h);
    const done = h.client.changes.edit('c1', 'm2', 'fixed');
    expect(h.socket().ofType('message.edit')).toEqual([{ type: 'message.edit', client_id: 'k1', conversation_id: 'c1', message_id: 'm2', body: 'fixed' }]);
    expect(body(h, 2)).toBe('fixed');
    h.socket().push({ type: 'change.ack', client_id: 'k1', message: h.change(2, { body: 'fixed' }) });
    await expect(done).resolves.toBeUndefined();
    expect(thread(h).ops).toEqual([]);
    expect(thread(h).changeSeq).toBe(1);
    h.client.stop();
  });

  it('an error with its client_id rolls it back and rejects with the code', async () => {
    const h = setup();
    await opened(h);
    const done = h.client.changes.edit('c1', 'm2', 'fixed');
    h.socket().push({ type: 'error', code: 'edit_window_passed', message: 'too late', client_id: 'k1' });
    await expect(done).rejects.toMatchObject({ code: 'edit_window_passed' });
    expect(body(h, 2)).toBe('message 2');
    h.client.stop();
  });

  it('no answer within 10 s: rolled back with "timeout"', async () => {
    const h = setup();
    await opened(h);
    const done = h.client.changes.remove('c1', 'm2').catch((e: ChangeError) => e.code);
    await tick(CHANGE_TIMEOUT_MS);
    expect(await done).toBe('timeout');
    expect(thread(h).ops).toEqual([]);
    h.client.stop();
  });

  it('a reaction toggles: on when not mine, off when mine', async () => {
    const h = setup();
    h.server.messages = messages(1, 5).map((m) => (m.seq === 3 ? { ...m, reactions: [{ emoji: '👍', count: 1, user_ids: ['me'] }] } : m));
    await opened(h);
    void h.client.changes.react('c1', 'm3', '👍');
    void h.client.changes.react('c1', 'm2', '👍');
    expect(h.socket().ofType('reaction.set').map((e) => [e.message_id, e.on])).toEqual([
      ['m3', false],
      ['m2', true],
    ]);
    h.client.stop();
  });

  it('unanswered when the socket drops: sent again on the next one with the same client_id', async () => {
    const h = setup();
    await opened(h);
    void h.client.changes.pin('c1', 'm2', true);
    h.socket().drop();
    await tick(60_000);
    h.socket().accept();
    await tick();
    expect(h.socket().ofType('message.pin')).toEqual([{ type: 'message.pin', client_id: 'k1', conversation_id: 'c1', message_id: 'm2', pinned: true }]);
    h.client.stop();
  });

  it('without a ready socket it goes over REST; a refusal rolls back', async () => {
    const h = setup();
    h.client.start();
    await tick();
    h.store.getState().conversationsActivated('c1');
    h.client.open('c1');
    await tick();
    await h.client.changes.edit('c1', 'm2', 'fixed');
    expect(h.changesApi.edit).toHaveBeenCalledWith('c1', 'm2', 'k1', 'fixed');
    expect(body(h, 2)).toBe('fixed');
    h.changesApi.remove.mockRejectedValueOnce(new ApiError(403, 'forbidden'));
    await expect(h.client.changes.remove('c1', 'm3')).rejects.toMatchObject({ code: 'forbidden' });
    expect(thread(h).ops).toEqual([]);
    h.client.stop();
  });
});

describe('ChangeSync: the server’s changes and catch-up', () => {
  it('live events apply in order; a duplicate changes nothing', async () => {
    const h = setup();
    await opened(h);
    const first = h.change(2);
    h.socket().push({ type: 'message.updated', message: first, change: 'edited', by: 'bob' });
    const before = h.store.getState().messages;
    h.socket().push({ type: 'message.updated', message: first, change: 'edited', by: 'bob' });
    expect(h.store.getState().messages).toBe(before);
    expect(body(h, 2)).toBe('edit 1');
    expect(h.changesApi.changes).not.toHaveBeenCalled();
    h.client.stop();
  });

  it('a skipped change number fetches the changes after the held one', async () => {
    const h = setup();
    await opened(h);
    h.change(1);
    h.change(2);
    const third = h.change(3, { body: '', deleted_at: 't', deleted_by: 'bob' });
    h.socket().push({ type: 'message.deleted', message: third, by: 'bob' });
    await tick();
    expect(h.changesApi.changes).toHaveBeenCalledWith('c1', 0, CHANGES_PAGE);
    expect([body(h, 1), body(h, 2), body(h, 3)]).toEqual(['edit 1', 'edit 2', '']);
    expect(thread(h)).toMatchObject({ changeSeq: 3, changeGap: false });
    h.client.stop();
  });

  it('catch-up pages while a page is full', async () => {
    const h = setup();
    await opened(h);
    for (let i = 0; i < CHANGES_PAGE + 5; i++) h.change((i % 5) + 1);
    h.socket().push({ type: 'message.reaction', message: h.change(1), by: 'bob', emoji: '👍', on: true });
    await tick();
    expect(h.changesApi.changes.mock.calls.map((c) => c[1])).toEqual([0, CHANGES_PAGE]);
    expect(thread(h)).toMatchObject({ changeSeq: CHANGES_PAGE + 6, changeGap: false });
    h.client.stop();
  });

  it('after a reconnect, a list whose last_change_seq is ahead catches up what was missed', async () => {
    const h = setup();
    await opened(h);
    h.socket().drop();
    h.change(4);
    h.change(4);
    await tick(60_000);
    h.socket().accept();
    await tick();
    expect(h.changesApi.changes).toHaveBeenCalledWith('c1', 0, CHANGES_PAGE);
    expect(body(h, 4)).toBe('edit 2');
    expect(thread(h).changeSeq).toBe(2);
    h.client.stop();
  });

  it('the latest page starts from the list’s change number: nothing to catch up after a quiet reconnect', async () => {
    const h = setup();
    h.change(1);
    await opened(h);
    expect(thread(h).changeSeq).toBe(1);
    h.socket().drop();
    await tick(60_000);
    h.socket().accept();
    await tick();
    expect(h.changesApi.changes).not.toHaveBeenCalled();
    h.client.stop();
  });

  it('the last message’s change reaches the conversation list’s preview', async () => {
    const h = setup();
    await opened(h);
    h.store.getState().conversationsUpserted(conversation({ last_seq: 5, last_message: message(5) }));
    h.socket().push({ type: 'message.deleted', message: h.change(5, { body: '', deleted_at: 't' }), by: 'bob' });
    expect(h.store.getState().conversations.byId.c1?.last_message).toMatchObject({ deleted_at: 't' });
    h.client.stop();
  });
});

describe('ChangeSync: replies and jumps', () => {
  it('a reply is sent with reply_to', async () => {
    const h = setup();
    await opened(h);
    h.client.send('c1', 'yes', [], { id: 'm2', seq: 2, sender_id: 'bob', snippet: 'message 2', deleted: false, attachments: 0 });
    expect(h.socket().ofType('message.send')[0]).toMatchObject({ body: 'yes', reply_to: 'm2' });
    expect(thread(h).pending[0]?.reply_to?.id).toBe('m2');
    h.client.stop();
  });

  it('a message not loaded is fetched ?around its seq, and the hole above is filled page by page', async () => {
    const h = setup();
    h.server.messages = messages(1, 400);
    await opened(h);
    expect(thread(h).items[0]?.seq).toBe(351);
    await h.client.changes.loadAround('c1', 10);
    expect(h.api.messages).toHaveBeenLastCalledWith('c1', { around_seq: 10, limit: 50 });
    expect(thread(h)).toMatchObject({ holeAfter: 35, base: 351, gap: false });
    await h.client.changes.loadHole('c1');
    expect(h.api.messages).toHaveBeenLastCalledWith('c1', { after_seq: 35, limit: 100 });
    expect(thread(h).holeAfter).toBe(135);
    await h.client.changes.loadAround('c1', 20);
    expect(h.api.messages).toHaveBeenCalledTimes(3);
    h.client.stop();
  });
});
