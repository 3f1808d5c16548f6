/**
 * Conversations slice: the user's conversations (as the server sees them for this user),
 * who is typing where, who is online, and which conversation is open.
 *
 * Invariants:
 * - A conversation's `last_seq` never goes back: a list fetched before a `message.new`
 *   arrived cannot undo it (`mergeConversation`).
 * - `read_seq` / `delivered_seq` only move forward; the same `receipt` action applies the
 *   user's optimistic read and the server's echo of it.
 * - Typing entries carry their expiry (5 s after the last `typing` event); `typingExpired`
 *   drops the stale ones. `now` is passed in, so the reducer stays pure.
 * - `mention_count` (messages after the read pointer that mention the user) sits beside
 *   `unread_count`, never above it, and clears with it; `last_change_seq` never goes back.
 * - `users` remembers every member ever seen, so a sender who left a group keeps a name.
 * - `presence` holds the people the user shares a conversation with: once the list is
 *   loaded, a conversation removed or a member gone drops whoever shares nothing more
 *   (the server stops telling their changes, so what is kept would go stale).
 */
import type { Conversation, Message, Presence, User } from '../../api/types';

export const TYPING_TTL_MS = 5_000;

export interface ConversationsState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  byId: Record<string, Conversation>;
  activeId: string | null;
  /** conversation id → user id → epoch ms at which the typing hint expires. */
  typing: Record<string, Record<string, number>>;
  presence: Record<string, Presence>;
  users: Record<string, User>;
}

export const initialConversationsState: ConversationsState = {
  status: 'idle',
  byId: {},
  activeId: null,
  typing: {},
  presence: {},
  users: {},
};

export type ConversationsAction =
  | { type: 'listRequested' }
  | { type: 'listLoaded'; conversations: Conversation[] }
  | { type: 'listFailed' }
  /** `conversation.updated`, a created conversation, or a fetched one. */
  | { type: 'upserted'; conversation: Conversation }
  /** `conversation.removed`, or the user left. */
  | { type: 'removed'; conversationId: string }
  | { type: 'activated'; conversationId: string | null }
  | { type: 'messageReceived'; message: Message; myId: string | null }
  /** A stored message changed (edited, deleted, …): the list's preview follows if it is the last one. */
  | { type: 'messageChanged'; message: Message }
  /** Optimistic: the user sent a message here, so it moves to the top of the list now. */
  | { type: 'messageQueued'; conversationId: string; at: string }
  | {
      type: 'receipt';
      conversationId: string;
      userId: string;
      deliveredSeq: number;
      readSeq: number;
      myId: string | null;
    }
  | { type: 'typing'; conversationId: string; userId: string; active: boolean; now: number; myId: string | null }
  | { type: 'typingExpired'; now: number }
  | { type: 'presenceSnapshot'; presence: Presence[] }
  | { type: 'presence'; presence: Presence }
  | { type: 'reset' };

