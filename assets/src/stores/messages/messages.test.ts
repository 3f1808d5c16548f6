import { describe, expect, it } from 'vitest';
import { message, messages } from '../../test/fixtures';
import { initialMessagesState, messagesReducer, type MessagesAction, type MessagesState } from './reducer';
import { messagesSelectors } from './selectors';

const run = (...actions: MessagesAction[]) => actions.reduce(messagesReducer, initialMessagesState);
const thread = (s: MessagesState, id = 'c1') => messagesSelectors.thread({ messages: s }, id);
const seqs = (s: MessagesState) => thread(s).items.map((m) => m.seq);

type Of<T extends MessagesAction['type']> = Extract<MessagesAction, { type: T }>;

const loaded = (from: number, to: number): Of<'pageLoaded'> => ({
  type: 'pageLoaded',
  conversationId: 'c1',
  kind: 'latest',
  messages: messages(from, to),
});

const queue = (clientId: string, body = 'hi'): Of<'queued'> => ({
  type: 'queued',
  conversationId: 'c1',
  clientId,
  senderId: 'me',
  body,
  createdAt: '2026-11-28T06:00:00.000Z',
});

const mine = (seq: number, clientId: string, id = `m${seq}`) =>
  message(seq, { id, sender_id: 'me', client_id: clientId, body: 'hi' });

describe('messagesReducer: loading history', () => {
  it('starts with no threads; an unknown conversation reads as an empty idle thread', () => {
    expect(initialMessagesState.threads).toEqual({});
    expect(thread(initialMessagesState).status).toBe('idle');
  });

  it('latest page: ready, ordered, synced to its newest seq, knows whether older exist', () => {
    const s = run({ type: 'latestRequested', conversationId: 'c1' }, loaded(51, 100));
    expect(thread(s).status).toBe('ready');
    expect(seqs(s)).toEqual(messages(51, 100).map((m) => m.seq));
    expect(thread(s).syncedSeq).toBe(100);
    expect(thread(s).gap).toBe(false);
    expect(thread(s).hasOlder).toBe(true);
    expect(thread(run(loaded(1, 20))).hasOlder).toBe(false);
  });

  it('an empty conversation is ready with nothing older', () => {
    const s = run({ type: 'latestRequested', conversationId: 'c1' }, { ...loaded(1, 0), messages: [] });
    expect(thread(s)).toMatchObject({ status: 'ready', syncedSeq: 0, hasOlder: false, gap: false });
  });

  it('older pages are prepended and clear the loading flag', () => {
    let s = run(loaded(51, 100), { type: 'olderRequested', conversationId: 'c1' });
    expect(thread(s).loadingOlder).toBe(true);
    s = messagesReducer(s, { type: 'pageLoaded', conversationId: 'c1', kind: 'older', messages: messages(1, 50) });
    expect(seqs(s)).toHaveLength(100);
    expect(seqs(s)[0]).toBe(1);
    expect(thread(s)).toMatchObject({ loadingOlder: false, hasOlder: false, syncedSeq: 100 });
  });

  it('a failed latest page is an error; a failed older page just stops loading', () => {
    const s = run({ type: 'latestRequested', conversationId: 'c1' }, { type: 'pageFailed', conversationId: 'c1', kind: 'latest' });
    expect(thread(s).status).toBe('error');
    const t = run(loaded(51, 100), { type: 'olderRequested', conversationId: 'c1' }, { type: 'pageFailed', conversationId: 'c1', kind: 'older' });
    expect(thread(t).loadingOlder).toBe(false);
    expect(thread(t).status).toBe('ready');
  });

  it('a message without kind is text; the server’s call records keep kind "call"', () => {
    const s = run(loaded(1, 2), {
      type: 'received',
      message: message(3, { kind: 'call', body: 'Missed video call' }),
    });
    expect(thread(s).items.map((m) => m.kind)).toEqual(['text', 'text', 'call']);
    expect(thread(run(loaded(1, 1), queue('k1'))).pending[0]?.kind).toBe('text');
  });

  it('message.new for a conversation whose history is not loaded is left for later', () => {
    const s = run({ type: 'received', message: message(5) });
    expect(s).toBe(initialMessagesState);
  });
});

