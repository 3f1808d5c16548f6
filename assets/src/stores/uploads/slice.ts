/** The uploads slice in the store: its state and one action per reducer case. */
import type { StateCreator } from 'zustand';
import type { Attachment } from '../../api/types';
import { initialUploadsState, uploadsReducer, type Upload, type UploadsAction, type UploadsState } from './reducer';

export interface UploadsSlice {
  uploads: UploadsState;
  uploadsAdded(upload: Upload): void;
  uploadsProgressed(id: string, loaded: number, total: number): void;
  uploadsFinished(id: string, attachment: Attachment): void;
  uploadsFailed(id: string, error: string): void;
  uploadsSent(conversationId: string, clientId: string): void;
  uploadsRemoved(id: string): void;
  uploadsReset(): void;
}

export const createUploadsSlice =
  <S extends UploadsSlice>(): StateCreator<S, [], [], UploadsSlice> =>
  (set) => {
    const dispatch = (action: UploadsAction) =>
      set((s) => {
        const next = uploadsReducer(s.uploads, action);
        return (next === s.uploads ? s : { uploads: next }) as Partial<S>;
      });
    return {
      uploads: initialUploadsState,
      uploadsAdded: (upload) => dispatch({ type: 'added', upload }),
      uploadsProgressed: (id, loaded, total) => dispatch({ type: 'progressed', id, loaded, total }),
      uploadsFinished: (id, attachment) => dispatch({ type: 'finished', id, attachment }),
      uploadsFailed: (id, error) => dispatch({ type: 'failed', id, error }),
      uploadsSent: (conversationId, clientId) => dispatch({ type: 'sent', conversationId, clientId }),
      uploadsRemoved: (id) => dispatch({ type: 'removed', id }),
      uploadsReset: () => dispatch({ type: 'reset' }),
    };
  };
