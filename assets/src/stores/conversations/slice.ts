import type { StateCreator } from 'zustand';
import type { Conversation, Message, Presence } from '../../api/types';
import type { SessionSlice } from '../session/slice';
import {
  conversationsReducer,
  initialConversationsState,
  type ConversationsAction,
  type ConversationsState,
} from './reducer';

export interface ConversationsSlice {
  conversations: ConversationsState;
  conversationsListRequested(): void;
  conversationsListLoaded(conversations: Conversation[]): void;
  conversationsListFailed(): void;
  conversationsUpserted(conversation: Conversation): void;
  conversationsRemoved(conversationId: string): void;
  conversationsActivated(conversationId: string | null): void;
  conversationsMessageReceived(message: Message): void;
  conversationsMessageQueued(conversationId: string, at: string): void;
  conversationsMessageChanged(message: Message): void;
  conversationsReceipt(r: { conversationId: string; userId: string; deliveredSeq: number; readSeq: number }): void;
  conversationsTyping(conversationId: string, userId: string, active: boolean): void;
  conversationsTypingExpired(): void;
  conversationsPresenceSnapshot(presence: Presence[]): void;
  conversationsPresence(presence: Presence): void;
  conversationsReset(): void;
}

export const createConversationsSlice =
  <S extends ConversationsSlice & SessionSlice>(now: () => number = Date.now): StateCreator<S, [], [], ConversationsSlice> =>
  (set, get) => {
    const dispatch = (action: ConversationsAction) =>
      set((s) => {
        const next = conversationsReducer(s.conversations, action);
        return (next === s.conversations ? s : { conversations: next }) as Partial<S>;
      });
    const myId = () => get().session.user?.id ?? null;
    return {
      conversations: initialConversationsState,
      conversationsListRequested: () => dispatch({ type: 'listRequested' }),
      conversationsListLoaded: (conversations) => dispatch({ type: 'listLoaded', conversations }),
      conversationsListFailed: () => dispatch({ type: 'listFailed' }),
      conversationsUpserted: (conversation) => dispatch({ type: 'upserted', conversation }),
      conversationsRemoved: (conversationId) => dispatch({ type: 'removed', conversationId }),
      conversationsActivated: (conversationId) => dispatch({ type: 'activated', conversationId }),
      conversationsMessageReceived: (message) => dispatch({ type: 'messageReceived', message, myId: myId() }),
      conversationsMessageQueued: (conversationId, at) => dispatch({ type: 'messageQueued', conversationId, at }),
      conversationsMessageChanged: (message) => dispatch({ type: 'messageChanged', message }),
      conversationsReceipt: (r) => dispatch({ type: 'receipt', ...r, myId: myId() }),
      conversationsTyping: (conversationId, userId, active) =>
        dispatch({ type: 'typing', conversationId, userId, active, now: now(), myId: myId() }),
      conversationsTypingExpired: () => dispatch({ type: 'typingExpired', now: now() }),
      conversationsPresenceSnapshot: (presence) => dispatch({ type: 'presenceSnapshot', presence }),
      conversationsPresence: (presence) => dispatch({ type: 'presence', presence }),
      conversationsReset: () => dispatch({ type: 'reset' }),
    };
  };