describe('messagesReducer: sending (optimistic → ack → stored)', () => {
  it('queued shows a pending bubble keyed by client_id', () => {
    const s = run(loaded(1, 3), queue('k1'));
    expect(thread(s).pending).toEqual([
      expect.objectContaining({ key: 'k1', client_id: 'k1', status: 'pending', seq: null, id: null, body: 'hi' }),
    ]);
  });

  it('queueing the same client_id twice keeps one bubble', () => {
    const s = run(loaded(1, 3), queue('k1'), queue('k1'));
    expect(thread(s).pending).toHaveLength(1);
  });

  it('message.ack turns it sent and records the id', () => {
    const s = run(loaded(1, 3), queue('k1'), { type: 'acked', conversationId: 'c1', clientId: 'k1', id: 'm4', createdAt: '2026-11-28T06:00:01Z' });
    expect(thread(s).pending[0]).toMatchObject({ status: 'sent', id: 'm4', created_at: '2026-11-28T06:00:01Z' });
  });

  it('message.new replaces the optimistic bubble by client_id and keeps its key', () => {
    const s = run(loaded(1, 3), queue('k1'), { type: 'received', message: mine(4, 'k1') });
    expect(thread(s).pending).toEqual([]);
    expect(thread(s).items.at(-1)).toMatchObject({ key: 'k1', id: 'm4', seq: 4, status: 'stored' });
    expect(thread(s).syncedSeq).toBe(4);
  });

  it('the same message via ack + message.new + catch-up is kept exactly once', () => {
    const s = run(
      loaded(1, 3),
      queue('k1'),
      { type: 'acked', conversationId: 'c1', clientId: 'k1', id: 'm4', createdAt: '2026-11-28T06:00:01Z' },
      { type: 'received', message: mine(4, 'k1') },
      { type: 'received', message: mine(4, 'k1') },
      { type: 'pageLoaded', conversationId: 'c1', kind: 'newer', messages: [mine(4, 'k1'), message(5)] },
      // A late duplicate ack changes nothing.
      { type: 'acked', conversationId: 'c1', clientId: 'k1', id: 'm4', createdAt: '2026-11-28T06:00:01Z' },
    );
    expect(seqs(s)).toEqual([1, 2, 3, 4, 5]);
    expect(thread(s).pending).toEqual([]);
    expect(thread(s).items.filter((m) => m.id === 'm4')).toHaveLength(1);
  });

  it('message.new before the ack: the late ack is a no-op', () => {
    const s = run(loaded(1, 3), queue('k1'), { type: 'received', message: mine(4, 'k1') });
    const after = messagesReducer(s, { type: 'acked', conversationId: 'c1', clientId: 'k1', id: 'm4', createdAt: 'x' });
    expect(after).toBe(s);
  });

  it('after the ack, a catch-up copy without client_id still replaces the bubble (by id)', () => {
    const s = run(
      loaded(1, 3),
      queue('k1'),
      { type: 'acked', conversationId: 'c1', clientId: 'k1', id: 'm4', createdAt: 'x' },
      { type: 'pageLoaded', conversationId: 'c1', kind: 'newer', messages: [message(4, { id: 'm4', sender_id: 'me', client_id: null })] },
    );
    expect(thread(s).pending).toEqual([]);
    expect(thread(s).items.at(-1)).toMatchObject({ key: 'k1', seq: 4 });
  });

  it('a message from someone else with a colliding client_id never eats a bubble of mine', () => {
    // client_ids are per sender; a pending bubble is only replaced by its own echo or id.
    const s = run(loaded(1, 3), queue('k1'), { type: 'received', message: message(4, { client_id: 'k1' }) });
    expect(thread(s).pending).toHaveLength(1);
  });
});

