import type { StateCreator } from 'zustand';
import type { ReplyView } from '../../api/types';
import type { SessionSlice } from '../session/slice';
import { draftsReducer, initialDraftsState, type DraftsAction, type DraftsState } from './reducer';
import { clearDrafts, readDrafts, writeDraft, type DraftStorage } from './storage';

export interface DraftsSlice {
  drafts: DraftsState;
  draftChanged(conversationId: string, text: string): void;
  /** The message the next one answers (null: none). */
  draftReplySet(conversationId: string, reply: ReplyView | null): void;
  /** The own message being edited in its bubble (null: none). */
  draftEditSet(conversationId: string, messageId: string | null): void;
  /** Loads the signed-in user's drafts kept by this tab. */
  draftsRestore(): void;
  /** Forgets every draft, in memory and in storage (sign-out). */
  draftsReset(): void;
}

export const createDraftsSlice =
  <S extends DraftsSlice & SessionSlice>(storage: () => DraftStorage | null): StateCreator<S, [], [], DraftsSlice> =>
  (set, get) => {
    const dispatch = (action: DraftsAction) =>
      set((s) => {
        const next = draftsReducer(s.drafts, action);
        return (next === s.drafts ? s : { drafts: next }) as Partial<S>;
      });
    return {
      drafts: initialDraftsState,
      draftChanged: (conversationId, text) => {
        dispatch({ type: 'changed', conversationId, text });
        const userId = get().session.user?.id;
        if (userId) writeDraft(storage(), userId, conversationId, text);
      },
      draftReplySet: (conversationId, reply) => dispatch({ type: 'replySet', conversationId, reply }),
      draftEditSet: (conversationId, messageId) => dispatch({ type: 'editSet', conversationId, messageId }),
      draftsRestore: () => {
        const userId = get().session.user?.id;
        if (userId) dispatch({ type: 'restored', drafts: readDrafts(storage(), userId) });
      },
      draftsReset: () => {
        dispatch({ type: 'reset' });
        clearDrafts(storage());
      },
    };
  };
