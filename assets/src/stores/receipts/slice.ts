import type { StateCreator } from 'zustand';
import type { Receipt } from '../../api/types';
import { initialReceiptsState, receiptsReducer, type ReceiptsAction, type ReceiptsState } from './reducer';

export interface ReceiptsSlice {
  receipts: ReceiptsState;
  receiptsLoaded(conversationId: string, receipts: Receipt[]): void;
  receiptsReceived(conversationId: string, receipt: Receipt): void;
  receiptsConversationRemoved(conversationId: string): void;
  receiptsReset(): void;
}

export const createReceiptsSlice =
  <S extends ReceiptsSlice>(): StateCreator<S, [], [], ReceiptsSlice> =>
  (set) => {
    const dispatch = (action: ReceiptsAction) =>
      set((s) => {
        const next = receiptsReducer(s.receipts, action);
        return (next === s.receipts ? s : { receipts: next }) as Partial<S>;
      });
    return {
      receipts: initialReceiptsState,
      receiptsLoaded: (conversationId, receipts) => dispatch({ type: 'loaded', conversationId, receipts }),
      receiptsReceived: (conversationId, receipt) => dispatch({ type: 'received', conversationId, receipt }),
      receiptsConversationRemoved: (conversationId) => dispatch({ type: 'conversationRemoved', conversationId }),
      receiptsReset: () => dispatch({ type: 'reset' }),
    };
  };
