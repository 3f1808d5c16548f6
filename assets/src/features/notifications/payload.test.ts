import { describe, expect, it } from 'vitest';
import { conversationPath, notificationFor, parsePayload, unreadOf, type CallPush, type MessagePush } from './payload';

const direct: MessagePush = {
  v: 1,
  type: 'message',
  conversation_id: 'c-1',
  conversation_kind: 'direct',
  conversation_name: null,
  sender: { id: 'bob', display_name: 'Bob Stone' },
  message_id: 'm-1',
  seq: 7,
  body: 'See you at 8',
  image: false,
  mention: false,
  hidden: false,
  unread: 3,
  sent_at: '2026-12-04T10:00:00Z',
};
const group: MessagePush = { ...direct, conversation_id: 'g-1', conversation_kind: 'group', conversation_name: 'Climbing crew' };
const call: CallPush = { v: 1, type: 'call', call_id: 'k-9', conversation_id: 'c-1', caller: { id: 'bob', display_name: 'Bob Stone' }, unread: 0, sent_at: '2026-12-04T10:00:00Z' };

describe('notificationFor', () => {
  it('direct: the sender is the title, the first line the body, one notification per conversation', () => {
    const n = notificationFor(direct);
    expect(n.title).toBe('Bob Stone');
    expect(n.options.body).toBe('See you at 8');
    expect(n.options.tag).toBe('c-1');
    expect(n.options.renotify).toBe(true);
    expect(n.options.icon).toBe('/icons/icon-192.png');
    expect(n.options.data).toEqual({ url: '/?c=c-1', conversationId: 'c-1' });
    expect(n.options.timestamp).toBe(Date.parse('2026-12-04T10:00:00Z'));
  });

  it('group: the conversation is the title, "Sender: line" the body', () => {
    const n = notificationFor(group);
    expect(n.title).toBe('Climbing crew');
    expect(n.options.body).toBe('Bob Stone: See you at 8');
    expect(n.options.tag).toBe('g-1');
    expect(n.options.data.url).toBe('/?c=g-1');
  });

  it('hidden content: "New message", never the body, for groups and direct alike', () => {
    const { body: _, ...noBody } = direct;
    expect(notificationFor({ ...noBody, hidden: true }).options.body).toBe('New message');
    expect(notificationFor({ ...direct, hidden: true }).options.body).toBe('New message');
    const g = notificationFor({ ...group, hidden: true, body: 'secret' });
    expect(g.options.body).toBe('New message');
    expect(g.title).toBe('Climbing crew');
  });

  it('an image without words: "📷 Photo" (with the sender in a group)', () => {
    expect(notificationFor({ ...direct, body: '', image: true }).options.body).toBe('📷 Photo');
    expect(notificationFor({ ...group, body: undefined, image: true }).options.body).toBe('Bob Stone: 📷 Photo');
  });

  it('only the first non-empty line, cut at 140 characters', () => {
    expect(notificationFor({ ...direct, body: '\nfirst\nsecond' }).options.body).toBe('first');
    const long = 'x'.repeat(200);
    expect(notificationFor({ ...direct, body: long }).options.body).toHaveLength(140);
  });

  it('a call: "Incoming call", "<caller> is calling", kept until acted on, its own tag', () => {
    const n = notificationFor(call);
    expect(n.title).toBe('Incoming call');
    expect(n.options.body).toBe('Bob Stone is calling');
    expect(n.options.requireInteraction).toBe(true);
    expect(n.options.tag).toBe('call-k-9');
    expect(n.options.data.url).toBe('/?c=c-1');
  });

  it('an unknown payload still shows a (generic) notification', () => {
    const n = notificationFor(null);
    expect(n.title).toBe('Nexus');
    expect(n.options.data.url).toBe('/');
    expect(n.options.tag).toBeUndefined();
  });
});

describe('parsePayload', () => {
  it('reads messages and calls of version 1', () => {
    expect(parsePayload(JSON.stringify(direct))).toEqual(direct);
    expect(parsePayload(JSON.stringify(call))).toEqual(call);
  });

  it('rejects other versions, types, broken JSON and missing fields', () => {
    expect(parsePayload(JSON.stringify({ ...direct, v: 2 }))).toBeNull();
    expect(parsePayload(JSON.stringify({ ...direct, type: 'reaction' }))).toBeNull();
    expect(parsePayload(JSON.stringify({ ...direct, sender: null }))).toBeNull();
    expect(parsePayload(JSON.stringify({ ...call, caller: { id: 'x' } }))).toBeNull();
    expect(parsePayload('{not json')).toBeNull();
    expect(parsePayload('')).toBeNull();
    expect(parsePayload(null)).toBeNull();
  });
});

describe('helpers', () => {
  it('the badge count comes from the payload', () => {
    expect(unreadOf(direct)).toBe(3);
    expect(unreadOf({ ...direct, unread: 0 })).toBe(0);
    expect(unreadOf(null)).toBeNull();
  });

  it('the conversation path is the app’s ?c= route, encoded', () => {
    expect(conversationPath('a b')).toBe('/?c=a%20b');
  });
});
