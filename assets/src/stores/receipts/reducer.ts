/**
 * Receipts slice: per conversation, each member's `delivered_seq` and `read_seq` — pointers,
 * not rows per message. They only move forward (max wins), and reading implies delivery.
 * The user's own optimistic read and the server's `receipt` event go through the same
 * `received` action.
 */
import type { Receipt } from '../../api/types';

export interface Pointers {
  delivered_seq: number;
  read_seq: number;
}

export interface ReceiptsState {
  /** conversation id → user id → pointers. */
  byConversation: Record<string, Record<string, Pointers>>;
}

export const initialReceiptsState: ReceiptsState = { byConversation: {} };

export type ReceiptsAction =
  | { type: 'loaded'; conversationId: string; receipts: Receipt[] }
  | { type: 'received'; conversationId: string; receipt: Receipt }
  | { type: 'conversationRemoved'; conversationId: string }
  | { type: 'reset' };

export function receiptsReducer(state: ReceiptsState, action: ReceiptsAction): ReceiptsState {
  switch (action.type) {
    case 'loaded':
      return action.receipts.reduce((s, r) => apply(s, action.conversationId, r), state);
    case 'received':
      return apply(state, action.conversationId, action.receipt);
    case 'conversationRemoved': {
      if (!(action.conversationId in state.byConversation)) return state;
      const byConversation = { ...state.byConversation };
      delete byConversation[action.conversationId];
      return { byConversation };
    }
    case 'reset':
      return initialReceiptsState;
  }
}

function apply(state: ReceiptsState, conversationId: string, r: Receipt): ReceiptsState {
  const here = state.byConversation[conversationId] ?? {};
  const old = here[r.user_id] ?? { delivered_seq: 0, read_seq: 0 };
  const read_seq = Math.max(old.read_seq, r.read_seq);
  const delivered_seq = Math.max(old.delivered_seq, r.delivered_seq, read_seq);
  if (read_seq === old.read_seq && delivered_seq === old.delivered_seq && here[r.user_id]) return state;
  return {
    byConversation: {
      ...state.byConversation,
      [conversationId]: { ...here, [r.user_id]: { delivered_seq, read_seq } },
    },
  };
}
