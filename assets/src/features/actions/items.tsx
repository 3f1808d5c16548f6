import { Copy, CornerUpLeft, Pencil, Pin, PinOff, Trash2 } from 'lucide-react';
import type { ReactNode } from 'react';
import type { ChatMessage } from '../../stores';
import type { ConversationActions } from './context';
import type { MessageActions } from './permissions';

export interface ActionItem {
  id: string;
  label: string;
  icon: ReactNode;
  tone?: 'danger';
  onSelect(): void;
}

/** The menu of one message: reply, edit, pin or unpin, copy, delete — those it allows. */
export function actionItems(m: ChatMessage, allowed: MessageActions, a: ConversationActions): ActionItem[] {
  const icon = 'size-4';
  const items: ActionItem[] = [];
  if (allowed.reply) items.push({ id: 'reply', label: 'Reply', icon: <CornerUpLeft className={icon} aria-hidden />, onSelect: () => a.reply(m) });
  if (allowed.edit) items.push({ id: 'edit', label: 'Edit', icon: <Pencil className={icon} aria-hidden />, onSelect: () => a.startEdit(m) });
  if (allowed.pin) {
    const pinned = m.pinned_at !== null;
    items.push({
      id: 'pin',
      label: pinned ? 'Unpin' : 'Pin',
      icon: pinned ? <PinOff className={icon} aria-hidden /> : <Pin className={icon} aria-hidden />,
      onSelect: () => a.pin(m, !pinned),
    });
  }
  if (allowed.copy) items.push({ id: 'copy', label: 'Copy text', icon: <Copy className={icon} aria-hidden />, onSelect: () => a.copy(m) });
  if (allowed.delete) items.push({ id: 'delete', label: 'Delete', icon: <Trash2 className={icon} aria-hidden />, tone: 'danger', onSelect: () => a.remove(m) });
  return items;
}
