/**
 * Conversations as the user changes them: start a direct chat, create a group, leave one.
 * Each calls the API, then puts the answer in the store (the server's conversation.updated /
 * conversation.removed events, arriving too, go through the same reducers). Each takes the
 * services it needs (features/services.ts) as its first argument.
 */
import { toast } from 'sonner';
import { describeError, type Conversation } from '../../api';
import type { AppServices } from '../services';

export type ConversationServices = Pick<AppServices, 'api' | 'store' | 'gateway' | 'navigation'>;

export async function startDirectChat(s: ConversationServices, userId: string): Promise<Conversation> {
  const c = await s.api.conversations.create({ kind: 'direct', user_id: userId });
  s.store.getState().conversationsUpserted(c);
  s.navigation.open(c.id);
  return c;
}

export async function createGroup(s: ConversationServices, name: string, memberIds: string[]): Promise<Conversation> {
  const c = await s.api.conversations.create({ kind: 'group', name: name.trim(), member_ids: memberIds });
  s.store.getState().conversationsUpserted(c);
  s.navigation.open(c.id);
  return c;
}

export async function leaveConversation(s: ConversationServices, conversationId: string, title: string): Promise<void> {
  const me = s.store.getState().session.user?.id;
  if (!me) return;
  try {
    await s.api.conversations.removeMember(conversationId, me);
  } catch (err) {
    toast.error('Could not leave the group', { description: describeError(err) });
    return;
  }
  s.gateway.forgetConversation(conversationId);
  toast.success(`You left ${title}`);
}
