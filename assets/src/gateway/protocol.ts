/**
 * The WebSocket protocol of `/api/v1/ws` (docs/protocol.md): one JSON object per text frame,
 * tagged by `type`. These are the wire shapes, snake_case as the server sends them.
 */
import type { Conversation, Message, Presence, User } from '../api/types';

export const WS_PATH = '/api/v1/ws';

/** Close codes the server uses, and what the client does about each (see connection.ts). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  tooBig: 1009,
  idle: 4002,
  tokenExpired: 4003,
  tooSlow: 4008,
  flooding: 4029,
} as const;

/** Longest body a message may have, in characters (Unicode scalar values). */
export const MESSAGE_MAX_CHARS = 4000;

// ---- client → server ----------------------------------------------------------------------

export type ClientEvent =
  | { type: 'message.send'; client_id: string; conversation_id: string; body: string }
  | { type: 'typing.start'; conversation_id: string }
  | { type: 'typing.stop'; conversation_id: string }
  | { type: 'receipt.delivered'; conversation_id: string; seq: number }
  | { type: 'receipt.read'; conversation_id: string; seq: number }
  | { type: 'ping' };

// ---- server → client ----------------------------------------------------------------------

export interface ReadyEvent {
  type: 'ready';
  session_id: string;
  server_time: string;
  user: User;
  presence: Presence[];
}

export interface AckEvent {
  type: 'message.ack';
  client_id: string;
  id: string;
  conversation_id: string;
  created_at: string;
}

export interface MessageNewEvent {
  type: 'message.new';
  message: Message;
}

export interface TypingEvent {
  type: 'typing';
  conversation_id: string;
  user_id: string;
  active: boolean;
}

export interface PresenceEvent extends Presence {
  type: 'presence';
}

export interface ReceiptEvent {
  type: 'receipt';
  conversation_id: string;
  user_id: string;
  delivered_seq: number;
  read_seq: number;
}

export interface ConversationUpdatedEvent {
  type: 'conversation.updated';
  conversation: Conversation;
}

export interface ConversationRemovedEvent {
  type: 'conversation.removed';
  conversation_id: string;
}

export type GatewayErrorCode =
  | 'invalid_frame'
  | 'unknown_type'
  | 'invalid_event'
  | 'validation_failed'
  | 'not_found'
  | 'seq_out_of_range'
  | 'rate_limited'
  | 'delivery_failed'
  | 'unavailable';

export interface ErrorEvent {
  type: 'error';
  /** One of GatewayErrorCode; the server may add codes. */
  code: string;
  message?: string;
  client_id?: string | null;
  retry_after_ms?: number;
}

export interface PongEvent {
  type: 'pong';
}

export type ServerEvent =
  | ReadyEvent
  | AckEvent
  | MessageNewEvent
  | TypingEvent
  | PresenceEvent
  | ReceiptEvent
  | ConversationUpdatedEvent
  | ConversationRemovedEvent
  | ErrorEvent
  | PongEvent;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function isMessage(v: unknown): v is Message {
  return (
    isObject(v) &&
    isString(v.id) &&
    isString(v.conversation_id) &&
    isSeq(v.seq) &&
    isString(v.sender_id) &&
    isString(v.body) &&
    isString(v.created_at)
  );
}

/**
 * Parses one text frame. Returns null for anything that is not a known event with the
 * fields the client relies on: a newer server may send more, and the client ignores it.
 */
export function parseServerEvent(data: unknown): ServerEvent | null {
  if (typeof data !== 'string') return null;
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(v) || !isString(v.type)) return null;
  switch (v.type) {
    case 'ready':
      return isObject(v.user) && isString(v.user.id)
        ? ({ ...v, presence: Array.isArray(v.presence) ? v.presence : [] } as unknown as ReadyEvent)
        : null;
    case 'message.ack':
      return isString(v.client_id) && isString(v.id) && isString(v.conversation_id) ? (v as unknown as AckEvent) : null;
    case 'message.new':
      return isMessage(v.message) ? (v as unknown as MessageNewEvent) : null;
    case 'typing':
      return isString(v.conversation_id) && isString(v.user_id) && typeof v.active === 'boolean'
        ? (v as unknown as TypingEvent)
        : null;
    case 'presence':
      return isString(v.user_id) && typeof v.online === 'boolean' ? (v as unknown as PresenceEvent) : null;
    case 'receipt':
      return isString(v.conversation_id) && isString(v.user_id) && isSeq(v.delivered_seq) && isSeq(v.read_seq)
        ? (v as unknown as ReceiptEvent)
        : null;
    case 'conversation.updated':
      return isObject(v.conversation) && isString(v.conversation.id)
        ? (v as unknown as ConversationUpdatedEvent)
        : null;
    case 'conversation.removed':
      return isString(v.conversation_id) ? (v as unknown as ConversationRemovedEvent) : null;
    case 'error':
      return isString(v.code) ? (v as unknown as ErrorEvent) : null;
    case 'pong':
      return { type: 'pong' };
    default:
      return null;
  }
}

/** Length as the server counts it: Unicode scalar values, not UTF-16 units. */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
