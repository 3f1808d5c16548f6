import { describe, expect, it } from 'vitest';
import { BOB, CAROL, conversation, ME, unchanged } from '../../test/fixtures';
import type { ChatMessage } from '../../stores';
import { messageActions, NO_ACTIONS } from './permissions';
import { replyText, replyViewOf, snippetOf } from '../replies/reply';

const msg = (extra: Partial<ChatMessage> = {}): ChatMessage => ({
  key: 'm1',
  id: 'm1',
  client_id: null,
  conversation_id: 'c1',
  seq: 1,
  sender_id: 'me',
  body: 'hello\nsecond line',
  kind: 'text',
  created_at: '2026-11-28T05:00:00Z',
  status: 'stored',
  error: null,
  attachments: [],
  ...unchanged,
  ...extra,
});

const direct = conversation();
const group = (myRole: string) =>
  conversation({ kind: 'group', members: [{ user: ME, role: myRole }, { user: BOB, role: 'member' }, { user: CAROL, role: 'admin' }] });

describe('messageActions', () => {
  it('own message in a direct chat: everything', () => {
    expect(messageActions(msg(), direct, 'me')).toEqual({ reply: true, react: true, edit: true, delete: true, pin: true, copy: true });
  });

  it('someone else’s in a group, as a member: reply, react, copy', () => {
    expect(messageActions(msg({ sender_id: 'bob' }), group('member'), 'me')).toEqual({ ...NO_ACTIONS, reply: true, react: true, copy: true });
  });

  it('a group admin deletes and pins anyone’s, but edits only their own', () => {
    expect(messageActions(msg({ sender_id: 'bob' }), group('admin'), 'me')).toMatchObject({ edit: false, delete: true, pin: true });
  });

  it('pending, call records and tombstones offer nothing; images only cannot be edited or copied', () => {
    expect(messageActions(msg({ status: 'pending', id: null }), direct, 'me')).toBe(NO_ACTIONS);
    expect(messageActions(msg({ kind: 'call' }), direct, 'me')).toBe(NO_ACTIONS);
    expect(messageActions(msg({ deleted_at: 't', body: '' }), direct, 'me')).toBe(NO_ACTIONS);
    expect(messageActions(msg({ body: '' }), direct, 'me')).toMatchObject({ edit: true, copy: false, reply: true });
  });
});

describe('replies', () => {
  it('the snippet is the first line, at most 140 characters', () => {
    expect(snippetOf('hello\nworld')).toBe('hello');
    expect(snippetOf('\n  \nsecond')).toBe('second');
    expect(Array.from(snippetOf('😀'.repeat(200)))).toHaveLength(140);
  });

  it('a reply view of a message, and what stands for one without words', () => {
    expect(replyViewOf(msg())).toEqual({ id: 'm1', seq: 1, sender_id: 'me', snippet: 'hello', deleted: false, attachments: 0 });
    expect(replyText({ id: 'x', seq: 1, sender_id: 'b', snippet: '', deleted: true, attachments: 0 })).toBe('Message deleted');
    expect(replyText({ id: 'x', seq: 1, sender_id: 'b', snippet: '', deleted: false, attachments: 3 })).toBe('📷 3 photos');
  });
});