export function conversationsReducer(state: ConversationsState, action: ConversationsAction): ConversationsState {
  switch (action.type) {
    case 'listRequested':
      return state.status === 'ready' ? state : { ...state, status: 'loading' };
    case 'listLoaded': {
      const byId: Record<string, Conversation> = {};
      for (const c of action.conversations) byId[c.id] = mergeConversation(state.byId[c.id], c);
      const activeGone = state.activeId !== null && !byId[state.activeId];
      // The open conversation stays while it is fetched on its own (it may be brand new).
      if (activeGone && state.byId[state.activeId!]) byId[state.activeId!] = state.byId[state.activeId!]!;
      return { ...state, status: 'ready', byId, users: rememberUsers(state.users, action.conversations) };
    }
    case 'listFailed':
      return { ...state, status: state.status === 'ready' ? 'ready' : 'error' };
    case 'upserted': {
      const c = mergeConversation(state.byId[action.conversation.id], action.conversation);
      const byId = { ...state.byId, [c.id]: c };
      return {
        ...state,
        byId,
        presence: sharedPresence(state, byId),
        users: rememberUsers(state.users, [action.conversation]),
      };
    }
    case 'removed': {
      if (!state.byId[action.conversationId] && state.activeId !== action.conversationId) return state;
      const byId = { ...state.byId };
      delete byId[action.conversationId];
      const typing = { ...state.typing };
      delete typing[action.conversationId];
      return {
        ...state,
        byId,
        typing,
        presence: sharedPresence(state, byId),
        activeId: state.activeId === action.conversationId ? null : state.activeId,
      };
    }
    case 'activated':
      return state.activeId === action.conversationId ? state : { ...state, activeId: action.conversationId };
    case 'messageReceived': {
      const m = action.message;
      const c = state.byId[m.conversation_id];
      // Known already (catch-up, a page of history): nothing changes, typing hints included.
      if (c && m.seq <= c.last_seq) return state;
      // A new message ends its sender's typing hint.
      const typing = withoutTyping(state.typing, m.conversation_id, m.sender_id);
      if (!c) return typing === state.typing ? state : { ...state, typing };
      const fromOther = m.sender_id !== action.myId;
      const next: Conversation = {
        ...c,
        last_seq: m.seq,
        last_message: m,
        last_activity_at: later(c.last_activity_at, m.created_at),
        unread_count: fromOther && m.seq > c.read_seq ? c.unread_count + 1 : c.unread_count,
        mention_count:
          fromOther && m.seq > c.read_seq && action.myId !== null && m.mentions?.includes(action.myId)
            ? (c.mention_count ?? 0) + 1
            : (c.mention_count ?? 0),
        // The sender has read their own message.
        read_seq: fromOther ? c.read_seq : Math.max(c.read_seq, m.seq),
        delivered_seq: fromOther ? c.delivered_seq : Math.max(c.delivered_seq, m.seq),
      };
      return { ...state, byId: { ...state.byId, [c.id]: next }, typing };
    }
    case 'messageChanged': {
      const m = action.message;
      const c = state.byId[m.conversation_id];
      const last = c?.last_message;
      if (!c || !last || last.id !== m.id || (m.change_seq ?? 0) <= (last.change_seq ?? 0)) return state;
      return { ...state, byId: { ...state.byId, [c.id]: { ...c, last_message: m } } };
    }
    case 'messageQueued': {
      const c = state.byId[action.conversationId];
      if (!c) return state;
      const at = later(c.last_activity_at, action.at);
      if (at === c.last_activity_at) return state;
      return { ...state, byId: { ...state.byId, [c.id]: { ...c, last_activity_at: at } } };
    }
    case 'receipt': {
      if (action.userId !== action.myId) return state;
      const c = state.byId[action.conversationId];
      if (!c) return state;
      const read_seq = Math.max(c.read_seq, action.readSeq);
      const delivered_seq = Math.max(c.delivered_seq, action.deliveredSeq, read_seq);
      if (read_seq === c.read_seq && delivered_seq === c.delivered_seq) return state;
      const unread_count = read_seq >= c.last_seq ? 0 : Math.min(c.unread_count, c.last_seq - read_seq);
      const mention_count = Math.min(c.mention_count ?? 0, unread_count);
      return { ...state, byId: { ...state.byId, [c.id]: { ...c, read_seq, delivered_seq, unread_count, mention_count } } };
    }
    case 'typing': {
      if (action.userId === action.myId) return state;
      if (!action.active) {
        const typing = withoutTyping(state.typing, action.conversationId, action.userId);
        return typing === state.typing ? state : { ...state, typing };
      }
      const here = { ...state.typing[action.conversationId], [action.userId]: action.now + TYPING_TTL_MS };
      return { ...state, typing: { ...state.typing, [action.conversationId]: here } };
    }
    case 'typingExpired': {
      let changed = false;
      const typing: ConversationsState['typing'] = {};
      for (const [cid, users] of Object.entries(state.typing)) {
        const alive = Object.entries(users).filter(([, until]) => until > action.now);
        if (alive.length !== Object.keys(users).length) changed = true;
        if (alive.length) typing[cid] = Object.fromEntries(alive);
      }
      return changed ? { ...state, typing } : state;
    }
    case 'presenceSnapshot': {
      const presence = { ...state.presence };
      for (const p of action.presence) presence[p.user_id] = p;
      return { ...state, presence };
    }
    case 'presence':
      return { ...state, presence: { ...state.presence, [action.presence.user_id]: action.presence } };
    case 'reset':
      return initialConversationsState;
  }
}

/** The presence entries of people who are members of some conversation in `byId`. */
function sharedPresence(state: ConversationsState, byId: Record<string, Conversation>): Record<string, Presence> {
  if (state.status !== 'ready') return state.presence;
  const members = new Set(Object.values(byId).flatMap((c) => c.members.map((m) => m.user.id)));
  const kept = Object.entries(state.presence).filter(([id]) => members.has(id));
  return kept.length === Object.keys(state.presence).length ? state.presence : Object.fromEntries(kept);
}

/**
 * The server's copy wins, except that what moves only forward (last message, read and
 * delivered pointers) never goes back to an older value it may still carry.
 */
export function mergeConversation(old: Conversation | undefined, incoming: Conversation): Conversation {
  if (!old) return { ...incoming, mention_count: incoming.mention_count ?? 0, last_change_seq: incoming.last_change_seq ?? 0 };
  const newer = incoming.last_seq >= old.last_seq;
  const read_seq = Math.max(old.read_seq, incoming.read_seq);
  const last_seq = Math.max(old.last_seq, incoming.last_seq);
  const unread = newer ? incoming.unread_count : old.unread_count;
  const unread_count = read_seq >= last_seq ? 0 : Math.min(unread, last_seq - read_seq);
  const mentions = (newer ? incoming.mention_count : old.mention_count) ?? 0;
  return {
    ...incoming,
    last_seq,
    last_message: newer ? incoming.last_message : old.last_message,
    last_activity_at: later(old.last_activity_at, incoming.last_activity_at),
    read_seq,
    delivered_seq: Math.max(old.delivered_seq, incoming.delivered_seq),
    unread_count,
    mention_count: Math.min(mentions, unread_count),
    last_change_seq: Math.max(old.last_change_seq ?? 0, incoming.last_change_seq ?? 0),
  };
}

function withoutTyping(typing: ConversationsState['typing'], cid: string, userId: string) {
  const here = typing[cid];
  if (!here || !(userId in here)) return typing;
  const rest = { ...here };
  delete rest[userId];
  const next = { ...typing };
  if (Object.keys(rest).length) next[cid] = rest;
  else delete next[cid];
  return next;
}

function rememberUsers(users: Record<string, User>, conversations: Conversation[]): Record<string, User> {
  let next = users;
  for (const c of conversations) {
    for (const { user } of c.members ?? []) {
      const known = next[user.id];
      if (known && known.display_name === user.display_name && known.username === user.username) continue;
      if (next === users) next = { ...users };
      next[user.id] = user;
    }
  }
  return next;
}

/** The later of two RFC 3339 UTC timestamps (lexical order works for the same format; Date for safety). */
function later(a: string, b: string): string {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (Number.isNaN(tb)) return a;
  if (Number.isNaN(ta)) return b;
  return tb > ta ? b : a;
}
