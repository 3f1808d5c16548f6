/**
 * Which actions a message offers this user (docs/protocol.md, "Conversation features"):
 * the server decides in the end (an edit past its window is refused with
 * `edit_window_passed`); this only hides what it would refuse anyway.
 */
import type { Conversation } from '../../api';
import type { ChatMessage } from '../../stores';

export interface MessageActions {
  reply: boolean;
  react: boolean;
  /** The author only. */
  edit: boolean;
  /** The author, or a group admin (any message). */
  delete: boolean;
  /** Group admins; anyone in a direct chat. */
  pin: boolean;
  copy: boolean;
}

export const NO_ACTIONS: MessageActions = { reply: false, react: false, edit: false, delete: false, pin: false, copy: false };

export function isAdmin(c: Pick<Conversation, 'kind' | 'members'>, myId: string | null): boolean {
  return c.kind === 'group' && c.members.some((m) => m.user.id === myId && m.role === 'admin');
}

export function messageActions(m: ChatMessage, c: Pick<Conversation, 'kind' | 'members'>, myId: string | null): MessageActions {
  // Not stored yet, a call record, or a tombstone: nothing to act on.
  if (m.status !== 'stored' || m.id === null || m.kind === 'call' || m.deleted_at !== null || !myId) return NO_ACTIONS;
  const own = m.sender_id === myId;
  const admin = isAdmin(c, myId);
  return {
    reply: true,
    react: true,
    edit: own,
    delete: own || admin,
    pin: c.kind === 'direct' || admin,
    copy: m.body.length > 0,
  };
}
