import { describe, expect, it } from 'vitest';
import { normalizeMessage } from '../api/messageView';
import { parseServerEvent } from './protocol';

const frame = (v: unknown) => JSON.stringify(v);
const base = { id: 'm', conversation_id: 'c', seq: 4, sender_id: 'u', body: 'Hi @bob', created_at: 't' };
const full = {
  ...base,
  change_seq: 9,
  edited_at: 't2',
  deleted_at: null,
  deleted_by: null,
  reply_to: { id: 'm1', seq: 1, sender_id: 'v', snippet: 'first line', deleted: false, attachments: 2 },
  reactions: [{ emoji: '👍', count: 2, user_ids: ['u', 'v'] }],
  pinned_at: 't3',
  pinned_by: 'v',
  mentions: ['bob'],
};

describe('parseServerEvent: message changes', () => {
  it('accepts change.ack, message.updated, message.deleted and message.reaction with the message’s state', () => {
    const events = [
      { type: 'change.ack', client_id: 'k', message: full },
      { type: 'message.updated', message: full, change: 'edited', by: 'u' },
      { type: 'message.updated', message: full, change: 'pinned', by: 'v' },
      { type: 'message.deleted', message: { ...full, body: '', reactions: [], deleted_at: 't4', deleted_by: 'u' }, by: 'u' },
      { type: 'message.reaction', message: full, by: 'v', emoji: '👍', on: true },
    ];
    for (const e of events) expect(parseServerEvent(frame(e))).toEqual({ ...e, message: normalizeMessage(e.message as never) });
  });

  it('drops change events without a usable message, client_id, emoji or flag', () => {
    for (const bad of [
      { type: 'change.ack', message: full },
      { type: 'change.ack', client_id: 'k', message: { id: 'm' } },
      { type: 'message.updated', change: 'edited' },
      { type: 'message.reaction', message: full, by: 'v', emoji: '👍' },
      { type: 'message.reaction', message: full, by: 'v', on: true },
    ]) {
      expect(parseServerEvent(frame(bad))).toBeNull();
    }
  });

  it('an unknown update kind is kept for the store to apply (the message state is what counts)', () => {
    expect(parseServerEvent(frame({ type: 'message.updated', message: full, change: 'retitled', by: 'u' }))).toMatchObject({ change: 'retitled' });
  });
});

describe('normalizeMessage', () => {
  it('a message from a server before the features reads as never changed', () => {
    expect(normalizeMessage(base)).toEqual({
      ...base,
      change_seq: 0,
      edited_at: null,
      deleted_at: null,
      deleted_by: null,
      reply_to: null,
      reactions: [],
      pinned_at: null,
      pinned_by: null,
      mentions: [],
    });
  });

  it('message.new carries the normalised message too', () => {
    expect(parseServerEvent(frame({ type: 'message.new', message: base }))).toMatchObject({ message: { change_seq: 0, reactions: [], reply_to: null } });
  });

  it('malformed reactions, replies and mentions are dropped; duplicates and zero counts too', () => {
    const m = normalizeMessage({
      ...base,
      reactions: [{ emoji: '👍', count: 1, user_ids: ['u', 3] }, { emoji: '👍', count: 5 }, { emoji: '', count: 1 }, { emoji: '🎉', count: 0 }, 'x'],
      reply_to: { id: 'm1' },
      mentions: ['a', null, 'b'],
    } as never);
    expect(m.reactions).toEqual([{ emoji: '👍', count: 1, user_ids: ['u'] }]);
    expect(m.reply_to).toBeNull();
    expect(m.mentions).toEqual(['a', 'b']);
  });

  it('keeps at most 20 distinct reactions', () => {
    const reactions = Array.from({ length: 25 }, (_, i) => ({ emoji: `e${i}`, count: 1, user_ids: ['u'] }));
    expect(normalizeMessage({ ...base, reactions } as never).reactions).toHaveLength(20);
  });
});
