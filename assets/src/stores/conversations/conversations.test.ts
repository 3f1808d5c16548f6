import { describe, expect, it } from 'vitest';
import { at, BOB, CAROL, conversation, ME, message, user } from '../../test/fixtures';
import { createAppStore } from '../index';
import {
  conversationsReducer,
  initialConversationsState,
  mergeConversation,
  TYPING_TTL_MS,
  type ConversationsAction,
  type ConversationsState,
} from './reducer';
import { conversationsSelectors, conversationTitle, matchesFilter, otherMember, typingLabel } from './selectors';

const run = (...actions: ConversationsAction[]) => actions.reduce(conversationsReducer, initialConversationsState);
const wrap = (s: ConversationsState) => ({ conversations: s });
const c = (s: ConversationsState, id = 'c1') => s.byId[id]!;

const group = conversation({
  id: 'g1',
  kind: 'group',
  name: 'Trio',
  members: [
    { user: ME, role: 'admin' },
    { user: BOB, role: 'member' },
    { user: CAROL, role: 'member' },
  ],
});

describe('conversationsReducer: list', () => {
  it('listLoaded stores the conversations and their members as known users', () => {
    const s = run({ type: 'listRequested' }, { type: 'listLoaded', conversations: [conversation(), group] });
    expect(s.status).toBe('ready');
    expect(Object.keys(s.byId).sort()).toEqual(['c1', 'g1']);
    expect(s.users.carol?.display_name).toBe('Carol');
  });

  it('orders by last activity, newest first', () => {
    const s = run({
      type: 'listLoaded',
      conversations: [
        conversation({ id: 'old', last_activity_at: at(1) }),
        conversation({ id: 'new', last_activity_at: at(30) }),
        conversation({ id: 'mid', last_activity_at: at(10) }),
      ],
    });
    expect(conversationsSelectors.ordered(wrap(s)).map((x) => x.id)).toEqual(['new', 'mid', 'old']);
    // Memoised: the same array until byId changes.
    expect(conversationsSelectors.ordered(wrap(s))).toBe(conversationsSelectors.ordered(wrap(s)));
  });

  it('a list fetched before a message.new arrived does not roll last_seq back', () => {
    const s = run(
      { type: 'listLoaded', conversations: [conversation({ last_seq: 4, read_seq: 4 })] },
      { type: 'messageReceived', message: message(5), myId: 'me' },
      { type: 'listLoaded', conversations: [conversation({ last_seq: 4, read_seq: 4 })] },
    );
    expect(c(s)).toMatchObject({ last_seq: 5, unread_count: 1 });
    expect(c(s).last_message?.seq).toBe(5);
  });

  it('mergeConversation keeps pointers moving forward only', () => {
    const merged = mergeConversation(
      conversation({ last_seq: 9, read_seq: 9, delivered_seq: 9 }),
      conversation({ last_seq: 9, read_seq: 3, delivered_seq: 5, unread_count: 6 }),
    );
    expect(merged).toMatchObject({ read_seq: 9, delivered_seq: 9, unread_count: 0 });
  });

  it('upserted adds or updates one; removed drops it and closes it if open', () => {
    let s = run({ type: 'upserted', conversation: conversation() }, { type: 'activated', conversationId: 'c1' });
    expect(s.activeId).toBe('c1');
    s = conversationsReducer(s, { type: 'upserted', conversation: { ...group, name: 'Renamed' } });
    expect(c(s, 'g1').name).toBe('Renamed');
    s = conversationsReducer(s, { type: 'removed', conversationId: 'c1' });
    expect(s.byId.c1).toBeUndefined();
    expect(s.activeId).toBeNull();
  });

  it('the open conversation survives a list that does not have it yet', () => {
    const s = run(
      { type: 'upserted', conversation: conversation({ id: 'fresh' }) },
      { type: 'activated', conversationId: 'fresh' },
      { type: 'listLoaded', conversations: [group] },
    );
    expect(s.byId.fresh).toBeDefined();
  });
});