describe('messagesReducer: failures and retry', () => {
  it('an error with the client_id marks it failed; retry makes it pending with the same client_id', () => {
    let s = run(loaded(1, 3), queue('k1'), { type: 'failed', conversationId: 'c1', clientId: 'k1', error: 'rate_limited' });
    expect(thread(s).pending[0]).toMatchObject({ status: 'failed', error: 'rate_limited', client_id: 'k1' });
    s = messagesReducer(s, { type: 'retried', conversationId: 'c1', clientId: 'k1' });
    expect(thread(s).pending[0]).toMatchObject({ status: 'pending', error: null, client_id: 'k1', key: 'k1' });
    expect(messagesSelectors.queued({ messages: s }).map((m) => m.client_id)).toEqual(['k1']);
  });

  it('the send timeout fails a pending message but not one already acknowledged', () => {
    const timedOut = run(loaded(1, 3), queue('k1'), { type: 'failed', conversationId: 'c1', clientId: 'k1', error: 'timeout' });
    expect(thread(timedOut).pending[0]?.status).toBe('failed');
    const acked = run(
      loaded(1, 3),
      queue('k1'),
      { type: 'acked', conversationId: 'c1', clientId: 'k1', id: 'm4', createdAt: 'x' },
      { type: 'failed', conversationId: 'c1', clientId: 'k1', error: 'timeout' },
    );
    expect(thread(acked).pending[0]?.status).toBe('sent');
  });

  it('delivery_failed after the ack fails it (dead-lettered)', () => {
    const s = run(
      loaded(1, 3),
      queue('k1'),
      { type: 'acked', conversationId: 'c1', clientId: 'k1', id: 'm4', createdAt: 'x' },
      { type: 'failed', conversationId: 'c1', clientId: 'k1', error: 'delivery_failed' },
    );
    expect(thread(s).pending[0]?.status).toBe('failed');
  });

  it('a retried message that lands is stored once', () => {
    const s = run(
      loaded(1, 3),
      queue('k1'),
      { type: 'failed', conversationId: 'c1', clientId: 'k1', error: 'timeout' },
      { type: 'retried', conversationId: 'c1', clientId: 'k1' },
      { type: 'received', message: mine(4, 'k1') },
    );
    expect(seqs(s)).toEqual([1, 2, 3, 4]);
    expect(thread(s).pending).toEqual([]);
  });

  it('discard removes a failed bubble only', () => {
    const s = run(loaded(1, 3), queue('k1'), queue('k2'), { type: 'failed', conversationId: 'c1', clientId: 'k1', error: 'x' });
    const after = messagesReducer(s, { type: 'discarded', conversationId: 'c1', clientId: 'k1' });
    expect(thread(after).pending.map((p) => p.client_id)).toEqual(['k2']);
    expect(messagesReducer(after, { type: 'discarded', conversationId: 'c1', clientId: 'k2' })).toBe(after);
  });
});

describe('messagesReducer: gaps and catch-up', () => {
  it('a seq jump is a gap: syncedSeq stays at the last contiguous seq', () => {
    const s = run(loaded(1, 40), { type: 'received', message: message(42) });
    expect(thread(s)).toMatchObject({ syncedSeq: 40, gap: true });
    expect(seqs(s).slice(-2)).toEqual([40, 42]);
  });

  it('the next seq in order is no gap', () => {
    const s = run(loaded(1, 40), { type: 'received', message: message(41) });
    expect(thread(s)).toMatchObject({ syncedSeq: 41, gap: false });
  });

  it('a catch-up page (after_seq) fills the gap without duplicates', () => {
    const s = run(
      loaded(1, 40),
      { type: 'received', message: message(42) },
      { type: 'pageLoaded', conversationId: 'c1', kind: 'newer', messages: messages(41, 43) },
    );
    expect(seqs(s)).toEqual(messages(1, 43).map((m) => m.seq));
    expect(thread(s)).toMatchObject({ syncedSeq: 43, gap: false });
  });

  it('messages that arrived while the first page was loading are merged in order', () => {
    const s = run(
      { type: 'latestRequested', conversationId: 'c1' },
      { type: 'received', message: message(42) },
      loaded(1, 40),
    );
    expect(thread(s)).toMatchObject({ status: 'ready', syncedSeq: 40, gap: true });
  });

  it('duplicate seqs from overlapping pages are dropped', () => {
    const s = run(loaded(1, 10), { type: 'pageLoaded', conversationId: 'c1', kind: 'newer', messages: messages(5, 12) });
    expect(seqs(s)).toEqual(messages(1, 12).map((m) => m.seq));
  });
});

describe('messages selectors', () => {
  it('queued lists pending (not failed, not sent) messages across conversations, oldest first', () => {
    const s = run(
      queue('a'),
      { ...queue('b'), conversationId: 'c2', createdAt: '2026-11-28T05:59:00.000Z' },
      queue('c'),
      { type: 'failed', conversationId: 'c1', clientId: 'c', error: 'x' },
    );
    expect(messagesSelectors.queued({ messages: s }).map((m) => m.client_id)).toEqual(['b', 'a']);
    expect(messagesSelectors.findPending({ messages: s }, 'b')?.conversation_id).toBe('c2');
  });

  it('loadedConversationIds lists ready threads; newestSeq reads the last stored seq', () => {
    const s = run(loaded(1, 7), { type: 'latestRequested', conversationId: 'c2' });
    expect(messagesSelectors.loadedConversationIds({ messages: s })).toEqual(['c1']);
    expect(messagesSelectors.newestSeq({ messages: s }, 'c1')).toBe(7);
    expect(messagesSelectors.newestSeq({ messages: s }, 'c2')).toBe(0);
  });

  it('conversationRemoved and reset drop threads', () => {
    const s = run(loaded(1, 7));
    expect(messagesReducer(s, { type: 'conversationRemoved', conversationId: 'c1' }).threads).toEqual({});
    expect(messagesReducer(s, { type: 'reset' })).toBe(initialMessagesState);
  });
});

