import { describe, expect, it } from 'vitest';
import type { Message } from '../../api/types';
import { message, messages } from '../../test/fixtures';
import type { ChangeOp } from './changes';
import { initialMessagesState, messagesReducer, type MessagesAction, type MessagesState } from './reducer';
import { messagesSelectors } from './selectors';

const run = (...actions: MessagesAction[]) => actions.reduce(messagesReducer, initialMessagesState);
const thread = (s: MessagesState) => messagesSelectors.thread({ messages: s }, 'c1');
const item = (s: MessagesState, seq: number) => thread(s).items.find((m) => m.seq === seq)!;
const shown = (s: MessagesState, seq: number) => messagesSelectors.shown(thread(s)).find((m) => m.seq === seq)!;

const latest = (from: number, to: number, extra: Partial<Message> = {}): MessagesAction => ({
  type: 'pageLoaded',
  conversationId: 'c1',
  kind: 'latest',
  messages: messages(from, to, extra),
});
/** The state of message `seq` after the conversation's change number `change`. */
const state = (seq: number, change: number, extra: Partial<Message> = {}) =>
  message(seq, { change_seq: change, edited_at: '2026-11-28T06:00:00Z', body: `edit ${change}`, ...extra });
const changed = (m: Message): MessagesAction => ({ type: 'changed', conversationId: 'c1', message: m });
const op = (o: Partial<ChangeOp> & Pick<ChangeOp, 'kind'>): MessagesAction => ({
  type: 'opStarted',
  conversationId: 'c1',
  op: { clientId: 'k1', messageId: 'm2', userId: 'me', ...o } as ChangeOp,
});

