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

/** Most images one message may carry. */
export const MESSAGE_MAX_ATTACHMENTS = 10;

// ---- client → server ----------------------------------------------------------------------

export type ClientEvent =
  /** `attachments`: 1–10 upload ids (then `body` may be empty); left out when there are none. */
  | { type: 'message.send'; client_id: string; conversation_id: string; body: string; attachments?: string[] }
  | { type: 'typing.start'; conversation_id: string }
  | { type: 'typing.stop'; conversation_id: string }
  | { type: 'receipt.delivered'; conversation_id: string; seq: number }
  | { type: 'receipt.read'; conversation_id: string; seq: number }
  | { type: 'ping' }
  | CallClientEvent;

/** Calls (docs/protocol.md, "Calls"): signaling for 1-on-1 WebRTC calls. */
export type CallMedia = 'audio' | 'video';

/** The trickled candidate as `RTCIceCandidate.toJSON()` gives it; null = end of candidates. */
export interface IceCandidateJson {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
  usernameFragment?: string | null;
}

export type CallClientEvent =
  | { type: 'call.invite'; call_id: string; conversation_id: string; media: CallMedia }
  | { type: 'call.accept'; call_id: string }
  | { type: 'call.reject'; call_id: string }
  | { type: 'call.offer'; call_id: string; sdp: string }
  | { type: 'call.answer'; call_id: string; sdp: string }
  | { type: 'call.ice'; call_id: string; candidate: IceCandidateJson | null }
  | { type: 'call.connected'; call_id: string }
  | { type: 'call.hangup'; call_id: string; reason?: 'hangup' | 'failed' }
  | { type: 'call.rejoin'; call_id: string };

// ---- server → client ----------------------------------------------------------------------

export interface ReadyEvent {
  type: 'ready';
  session_id: string;
  server_time: string;
  user: User;
  presence: Presence[];
  /** The user's current call, if any (absent on servers without calls: then []). */
  calls: CallView[];
}

export type CallState = 'ringing' | 'connecting' | 'active' | 'ended';

export type CallEndReason =
  | 'cancelled'
  | 'declined'
  | 'missed'
  | 'busy'
  | 'hangup'
  | 'failed'
  | 'connection_lost'
  | 'glare'
  | 'answered_elsewhere';

/** A call as the server describes it (in `ready.calls`, `call.ringing` and `call.state`). */
export interface CallView {
  call_id: string;
  conversation_id: string;
  media: CallMedia;
  caller_id: string;
  callee_id: string;
  state: CallState;
  /** Set when the call has ended. The server may add reasons: treat unknown ones as a plain end. */
  reason: string | null;
  /** The device (`session_id` of `ready`) that holds each side; null until the callee accepts. */
  caller_session: string | null;
  callee_session: string | null;
  created_at: string;
  /** When the call became active: the call timer starts here. */
  answered_at: string | null;
  ended_at: string | null;
  /** Only with `reason: "glare"`: the call this device now takes part in, as the callee. */
  replaced_by?: string | null;
}

/** An incoming call, to every device of the callee. */
export interface CallRingingEvent extends CallView {
  type: 'call.ringing';
}

/** Any change of a call, to every device of both participants. */
export interface CallStateEvent extends CallView {
  type: 'call.state';
}

/** SDP relayed from the other device of the call; `from` is the sender's user id. */
export interface CallSdpEvent {
  type: 'call.offer' | 'call.answer';
  call_id: string;
  from: string;
  sdp: string;
}

export interface CallIceEvent {
  type: 'call.ice';
  call_id: string;
  from: string;
  candidate: IceCandidateJson | null;
}

export type CallSignalEvent = CallSdpEvent | CallIceEvent;

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
  | 'unavailable'
  | 'call_not_found'
  | 'call_invalid_state'
  | 'call_exists';

export interface ErrorEvent {
  type: 'error';
  /** One of GatewayErrorCode; the server may add codes. */
  code: string;
  message?: string;
  client_id?: string | null;
  /** The call of the frame that failed, for call.* events. */
  call_id?: string | null;
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
  | PongEvent
  | CallRingingEvent
  | CallStateEvent
  | CallSdpEvent
  | CallIceEvent;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

const CALL_STATES: readonly string[] = ['ringing', 'connecting', 'active', 'ended'];
const isNullableString = (v: unknown): v is string | null | undefined => v === null || v === undefined || isString(v);

/** The fields of a call the client relies on (the rest may be missing or null). */
export function isCallView(v: unknown): v is CallView {
  return (
    isObject(v) &&
    isString(v.call_id) &&
    isString(v.conversation_id) &&
    (v.media === 'audio' || v.media === 'video') &&
    isString(v.caller_id) &&
    isString(v.callee_id) &&
    isString(v.state) &&
    CALL_STATES.includes(v.state) &&
    isNullableString(v.reason) &&
    isNullableString(v.caller_session) &&
    isNullableString(v.callee_session) &&
    isNullableString(v.answered_at) &&
    isNullableString(v.replaced_by)
  );
}

/** Missing optional fields become null, so the rest of the client sees one shape. */
function callView(v: CallView): CallView {
  return {
    ...v,
    reason: v.reason ?? null,
    caller_session: v.caller_session ?? null,
    callee_session: v.callee_session ?? null,
    created_at: v.created_at ?? '',
    answered_at: v.answered_at ?? null,
    ended_at: v.ended_at ?? null,
    replaced_by: v.replaced_by ?? null,
  };
}

function isIceCandidate(v: unknown): v is IceCandidateJson {
  return (
    isObject(v) &&
    isString(v.candidate) &&
    isNullableString(v.sdpMid) &&
    (v.sdpMLineIndex === null || v.sdpMLineIndex === undefined || isSeq(v.sdpMLineIndex)) &&
    isNullableString(v.usernameFragment)
  );
}

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
        ? ({
            ...v,
            presence: Array.isArray(v.presence) ? v.presence : [],
            calls: Array.isArray(v.calls) ? v.calls.filter(isCallView).map(callView) : [],
          } as unknown as ReadyEvent)
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
    case 'call.ringing':
    case 'call.state':
      return isCallView(v) ? ({ ...callView(v), type: v.type } as CallRingingEvent | CallStateEvent) : null;
    case 'call.offer':
    case 'call.answer':
      return isString(v.call_id) && isString(v.sdp) && isNullableString(v.from)
        ? ({ type: v.type, call_id: v.call_id, from: v.from ?? '', sdp: v.sdp } as CallSdpEvent)
        : null;
    case 'call.ice':
      return isString(v.call_id) && (v.candidate === null || isIceCandidate(v.candidate)) && isNullableString(v.from)
        ? ({ type: 'call.ice', call_id: v.call_id, from: v.from ?? '', candidate: v.candidate } as CallIceEvent)
        : null;
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
