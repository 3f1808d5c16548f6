/**
 * What a bubble can ask of the open conversation (provided by ChatView), so the memoised
 * bubbles of the virtualised list need no callbacks threaded through each row.
 */
import { createContext, useContext } from 'react';
import type { Conversation } from '../../api';
import type { ChatMessage } from '../../stores';

export interface ConversationActions {
  conversation: Conversation;
  myId: string | null;
  /** A member's name ("You" for me, "Former member" for someone unknown). */
  nameOf(userId: string): string;
  /** username (lower case) → user id, for the mentions a body may hold. */
  usernames: ReadonlyMap<string, string>;
  reply(m: ChatMessage): void;
  startEdit(m: ChatMessage): void;
  saveEdit(m: ChatMessage, body: string): void;
  cancelEdit(): void;
  /** Asks first, then deletes. */
  remove(m: ChatMessage): void;
  react(m: ChatMessage, emoji: string): void;
  pin(m: ChatMessage, pinned: boolean): void;
  copy(m: ChatMessage): void;
  showVersions(m: ChatMessage): void;
  /** The long-press sheet (touch): every action of one message. */
  openSheet(m: ChatMessage): void;
  /** Scrolls to the message with this seq (loading it if needed) and highlights it. */
  jumpTo(seq: number): void;
}

export const ConversationActionsContext = createContext<ConversationActions | null>(null);

export function useConversationActions(): ConversationActions {
  const a = useContext(ConversationActionsContext);
  if (!a) throw new Error('useConversationActions: no ConversationActionsContext above this bubble');
  return a;
}

/** The same, or null outside a conversation (a bubble rendered alone in a test). */
export function useOptionalConversationActions(): ConversationActions | null {
  return useContext(ConversationActionsContext);
}
