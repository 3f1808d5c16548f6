/**
 * Conversations as the user changes them: start a direct chat, create a group, leave one.
 * Each calls the API, then puts the answer in the store (the server's conversation.updated /
 * conversation.removed events, arriving too, go through the same reducers).
 */
import { toast } from 'sonner';
import { describeError, type Conversation } from '../../api';
import { api } from '../../app/api';
import { gateway } from '../../app/gateway';
import { navigateTo } from '../../app/route';
import { useAppStore } from '../../stores';

export async function startDirectChat(userId: string): Promise<Conversation> {
  const c = await api.conversations.create({ kind: 'direct', user_id: userId });
  useAppStore.getState().conversationsUpserted(c);
  navigateTo(c.id);
  return c;
}

export async function createGroup(name: string, memberIds: string[]): Promise<Conversation> {
  const c = await api.conversations.create({ kind: 'group', name: name.trim(), member_ids: memberIds });
  useAppStore.getState().conversationsUpserted(c);
  navigateTo(c.id);
  return c;
}

export async function leaveConversation(conversationId: string, title: string): Promise<void> {
  const me = useAppStore.getState().session.user?.id;
  if (!me) return;
  try {
    await api.conversations.removeMember(conversationId, me);
  } catch (err) {
    toast.error('Could not leave the group', { description: describeError(err) });
    return;
  }
  gateway.forgetConversation(conversationId);
  toast.success(`You left ${title}`);
}
