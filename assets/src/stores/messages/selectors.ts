import { shown, type ChangeOp } from './changes';
import { emptyThread, type ChatAttachment, type ChatMessage, type JumpRequest, type MessagesState, type Thread } from './reducer';

/** One image of a conversation, with the message it belongs to (the lightbox's sequence). */
export interface ConversationImage {
  messageKey: string;
  senderId: string;
  createdAt: string;
  attachment: ChatAttachment;
}

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
  /** Own messages ready to go out (not failed, every image uploaded), oldest first: the outbox. */
  queued: (s: WithMessages): ChatMessage[] =>
    Object.values(s.messages.threads)
      .flatMap((t) => t.pending.filter((p) => p.status === 'pending' && p.attachments.every((a) => a.id !== null)))
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
  /** The stored messages as shown: with the user's changes in flight laid over them. */
  shown,
  /** A loaded stored message by id (as shown). */
  byId: (s: WithMessages, conversationId: string, id: string): ChatMessage | undefined => {
    const t = s.messages.threads[conversationId];
    return t ? shown(t).find((m) => m.id === id) : undefined;
  },
  /** A change in flight by its client_id, in any conversation. */
  findOp: (s: WithMessages, clientId: string): { conversationId: string; op: ChangeOp } | undefined => {
    for (const [conversationId, t] of Object.entries(s.messages.threads)) {
      const op = t.ops.find((o) => o.clientId === clientId);
      if (op) return { conversationId, op };
    }
    return undefined;
  },
  /** Every change in flight, oldest first (to send again after a reconnect). */
  ops: (s: WithMessages): Array<{ conversationId: string; op: ChangeOp }> =>
    Object.entries(s.messages.threads).flatMap(([conversationId, t]) => t.ops.map((op) => ({ conversationId, op }))),
  jump: (s: WithMessages): JumpRequest | null => s.messages.jump,
  /** Every image of the loaded history then the pending messages, in the order shown. */
  images: (t: Thread): ConversationImage[] => {
    const out: ConversationImage[] = [];
    for (const list of [t.items, t.pending]) {
      for (const m of list) {
        for (const a of m.attachments) out.push({ messageKey: m.key, senderId: m.sender_id, createdAt: m.created_at, attachment: a });
      }
    }
    return out;
  },
};