describe('conversationsReducer: messages and unread counts', () => {
  const base = run({ type: 'listLoaded', conversations: [conversation({ last_seq: 2, read_seq: 2, delivered_seq: 2 })] });

  it('a message from someone else bumps unread, last message and activity', () => {
    const s = conversationsReducer(base, { type: 'messageReceived', message: message(3), myId: 'me' });
    expect(c(s)).toMatchObject({ last_seq: 3, unread_count: 1, last_activity_at: at(3) });
  });

  it('the same message twice counts once', () => {
    const once = conversationsReducer(base, { type: 'messageReceived', message: message(3), myId: 'me' });
    expect(conversationsReducer(once, { type: 'messageReceived', message: message(3), myId: 'me' })).toBe(once);
  });

  it('my own message does not count as unread and moves my pointers', () => {
    const s = conversationsReducer(base, { type: 'messageReceived', message: message(3, { sender_id: 'me' }), myId: 'me' });
    expect(c(s)).toMatchObject({ unread_count: 0, read_seq: 3, last_seq: 3 });
  });

  it('my read receipt (optimistic or echoed) lowers unread; reading everything clears it', () => {
    let s = run(
      { type: 'listLoaded', conversations: [conversation({ last_seq: 2, read_seq: 2 })] },
      { type: 'messageReceived', message: message(3), myId: 'me' },
      { type: 'messageReceived', message: message(4), myId: 'me' },
      { type: 'messageReceived', message: message(5), myId: 'me' },
    );
    expect(c(s).unread_count).toBe(3);
    s = conversationsReducer(s, { type: 'receipt', conversationId: 'c1', userId: 'me', deliveredSeq: 5, readSeq: 4, myId: 'me' });
    expect(c(s)).toMatchObject({ unread_count: 1, read_seq: 4, delivered_seq: 5 });
    s = conversationsReducer(s, { type: 'receipt', conversationId: 'c1', userId: 'me', deliveredSeq: 5, readSeq: 5, myId: 'me' });
    expect(c(s).unread_count).toBe(0);
    // Backwards or someone else's receipt: no change.
    expect(conversationsReducer(s, { type: 'receipt', conversationId: 'c1', userId: 'me', deliveredSeq: 1, readSeq: 1, myId: 'me' })).toBe(s);
    expect(conversationsReducer(s, { type: 'receipt', conversationId: 'c1', userId: 'bob', deliveredSeq: 9, readSeq: 9, myId: 'me' })).toBe(s);
  });

  it('messageQueued moves the conversation up at once', () => {
    const s = run(
      { type: 'listLoaded', conversations: [conversation({ id: 'a', last_activity_at: at(5) }), conversation({ id: 'b', last_activity_at: at(9) })] },
      { type: 'messageQueued', conversationId: 'a', at: at(20) },
    );
    expect(conversationsSelectors.ordered(wrap(s))[0]?.id).toBe('a');
  });

  it('a message from someone else that mentions me bumps mention_count beside unread', () => {
    let s = conversationsReducer(base, { type: 'messageReceived', message: message(3, { mentions: ['me'] }), myId: 'me' });
    s = conversationsReducer(s, { type: 'messageReceived', message: message(4, { mentions: ['carol'] }), myId: 'me' });
    s = conversationsReducer(s, { type: 'messageReceived', message: message(5, { sender_id: 'me', mentions: ['me'] }), myId: 'me' });
    expect(c(s)).toMatchObject({ unread_count: 2, mention_count: 1 });
    expect(conversationsSelectors.mentions(wrap(s), 'c1')).toBe(1);
  });

  it('mention_count never exceeds unread and clears when everything is read', () => {
    let s = run({ type: 'listLoaded', conversations: [conversation({ last_seq: 5, read_seq: 1, unread_count: 4, mention_count: 3 })] });
    s = conversationsReducer(s, { type: 'receipt', conversationId: 'c1', userId: 'me', deliveredSeq: 4, readSeq: 4, myId: 'me' });
    expect(c(s)).toMatchObject({ unread_count: 1, mention_count: 1 });
    s = conversationsReducer(s, { type: 'receipt', conversationId: 'c1', userId: 'me', deliveredSeq: 5, readSeq: 5, myId: 'me' });
    expect(c(s)).toMatchObject({ unread_count: 0, mention_count: 0 });
  });

  it('a conversation from a server without the counters reads as 0; last_change_seq never goes back', () => {
    let s = run({ type: 'listLoaded', conversations: [conversation()] });
    expect(c(s)).toMatchObject({ mention_count: 0, last_change_seq: 0 });
    s = conversationsReducer(s, { type: 'upserted', conversation: conversation({ last_change_seq: 9 }) });
    s = conversationsReducer(s, { type: 'upserted', conversation: conversation({ last_change_seq: 4 }) });
    expect(c(s).last_change_seq).toBe(9);
  });

  it('a change of the last message updates the preview; an older state or another message does not', () => {
    let s = conversationsReducer(base, { type: 'messageReceived', message: message(3), myId: 'me' });
    s = conversationsReducer(s, { type: 'messageChanged', message: message(3, { body: '', deleted_at: at(9), change_seq: 2 }) });
    expect(c(s).last_message).toMatchObject({ body: '', change_seq: 2 });
    expect(conversationsReducer(s, { type: 'messageChanged', message: message(3, { change_seq: 1 }) })).toBe(s);
    expect(conversationsReducer(s, { type: 'messageChanged', message: message(2, { change_seq: 5 }) })).toBe(s);
  });

  it('totalUnread sums the badges', () => {
    const s = run({ type: 'listLoaded', conversations: [conversation({ unread_count: 2, last_seq: 2 }), { ...group, unread_count: 3, last_seq: 3 }] });
    expect(conversationsSelectors.totalUnread(wrap(s))).toBe(5);
  });
});

