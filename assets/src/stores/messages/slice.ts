import type { StateCreator } from 'zustand';
import type { Message, ReplyView } from '../../api/types';
import type { ChangeOp } from './changes';
import {
  initialMessagesState,
  messagesReducer,
  type MessagesAction,
  type MessagesState,
  type ChatAttachment,
  type PageKind,
} from './reducer';

export interface MessagesSlice {
  messages: MessagesState;
  messagesLatestRequested(conversationId: string): void;
  messagesOlderRequested(conversationId: string): void;
  messagesPageLoaded(conversationId: string, kind: PageKind, messages: Message[]): void;
  messagesPageFailed(conversationId: string, kind: PageKind): void;
  messagesQueued(m: {
    conversationId: string;
    clientId: string;
    senderId: string;
    body: string;
    createdAt: string;
    attachments?: ChatAttachment[];
    replyTo?: ReplyView | null;
  }): void;
  messagesAttachmentUploaded(conversationId: string, clientId: string, key: string, id: string): void;
  messagesAcked(conversationId: string, clientId: string, id: string, createdAt: string): void;
  messagesReceived(message: Message): void;
  messagesFailed(conversationId: string, clientId: string, error: string): void;
  messagesRetried(conversationId: string, clientId: string): void;
  messagesDiscarded(conversationId: string, clientId: string): void;
  messagesConversationRemoved(conversationId: string): void;
  messagesHoleRequested(conversationId: string): void;
  messagesChanged(conversationId: string, message: Message): void;
  messagesChangesLoaded(conversationId: string, messages: Message[], lastChangeSeq: number, done: boolean): void;
  messagesChangeSynced(conversationId: string, changeSeq: number): void;
  messagesOpStarted(conversationId: string, op: ChangeOp): void;
  messagesOpEnded(conversationId: string, clientId: string, message?: Message): void;
  messagesJumpRequested(conversationId: string, seq: number): void;
  messagesJumpHandled(nonce: number): void;
  messagesReset(): void;
}

export const createMessagesSlice =
  <S extends MessagesSlice>(): StateCreator<S, [], [], MessagesSlice> =>
  (set) => {
    const dispatch = (action: MessagesAction) =>
      set((s) => {
        const next = messagesReducer(s.messages, action);
        return (next === s.messages ? s : { messages: next }) as Partial<S>;
      });
    return {
      messages: initialMessagesState,
      messagesLatestRequested: (conversationId) => dispatch({ type: 'latestRequested', conversationId }),
      messagesOlderRequested: (conversationId) => dispatch({ type: 'olderRequested', conversationId }),
      messagesPageLoaded: (conversationId, kind, messages) =>
        dispatch({ type: 'pageLoaded', conversationId, kind, messages }),
      messagesPageFailed: (conversationId, kind) => dispatch({ type: 'pageFailed', conversationId, kind }),
      messagesQueued: (m) => dispatch({ type: 'queued', ...m }),
      messagesAcked: (conversationId, clientId, id, createdAt) =>
        dispatch({ type: 'acked', conversationId, clientId, id, createdAt }),
      messagesAttachmentUploaded: (conversationId, clientId, key, id) =>
        dispatch({ type: 'attachmentUploaded', conversationId, clientId, key, id }),
      messagesReceived: (message) => dispatch({ type: 'received', message }),
      messagesFailed: (conversationId, clientId, error) => dispatch({ type: 'failed', conversationId, clientId, error }),
      messagesRetried: (conversationId, clientId) => dispatch({ type: 'retried', conversationId, clientId }),
      messagesDiscarded: (conversationId, clientId) => dispatch({ type: 'discarded', conversationId, clientId }),
      messagesConversationRemoved: (conversationId) => dispatch({ type: 'conversationRemoved', conversationId }),
      messagesHoleRequested: (conversationId) => dispatch({ type: 'holeRequested', conversationId }),
      messagesChanged: (conversationId, message) => dispatch({ type: 'changed', conversationId, message }),
      messagesChangesLoaded: (conversationId, messages, lastChangeSeq, done) =>
        dispatch({ type: 'changesLoaded', conversationId, messages, lastChangeSeq, done }),
      messagesChangeSynced: (conversationId, changeSeq) => dispatch({ type: 'changeSynced', conversationId, changeSeq }),
      messagesOpStarted: (conversationId, op) => dispatch({ type: 'opStarted', conversationId, op }),
      messagesOpEnded: (conversationId, clientId, message) => dispatch({ type: 'opEnded', conversationId, clientId, message }),
      messagesJumpRequested: (conversationId, seq) => dispatch({ type: 'jumpRequested', conversationId, seq }),
      messagesJumpHandled: (nonce) => dispatch({ type: 'jumpHandled', nonce }),
      messagesReset: () => dispatch({ type: 'reset' }),
    };
  };
