/**
 * Drafts slice: what the user has typed but not sent, per conversation. An empty draft is
 * no draft (its key is dropped), so nothing lingers in storage for conversations left empty.
 * Beside the text: the message being answered (the reply preview above the composer) and
 * the message being edited in its bubble, one of each per conversation (not stored).
 */
import type { ReplyView } from '../../api/types';

export interface DraftsState {
  byConversation: Record<string, string>;
  replyTo: Record<string, ReplyView>;
  /** conversation id → id of the own message being edited. */
  editing: Record<string, string>;
}

export const initialDraftsState: DraftsState = { byConversation: {}, replyTo: {}, editing: {} };

export type DraftsAction =
  | { type: 'changed'; conversationId: string; text: string }
  | { type: 'restored'; drafts: Record<string, string> }
  | { type: 'replySet'; conversationId: string; reply: ReplyView | null }
  | { type: 'editSet'; conversationId: string; messageId: string | null }
  | { type: 'reset' };

function withKey<T>(map: Record<string, T>, key: string, value: T | null): Record<string, T> {
  if (value === null) {
    if (!(key in map)) return map;
    const next = { ...map };
    delete next[key];
    return next;
  }
  return map[key] === value ? map : { ...map, [key]: value };
}

export function draftsReducer(state: DraftsState, action: DraftsAction): DraftsState {
  switch (action.type) {
    case 'changed': {
      const old = state.byConversation[action.conversationId] ?? '';
      if (old === action.text) return state;
      return { ...state, byConversation: withKey(state.byConversation, action.conversationId, action.text || null) };
    }
    case 'restored': {
      const kept = Object.entries(action.drafts).filter(([, text]) => text);
      if (kept.length === 0) return state;
      // What is typed in this tab wins over what storage remembers.
      return { ...state, byConversation: { ...Object.fromEntries(kept), ...state.byConversation } };
    }
    case 'replySet': {
      const replyTo = withKey(state.replyTo, action.conversationId, action.reply);
      return replyTo === state.replyTo ? state : { ...state, replyTo };
    }
    case 'editSet': {
      const editing = withKey(state.editing, action.conversationId, action.messageId);
      return editing === state.editing ? state : { ...state, editing };
    }
    case 'reset':
      return Object.keys(state.byConversation).length || Object.keys(state.replyTo).length || Object.keys(state.editing).length
        ? initialDraftsState
        : state;
  }
}
