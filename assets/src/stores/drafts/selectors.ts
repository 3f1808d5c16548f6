import type { ReplyView } from '../../api/types';
import type { DraftsState } from './reducer';

interface WithDrafts {
  drafts: DraftsState;
}

export const draftsSelectors = {
  of: (s: WithDrafts, conversationId: string): string => s.drafts.byConversation[conversationId] ?? '',
  has: (s: WithDrafts, conversationId: string): boolean => !!s.drafts.byConversation[conversationId],
  replyTo: (s: WithDrafts, conversationId: string): ReplyView | null => s.drafts.replyTo[conversationId] ?? null,
  editing: (s: WithDrafts, conversationId: string): string | null => s.drafts.editing[conversationId] ?? null,
};
