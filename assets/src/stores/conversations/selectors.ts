import type { Conversation, Presence, User } from '../../api/types';
import { memoOn } from '../memo';
import type { ConversationsState } from './reducer';

interface WithConversations {
  conversations: ConversationsState;
}

const byActivity = memoOn((byId: Record<string, Conversation>): Conversation[] =>
  Object.values(byId).sort((a, b) => {
    const d = Date.parse(b.last_activity_at) - Date.parse(a.last_activity_at);
    return d !== 0 && !Number.isNaN(d) ? d : a.id < b.id ? -1 : 1;
  }),
);

/** The other member of a direct conversation (yourself for a note-to-self). */
export function otherMember(c: Conversation, myId: string | null): User | null {
  const others = c.members.filter((m) => m.user.id !== myId);
  return (others[0] ?? c.members[0])?.user ?? null;
}

/** What the conversation is called: the group's name, or the other member's display name. */
export function conversationTitle(c: Conversation, myId: string | null): string {
  if (c.kind === 'group') {
    if (c.name?.trim()) return c.name.trim();
    const names = c.members.filter((m) => m.user.id !== myId).map((m) => m.user.display_name);
    return names.length ? names.join(', ') : 'Group';
  }
  return otherMember(c, myId)?.display_name ?? 'Conversation';
}

/** "Bob is typing…", "Bob and Carol are typing…", "3 people are typing…". */
export function typingLabel(names: readonly string[]): string | null {
  if (names.length === 0) return null;
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}

const NOBODY: string[] = [];
/** Per typing map (a new object whenever it changes), the names: stable across reads and rows. */
const typingCache = new WeakMap<Record<string, number>, { users: Record<string, User>; names: string[] }>();
function typingNamesOf(here: Record<string, number> | undefined, users: Record<string, User>): string[] {
  if (!here) return NOBODY;
  const cached = typingCache.get(here);
  if (cached && cached.users === users) return cached.names;
  const names = Object.keys(here).map((id) => users[id]?.display_name ?? 'Someone');
  typingCache.set(here, { users, names });
  return names;
}

/** Case-insensitive match on the title and the members' names and usernames. */
export function matchesFilter(c: Conversation, myId: string | null, query: string): boolean {
  const q = query.trim().toLocaleLowerCase();
  if (!q) return true;
  if (conversationTitle(c, myId).toLocaleLowerCase().includes(q)) return true;
  return c.members.some(
    (m) => m.user.display_name.toLocaleLowerCase().includes(q) || m.user.username.toLocaleLowerCase().includes(q),
  );
}

export const conversationsSelectors = {
  status: (s: WithConversations) => s.conversations.status,
  activeId: (s: WithConversations) => s.conversations.activeId,
  byId: (s: WithConversations, id: string | null): Conversation | undefined =>
    id ? s.conversations.byId[id] : undefined,
  /** Newest activity first. */
  ordered: (s: WithConversations): Conversation[] => byActivity(s.conversations.byId),
  totalUnread: (s: WithConversations): number =>
    Object.values(s.conversations.byId).reduce((n, c) => n + (c.unread_count > 0 ? c.unread_count : 0), 0),
  /** Unread messages that mention the user (the conversation list's "@" badge). */
  mentions: (s: WithConversations, id: string): number => s.conversations.byId[id]?.mention_count ?? 0,
  /** Display names of who is typing in a conversation right now (expired ones are pruned by a timer). */
  typingNames: (s: WithConversations, conversationId: string): string[] =>
    typingNamesOf(s.conversations.typing[conversationId], s.conversations.users),
  hasTyping: (s: WithConversations) => Object.keys(s.conversations.typing).length > 0,
  /** The earliest expiry among typing hints, to schedule the next prune. */
  nextTypingExpiry: (s: WithConversations): number | null => {
    let min: number | null = null;
    for (const users of Object.values(s.conversations.typing)) {
      for (const until of Object.values(users)) if (min === null || until < min) min = until;
    }
    return min;
  },
  presence: (s: WithConversations, userId: string | null | undefined): Presence | undefined =>
    userId ? s.conversations.presence[userId] : undefined,
  isOnline: (s: WithConversations, userId: string | null | undefined): boolean =>
    !!userId && s.conversations.presence[userId]?.online === true,
  user: (s: WithConversations, userId: string): User | undefined => s.conversations.users[userId],
  users: (s: WithConversations) => s.conversations.users,
};