describe('message changes: applying by change_seq', () => {
  it('a change event replaces the loaded message by id, keeping its key; changeSeq moves on', () => {
    const s = run(latest(1, 3), changed(state(2, 1)));
    expect(item(s, 2)).toMatchObject({ key: 'm2', body: 'edit 1', edited_at: '2026-11-28T06:00:00Z', change_seq: 1 });
    expect(thread(s)).toMatchObject({ changeSeq: 1, changeGap: false });
  });

  it('a duplicate or an older state changes nothing (same state object)', () => {
    const s = run(latest(1, 3), changed(state(2, 1)), changed(state(2, 2)));
    expect(messagesReducer(s, changed(state(2, 2)))).toBe(s);
    const late = messagesReducer(s, changed(state(2, 1)));
    expect(item(late, 2).body).toBe('edit 2');
  });

  it('out of order: the newest state wins whatever the order of arrival', () => {
    const s = run(latest(1, 3), changed(state(2, 2)), changed(state(2, 1)));
    expect(item(s, 2).body).toBe('edit 2');
  });

  it('a skipped change number is a gap; the changes page fills it and clears the gap', () => {
    let s = run(latest(1, 3), changed(state(1, 1)), changed(state(3, 4)));
    expect(thread(s)).toMatchObject({ changeSeq: 1, changeGap: true });
    expect(item(s, 3).body).toBe('edit 4');
    s = messagesReducer(s, {
      type: 'changesLoaded',
      conversationId: 'c1',
      messages: [state(2, 2), state(2, 3), state(3, 4)],
      lastChangeSeq: 4,
      done: true,
    });
    expect(thread(s)).toMatchObject({ changeSeq: 4, changeGap: false });
    expect(item(s, 2).body).toBe('edit 3');
  });

  it('a changes page that is not the last keeps the gap until the last one', () => {
    let s = run(latest(1, 3), changed(state(3, 5)));
    s = messagesReducer(s, { type: 'changesLoaded', conversationId: 'c1', messages: [state(1, 1)], lastChangeSeq: 5, done: false });
    expect(thread(s)).toMatchObject({ changeGap: true, changeSeq: 1 });
    s = messagesReducer(s, { type: 'changesLoaded', conversationId: 'c1', messages: [], lastChangeSeq: 5, done: true });
    expect(thread(s)).toMatchObject({ changeSeq: 5, changeGap: false });
  });

  it('changes of messages that are not loaded are dropped, but still count for changeSeq', () => {
    const s = run(latest(5, 6), changed(state(1, 1)));
    expect(thread(s).items.map((m) => m.seq)).toEqual([5, 6]);
    expect(thread(s).changeSeq).toBe(1);
  });

  it('a fresh latest page is current up to its highest change; changeSynced only raises', () => {
    let s = run(latest(1, 2), { type: 'pageLoaded', conversationId: 'c1', kind: 'newer', messages: [message(3, { change_seq: 9 })] });
    expect(thread(s).changeSeq).toBe(0);
    s = run({ type: 'pageLoaded', conversationId: 'c1', kind: 'latest', messages: [message(1, { change_seq: 7 }), message(2)] });
    expect(thread(s).changeSeq).toBe(7);
    s = messagesReducer(s, { type: 'changeSynced', conversationId: 'c1', changeSeq: 12 });
    expect(thread(s).changeSeq).toBe(12);
    expect(messagesReducer(s, { type: 'changeSynced', conversationId: 'c1', changeSeq: 3 })).toBe(s);
  });

  it('a page that carries a loaded message in a newer state updates it (catch-up merge)', () => {
    const s = run(latest(1, 3), { type: 'pageLoaded', conversationId: 'c1', kind: 'newer', messages: [state(3, 2), message(4)] });
    expect(item(s, 3).body).toBe('edit 2');
    expect(thread(s).items.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });

  it('a tombstone: no body, images or reactions; the reply it quotes and its place stay', () => {
    const reply_to = { id: 'm1', seq: 1, sender_id: 'me', snippet: 'hello', deleted: false, attachments: 0 };
    const img = { id: 'a1', mime: 'image/png', bytes: 1, width: 1, height: 1, blurhash: null, url: '/a', preview: { url: '/p', width: 1, height: 1 }, thumbnail: { url: '/t', width: 1, height: 1 } };
    const s = run(
      { type: 'pageLoaded', conversationId: 'c1', kind: 'latest', messages: [message(1), message(2, { reply_to, attachments: [img], reactions: [{ emoji: '👍', count: 1, user_ids: ['me'] }] })] },
      changed(message(2, { body: '', attachments: [], reactions: [], reply_to, change_seq: 1, deleted_at: '2026-11-28T07:00:00Z', deleted_by: 'bob' })),
    );
    expect(item(s, 2)).toMatchObject({ body: '', attachments: [], reactions: [], reply_to, deleted_by: 'bob', seq: 2, key: 'm2' });
  });

  it('the quote of every loaded reply follows an edit or a deletion of its original', () => {
    const reply_to = { id: 'm1', seq: 1, sender_id: 'bob', snippet: 'message 1', deleted: false, attachments: 0 };
    let s = run({ type: 'pageLoaded', conversationId: 'c1', kind: 'latest', messages: [message(1), message(2, { reply_to }), message(3, { reply_to })] });
    s = messagesReducer(s, changed(state(1, 1, { body: 'first line\nsecond' })));
    expect([item(s, 2).reply_to, item(s, 3).reply_to]).toEqual([{ ...reply_to, snippet: 'first line' }, { ...reply_to, snippet: 'first line' }]);
    s = messagesReducer(s, changed(state(1, 2, { body: '', deleted_at: 't' })));
    expect(item(s, 2).reply_to).toMatchObject({ snippet: '', deleted: true });
  });

  it('reactions, pins and mentions come in with the message', () => {
    const s = run(latest(1, 2), changed(state(2, 1, { reactions: [{ emoji: '🎉', count: 2, user_ids: ['bob', 'me'] }], pinned_at: 't', pinned_by: 'bob', mentions: ['me'] })));
    expect(item(s, 2)).toMatchObject({ reactions: [{ emoji: '🎉', count: 2 }], pinned_by: 'bob', mentions: ['me'] });
  });
});

describe('message changes: the user’s own, in flight', () => {
  it('an edit shows at once and is marked in flight; the stored state is untouched', () => {
    const s = run(latest(1, 3), op({ kind: 'edit', body: 'fixed' }));
    expect(shown(s, 2)).toMatchObject({ body: 'fixed', changing: ['edit'] });
    expect(item(s, 2)).toMatchObject({ body: 'message 2', changing: [] });
    expect(messagesSelectors.shown(thread(s))).toBe(messagesSelectors.shown(thread(s)));
  });

  it('the ack ends it with the message’s new state', () => {
    const s = run(latest(1, 3), op({ kind: 'edit', body: 'fixed' }), {
      type: 'opEnded',
      conversationId: 'c1',
      clientId: 'k1',
      message: state(2, 1, { body: 'fixed' }),
    });
    expect(shown(s, 2)).toMatchObject({ body: 'fixed', changing: [], change_seq: 1 });
    expect(thread(s).ops).toEqual([]);
  });

  it('a failure rolls back', () => {
    const s = run(latest(1, 3), op({ kind: 'edit', body: 'fixed' }), { type: 'opEnded', conversationId: 'c1', clientId: 'k1' });
    expect(shown(s, 2)).toMatchObject({ body: 'message 2', changing: [] });
  });

  it('a reaction toggles at once: on adds me (a new chip or one more), off takes me away', () => {
    const reactions = [{ emoji: '👍', count: 1, user_ids: ['bob'] }];
    let s = run(latest(1, 3, { reactions }), op({ kind: 'reaction', emoji: '👍', on: true }));
    expect(shown(s, 2).reactions).toEqual([{ emoji: '👍', count: 2, user_ids: ['bob', 'me'] }]);
    s = run(latest(1, 3, { reactions }), op({ kind: 'reaction', emoji: '🎉', on: true }));
    expect(shown(s, 2).reactions.map((r) => r.emoji)).toEqual(['👍', '🎉']);
    s = run(latest(1, 3, { reactions: [{ emoji: '👍', count: 1, user_ids: ['me'] }] }), op({ kind: 'reaction', emoji: '👍', on: false }));
    expect(shown(s, 2).reactions).toEqual([]);
  });

  it('the server’s event before the ack: the overlay does not count me twice', () => {
    const s = run(
      latest(1, 3),
      op({ kind: 'reaction', emoji: '👍', on: true }),
      changed(state(2, 1, { body: 'message 2', reactions: [{ emoji: '👍', count: 1, user_ids: ['me'] }] })),
    );
    expect(shown(s, 2).reactions).toEqual([{ emoji: '👍', count: 1, user_ids: ['me'] }]);
  });

  it('a deletion and a pin are not shown before the server says so, only as in progress', () => {
    const s = run(latest(1, 3), op({ kind: 'delete' }), op({ kind: 'pin', pinned: true, clientId: 'k2' }));
    expect(shown(s, 2)).toMatchObject({ body: 'message 2', deleted_at: null, pinned_at: null, changing: ['delete', 'pin'] });
  });

  it('the same client_id twice is one op; findOp and ops find it across conversations', () => {
    const s = run(latest(1, 3), op({ kind: 'delete' }), op({ kind: 'delete' }));
    expect(thread(s).ops).toHaveLength(1);
    expect(messagesSelectors.findOp({ messages: s }, 'k1')).toMatchObject({ conversationId: 'c1', op: { kind: 'delete' } });
    expect(messagesSelectors.ops({ messages: s })).toHaveLength(1);
  });
});

describe('jumping far back: a page around a seq, and the hole above it', () => {
  const around = (from: number, to: number): MessagesAction => ({ type: 'pageLoaded', conversationId: 'c1', kind: 'around', messages: messages(from, to) });
  const hole = (from: number, to: number): MessagesAction => ({ type: 'pageLoaded', conversationId: 'c1', kind: 'hole', messages: messages(from, to) });

  it('the page sits apart: a hole, but no gap (nothing missed live)', () => {
    const s = run(latest(951, 1000), around(100, 150));
    expect(thread(s)).toMatchObject({ base: 951, holeAfter: 150, syncedSeq: 1000, gap: false, hasOlder: true });
  });

  it('live messages still extend the latest run; a seq jump there is still a gap', () => {
    const s = run(latest(951, 1000), around(100, 150), { type: 'received', message: message(1002) });
    expect(thread(s)).toMatchObject({ syncedSeq: 1000, gap: true, holeAfter: 150 });
  });

  it('pages filling the hole join the run once it closes', () => {
    let s = run(latest(951, 1000), around(800, 850), { type: 'holeRequested', conversationId: 'c1' });
    expect(thread(s).loadingHole).toBe(true);
    s = messagesReducer(s, hole(851, 900));
    expect(thread(s)).toMatchObject({ holeAfter: 900, loadingHole: false, base: 951 });
    s = messagesReducer(s, hole(901, 950));
    expect(thread(s)).toMatchObject({ holeAfter: null, base: 800, syncedSeq: 1000 });
  });

  it('a hole request with no hole, or one already loading, changes nothing', () => {
    const s = run(latest(1, 10));
    expect(messagesReducer(s, { type: 'holeRequested', conversationId: 'c1' })).toBe(s);
  });

  it('live messages that arrive while the first page loads are not an island', () => {
    const s = run({ type: 'latestRequested', conversationId: 'c1' }, { type: 'received', message: message(42) }, latest(1, 40));
    expect(thread(s)).toMatchObject({ base: 1, holeAfter: null, syncedSeq: 40, gap: true });
  });

  it('a jump request is numbered; handling an older one keeps the newer', () => {
    let s = run({ type: 'jumpRequested', conversationId: 'c1', seq: 5 }, { type: 'jumpRequested', conversationId: 'c1', seq: 9 });
    expect(messagesSelectors.jump({ messages: s })).toEqual({ conversationId: 'c1', seq: 9, nonce: 2 });
    s = messagesReducer(s, { type: 'jumpHandled', nonce: 1 });
    expect(s.jump?.seq).toBe(9);
    expect(messagesReducer(s, { type: 'jumpHandled', nonce: 2 }).jump).toBeNull();
  });
});
