import { emptyThread, type ChatMessage, type MessagesState, type Thread } from './reducer';

interface WithMessages {
  messages: MessagesState;
}

export const messagesSelectors = {
  thread: (s: WithMessages, conversationId: string): Thread => s.messages.threads[conversationId] ?? emptyThread,
  /** Conversations whose history is loaded: the ones to catch up after a reconnect. */
  loadedConversationIds: (s: WithMessages): string[] =>
    Object.entries(s.messages.threads)
      .filter(([, t]) => t.status === 'ready')
      .map(([id]) => id),
  /** Own messages waiting to go out (not failed), oldest first: the outbox. */
  queued: (s: WithMessages): ChatMessage[] =>
    Object.values(s.messages.threads)
      .flatMap((t) => t.pending.filter((p) => p.status === 'pending'))
      .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0)),
  pending: (s: WithMessages, conversationId: string, clientId: string): ChatMessage | undefined =>
    s.messages.threads[conversationId]?.pending.find((p) => p.client_id === clientId),
  /** Finds a pending message by client_id in any conversation (an `error` event names none). */
  findPending: (s: WithMessages, clientId: string): ChatMessage | undefined => {
    for (const t of Object.values(s.messages.threads)) {
      const p = t.pending.find((m) => m.client_id === clientId);
      if (p) return p;
    }
    return undefined;
  },
  /** The newest stored seq that is loaded (0 when none). */
  newestSeq: (s: WithMessages, conversationId: string): number => {
    const items = s.messages.threads[conversationId]?.items;
    return items?.[items.length - 1]?.seq ?? 0;
  },
};
