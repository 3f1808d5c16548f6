import type { DraftsState } from './reducer';

interface WithDrafts {
  drafts: DraftsState;
}

export const draftsSelectors = {
  of: (s: WithDrafts, conversationId: string): string => s.drafts.byConversation[conversationId] ?? '',
  has: (s: WithDrafts, conversationId: string): boolean => !!s.drafts.byConversation[conversationId],
};