describe('conversationsReducer: typing', () => {
  const loaded = run({ type: 'listLoaded', conversations: [conversation(), group] });

  it('typing shows for 5 s after the last event, then expires', () => {
    let s = conversationsReducer(loaded, { type: 'typing', conversationId: 'c1', userId: 'bob', active: true, now: 1_000, myId: 'me' });
    expect(conversationsSelectors.typingNames(wrap(s), 'c1')).toEqual(['Bob']);
    expect(conversationsSelectors.nextTypingExpiry(wrap(s))).toBe(1_000 + TYPING_TTL_MS);
    s = conversationsReducer(s, { type: 'typingExpired', now: 5_999 });
    expect(conversationsSelectors.typingNames(wrap(s), 'c1')).toEqual(['Bob']);
    s = conversationsReducer(s, { type: 'typingExpired', now: 6_000 });
    expect(conversationsSelectors.typingNames(wrap(s), 'c1')).toEqual([]);
    expect(conversationsSelectors.hasTyping(wrap(s))).toBe(false);
  });

  it('a repeated typing event extends the expiry', () => {
    const s = run(
      { type: 'listLoaded', conversations: [conversation()] },
      { type: 'typing', conversationId: 'c1', userId: 'bob', active: true, now: 1_000, myId: 'me' },
      { type: 'typing', conversationId: 'c1', userId: 'bob', active: true, now: 4_000, myId: 'me' },
      { type: 'typingExpired', now: 7_000 },
    );
    expect(conversationsSelectors.typingNames(wrap(s), 'c1')).toEqual(['Bob']);
  });

  it('typing stop, or a message from the typist, clears it; my own typing is ignored', () => {
    const typing = conversationsReducer(loaded, { type: 'typing', conversationId: 'c1', userId: 'bob', active: true, now: 0, myId: 'me' });
    const stopped = conversationsReducer(typing, { type: 'typing', conversationId: 'c1', userId: 'bob', active: false, now: 1, myId: 'me' });
    expect(stopped.typing).toEqual({});
    const spoke = conversationsReducer(typing, { type: 'messageReceived', message: message(1), myId: 'me' });
    expect(spoke.typing).toEqual({});
    // An old message of theirs (catch-up, history) does not end a fresh typing hint.
    const again = conversationsReducer(spoke, { type: 'typing', conversationId: 'c1', userId: 'bob', active: true, now: 2, myId: 'me' });
    expect(conversationsReducer(again, { type: 'messageReceived', message: message(1), myId: 'me' })).toBe(again);
    expect(conversationsReducer(loaded, { type: 'typing', conversationId: 'c1', userId: 'me', active: true, now: 0, myId: 'me' })).toBe(loaded);
  });

  it('typing labels', () => {
    expect(typingLabel([])).toBeNull();
    expect(typingLabel(['Bob'])).toBe('Bob is typing…');
    expect(typingLabel(['Bob', 'Carol'])).toBe('Bob and Carol are typing…');
    expect(typingLabel(['A', 'B', 'C'])).toBe('3 people are typing…');
  });
});

