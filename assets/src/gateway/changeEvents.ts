/**
 * The wire of message changes (docs/protocol.md, "Conversation features"): what the client
 * asks (edit, delete, react, pin — each answered by `change.ack` or an `error` with its
 * client_id) and what every member's devices hear (`message.updated`, `message.deleted`,
 * `message.reaction`). Each server event carries the message's current state; its
 * `change_seq` is the conversation's new change number.
 */
import type { Message } from '../api/types';
import { normalizeMessage } from '../api/messageView';

export type ChangeClientEvent =
  /** The author only, within the server's edit window. A retry with the same client_id changes nothing more. */
  | { type: 'message.edit'; client_id: string; conversation_id: string; message_id: string; body: string }
  /** The author, or a group admin. Deleting a deleted message is acked with the tombstone. */
  | { type: 'message.delete'; client_id: string; conversation_id: string; message_id: string }
  /** Any member; set semantics (the client toggles by sending `on: !mine`). */
  | { type: 'reaction.set'; client_id: string; conversation_id: string; message_id: string; emoji: string; on: boolean }
  /** Group admins; any member in a direct chat. */
  | { type: 'message.pin'; client_id: string; conversation_id: string; message_id: string; pinned: boolean };

export interface ChangeAckEvent {
  type: 'change.ack';
  client_id: string;
  message: Message;
}

export type UpdateKind = 'edited' | 'pinned' | 'unpinned';

export interface MessageUpdatedEvent {
  type: 'message.updated';
  message: Message;
  /** One of UpdateKind; the server may add kinds. */
  change: string;
  by: string;
}

export interface MessageDeletedEvent {
  type: 'message.deleted';
  /** The tombstone. */
  message: Message;
  by: string;
}

export interface MessageReactionEvent {
  type: 'message.reaction';
  message: Message;
  by: string;
  emoji: string;
  on: boolean;
}

/** A change of a stored message, to every member's devices (the actor's too). */
export type MessageChangeEvent = MessageUpdatedEvent | MessageDeletedEvent | MessageReactionEvent;

export type ChangeServerEvent = ChangeAckEvent | MessageChangeEvent;

export const CHANGE_EVENT_TYPES: readonly string[] = ['change.ack', 'message.updated', 'message.deleted', 'message.reaction'];

export type ChangeErrorCode = 'forbidden' | 'message_deleted' | 'edit_window_passed' | 'delete_window_passed' | 'too_many_reactions';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';

/** The fields of a message the client relies on. */
export function isMessage(v: unknown): v is Message {
  return (
    isObject(v) &&
    isString(v.id) &&
    isString(v.conversation_id) &&
    typeof v.seq === 'number' &&
    Number.isInteger(v.seq) &&
    v.seq >= 0 &&
    isString(v.sender_id) &&
    isString(v.body) &&
    isString(v.created_at)
  );
}

/** One of the change events (by `type`, already a JSON object), or null when it lacks what the client needs. */
export function parseChangeEvent(v: Record<string, unknown>): ChangeServerEvent | null {
  if (!isMessage(v.message)) return null;
  const message = normalizeMessage(v.message);
  const by = isString(v.by) ? v.by : '';
  switch (v.type) {
    case 'change.ack':
      return isString(v.client_id) ? { type: 'change.ack', client_id: v.client_id, message } : null;
    case 'message.updated':
      return { type: 'message.updated', message, change: isString(v.change) ? v.change : 'edited', by };
    case 'message.deleted':
      return { type: 'message.deleted', message, by };
    case 'message.reaction':
      return isString(v.emoji) && typeof v.on === 'boolean' ? { type: 'message.reaction', message, by, emoji: v.emoji, on: v.on } : null;
    default:
      return null;
  }
}
