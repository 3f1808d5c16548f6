/** Builders for tests: users, conversations and messages shaped like the server's JSON. */
import type { Conversation, Message, User } from '../api/types';
import { UNCHANGED } from '../stores/messages/changes';
import type { ChatMessage } from '../stores/messages/reducer';

export const user = (id: string, display_name = id[0]!.toUpperCase() + id.slice(1)): User => ({
  id,
  username: id,
  display_name,
  is_admin: false,
  created_at: '2026-01-01T00:00:00Z',
});

export const ME = user('me', 'Me');
export const BOB = user('bob', 'Bob');
export const CAROL = user('carol', 'Carol');

export const at = (seconds: number) => new Date(Date.UTC(2026, 10, 28, 5, 0, seconds)).toISOString();

export function message(seq: number, overrides: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    conversation_id: 'c1',
    seq,
    sender_id: 'bob',
    body: `message ${seq}`,
    created_at: at(seq),
    client_id: null,
    ...overrides,
  };
}

export const messages = (from: number, to: number, overrides: Partial<Message> = {}) =>
  Array.from({ length: to - from + 1 }, (_, i) => message(from + i, overrides));

export function conversation(overrides: Partial<Conversation> = {}): Conversation {
  return {
    id: 'c1',
    kind: 'direct',
    name: null,
    created_at: at(0),
    last_seq: 0,
    last_message: null,
    last_activity_at: at(0),
    members: [
      { user: ME, role: 'member' },
      { user: BOB, role: 'member' },
    ],
    unread_count: 0,
    read_seq: 0,
    delivered_seq: 0,
    ...overrides,
  };
}

/** The change fields of a chat message that was never edited, reacted to or pinned. */
export const unchanged: Pick<ChatMessage, keyof typeof UNCHANGED | 'changing'> = { ...UNCHANGED, changing: [] };