describe('conversationsReducer: presence', () => {
  it('a snapshot then updates', () => {
    let s = run({ type: 'presenceSnapshot', presence: [{ user_id: 'bob', online: true, last_seen: null }] });
    expect(conversationsSelectors.isOnline(wrap(s), 'bob')).toBe(true);
    s = conversationsReducer(s, { type: 'presence', presence: { user_id: 'bob', online: false, last_seen: at(9) } });
    expect(conversationsSelectors.isOnline(wrap(s), 'bob')).toBe(false);
    expect(conversationsSelectors.presence(wrap(s), 'bob')?.last_seen).toBe(at(9));
    expect(conversationsSelectors.isOnline(wrap(s), 'nobody')).toBe(false);
  });

  it('forgets people who share no conversation any more, and keeps the others', () => {
    const online = (user_id: string) => ({ type: 'presence', presence: { user_id, online: true, last_seen: null } }) as const;
    let s = run({ type: 'listLoaded', conversations: [conversation(), group] }, online('bob'), online('carol'));
    // Carol leaves the group: she shares nothing with me now; bob still shares the direct chat.
    s = conversationsReducer(s, {
      type: 'upserted',
      conversation: { ...group, members: group.members.filter((m) => m.user.id !== 'carol') },
    });
    expect(conversationsSelectors.presence(wrap(s), 'carol')).toBeUndefined();
    expect(conversationsSelectors.isOnline(wrap(s), 'bob')).toBe(true);
    s = conversationsReducer(s, { type: 'removed', conversationId: 'c1' });
    expect(conversationsSelectors.isOnline(wrap(s), 'bob'), 'still in the group with me').toBe(true);
    s = conversationsReducer(s, { type: 'removed', conversationId: 'g1' });
    expect(conversationsSelectors.presence(wrap(s), 'bob')).toBeUndefined();
  });

  it('keeps presence that arrives before the list is loaded', () => {
    let s = run({ type: 'presenceSnapshot', presence: [{ user_id: 'carol', online: true, last_seen: null }] });
    s = conversationsReducer(s, { type: 'upserted', conversation: conversation() });
    expect(conversationsSelectors.isOnline(wrap(s), 'carol')).toBe(true);
  });
});

describe('conversation helpers', () => {
  it('a direct conversation is named after the other member; a group by its name', () => {
    expect(conversationTitle(conversation(), 'me')).toBe('Bob');
    expect(otherMember(conversation(), 'me')?.id).toBe('bob');
    expect(conversationTitle(group, 'me')).toBe('Trio');
    expect(conversationTitle({ ...group, name: null }, 'me')).toBe('Bob, Carol');
    expect(conversationTitle(conversation({ members: [{ user: ME, role: 'member' }] }), 'me')).toBe('Me');
  });

  it('the filter matches titles, names and usernames, ignoring case', () => {
    expect(matchesFilter(group, 'me', 'tri')).toBe(true);
    expect(matchesFilter(group, 'me', 'CAR')).toBe(true);
    expect(matchesFilter(group, 'me', 'zed')).toBe(false);
    expect(matchesFilter(conversation({ members: [{ user: ME, role: 'member' }, { user: user('zed', 'Zed'), role: 'member' }] }), 'me', 'zed')).toBe(true);
    expect(matchesFilter(group, 'me', '  ')).toBe(true);
  });
});

describe('conversations slice in the store', () => {
  it('actions pass the signed-in user and the clock to the reducer', () => {
    let now = 10_000;
    const store = createAppStore({ now: () => now, draftStorage: () => null });
    store.getState().sessionAuthenticated({ user: ME, access_token: 't', token_type: 'Bearer', expires_in: 900 });
    store.getState().conversationsListLoaded([conversation({ last_seq: 1, read_seq: 1 })]);
    store.getState().conversationsMessageReceived(message(2));
    store.getState().conversationsTyping('c1', 'bob', true);
    expect(c(store.getState().conversations).unread_count).toBe(1);
    now += TYPING_TTL_MS;
    store.getState().conversationsTypingExpired();
    expect(store.getState().conversations.typing).toEqual({});
    store.getState().chatReset();
    expect(store.getState().conversations).toEqual(initialConversationsState);
  });
});
