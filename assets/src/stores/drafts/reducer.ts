/**
 * Drafts slice: what the user has typed but not sent, per conversation. An empty draft is
 * no draft (its key is dropped), so nothing lingers in storage for conversations left empty.
 */
export interface DraftsState {
  byConversation: Record<string, string>;
}

export const initialDraftsState: DraftsState = { byConversation: {} };

export type DraftsAction =
  | { type: 'changed'; conversationId: string; text: string }
  | { type: 'restored'; drafts: Record<string, string> }
  | { type: 'reset' };

export function draftsReducer(state: DraftsState, action: DraftsAction): DraftsState {
  switch (action.type) {
    case 'changed': {
      const old = state.byConversation[action.conversationId] ?? '';
      if (old === action.text) return state;
      const byConversation = { ...state.byConversation };
      if (action.text) byConversation[action.conversationId] = action.text;
      else delete byConversation[action.conversationId];
      return { byConversation };
    }
    case 'restored': {
      const kept = Object.entries(action.drafts).filter(([, text]) => text);
      if (kept.length === 0) return state;
      // What is typed in this tab wins over what storage remembers.
      return { byConversation: { ...Object.fromEntries(kept), ...state.byConversation } };
    }
    case 'reset':
      return Object.keys(state.byConversation).length ? initialDraftsState : state;
  }
}