describe('messagesReducer: images', () => {
  const local = (key: string) => ({ key, id: null, mime: 'image/png', width: 640, height: 480, blurhash: null, url: `blob:${key}`, preview: `blob:${key}`, thumbnail: `blob:${key}` });
  const stored = (id: string) => ({
    id,
    mime: 'image/png',
    bytes: 10,
    width: 640,
    height: 480,
    blurhash: 'LEHV6nWB2yk8pyo0adR*.7kCMdnj',
    url: `/api/v1/media/${id}?sig=s`,
    preview: { url: `/api/v1/media/${id}/preview?sig=s`, width: 640, height: 480 },
    thumbnail: { url: `/api/v1/media/${id}/thumbnail?sig=s`, width: 400, height: 300 },
  });
  const withImages = (clientId: string): Of<'queued'> => ({ ...queue(clientId, ''), attachments: [local('u1'), local('u2')] });

  it('a pending message shows its local images at once, and is not ready to send', () => {
    const s = run(loaded(1, 1), withImages('a'));
    expect(thread(s).pending[0]!.attachments.map((x) => [x.key, x.id, x.url])).toEqual([
      ['u1', null, 'blob:u1'],
      ['u2', null, 'blob:u2'],
    ]);
    expect(messagesSelectors.queued({ messages: s })).toEqual([]);
  });

  it('each finished upload gives its image an id; with all of them the message is ready', () => {
    const up = (key: string, id: string): MessagesAction => ({ type: 'attachmentUploaded', conversationId: 'c1', clientId: 'a', key, id });
    const half = run(loaded(1, 1), withImages('a'), up('u2', 'x2'));
    expect(messagesSelectors.queued({ messages: half })).toEqual([]);
    const all = messagesReducer(half, up('u1', 'x1'));
    expect(messagesSelectors.queued({ messages: all }).map((m) => m.attachments.map((x) => x.id))).toEqual([['x1', 'x2']]);
    // The same id again changes nothing; an unknown key neither.
    expect(messagesReducer(all, up('u1', 'x1'))).toBe(all);
    expect(messagesReducer(all, up('nope', 'x9'))).toBe(all);
  });

  it('the echo replaces the local images with the stored ones, keeping their keys', () => {
    const s = run(loaded(1, 1), withImages('a'), {
      type: 'received',
      message: { ...mine(2, 'a'), body: '', attachments: [stored('x1'), stored('x2')] },
    });
    expect(thread(s).pending).toEqual([]);
    const m = thread(s).items[1]!;
    expect(m.attachments.map((x) => [x.key, x.id, x.thumbnail])).toEqual([
      ['u1', 'x1', '/api/v1/media/x1/thumbnail?sig=s'],
      ['u2', 'x2', '/api/v1/media/x2/thumbnail?sig=s'],
    ]);
    expect(m.attachments[0]).toMatchObject({ preview: '/api/v1/media/x1/preview?sig=s', blurhash: 'LEHV6nWB2yk8pyo0adR*.7kCMdnj' });
  });

  it('others’ images are keyed by id; a server without attachments gives none', () => {
    const s = run(loaded(1, 1), { type: 'received', message: message(2, { attachments: [stored('x7')] }) }, { type: 'received', message: message(3) });
    expect(thread(s).items.map((m) => m.attachments.map((x) => x.key))).toEqual([[], ['x7'], []]);
  });

  it('images() lists the conversation’s images in order, stored then pending', () => {
    const s = run(loaded(1, 1), { type: 'received', message: message(2, { attachments: [stored('x7'), stored('x8')] }) }, withImages('a'));
    expect(messagesSelectors.images(thread(s)).map((i) => [i.messageKey, i.attachment.key])).toEqual([
      ['m2', 'x7'],
      ['m2', 'x8'],
      ['a', 'u1'],
      ['a', 'u2'],
    ]);
  });
});
