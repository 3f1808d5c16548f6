/**
 * The WebSocket protocol of `/api/v1/ws` (docs/protocol.md): one JSON object per text frame,
 * tagged by `type`. These are the wire shapes, snake_case as the server sends them.
 */
import type { Conversation, Message, Presence, User } from '../api/types';
import { normalizeMessage } from '../api/messageView';
import { CHANGE_EVENT_TYPES, isMessage, parseChangeEvent, type ChangeClientEvent, type ChangeServerEvent } from './changeEvents';

export type * from './changeEvents';

export const WS_PATH = '/api/v1/ws';

/** Close codes the server uses, and what the client does about each (see connection.ts). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  tooBig: 1009,
  idle: 4002,
  tokenExpired: 4003,
  tooSlow: 4008,
  /** An administrator disabled the account: the session is over. */
  accountDisabled: 4010,
  flooding: 4029,
} as const;

/** Longest body a message may have, in characters (Unicode scalar values). */
export const MESSAGE_MAX_CHARS = 4000;

/** Most images one message may carry. */
export const MESSAGE_MAX_ATTACHMENTS = 10;

// ---- client → server ----------------------------------------------------------------------

export type ClientEvent =
  /**
   * `attachments`: 1–10 upload ids (then `body` may be empty); left out when there are none.
   * `reply_to`: a message of the same conversation, not deleted; left out when not a reply.
   */
  | { type: 'message.send'; client_id: string; conversation_id: string; body: string; attachments?: string[]; reply_to?: string }
  | { type: 'typing.start'; conversation_id: string }
  | { type: 'typing.stop'; conversation_id: string }
  | { type: 'receipt.delivered'; conversation_id: string; seq: number }
  | { type: 'receipt.read'; conversation_id: string; seq: number }
  | { type: 'ping' }
  | ChangeClientEvent
  | CallClientEvent
  | RoomClientEvent;

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

/**
 * Group calls (docs/protocol.md, "Group calls"): one peer connection per participant to the
 * server's SFU; only the client offers.
 */
export type RoomSource = 'microphone' | 'camera' | 'screen';

/** A send track of ours, by the mid of its transceiver. */
export interface RoomTrack {
  mid: string;
  source: RoomSource;
}

/** The size at which a remote video is shown, in CSS pixels (0×0: hidden). */
export interface RoomTile {
  user_id: string;
  source: 'camera' | 'screen';
  width: number;
  height: number;
}

export type RoomClientEvent =
  | { type: 'room.join'; conversation_id: string }
  | { type: 'room.offer'; conversation_id: string; sdp: string; tracks: RoomTrack[] }
  | { type: 'room.mute'; conversation_id: string; source: 'microphone' | 'camera'; muted: boolean }
  | { type: 'room.view'; conversation_id: string; tiles: RoomTile[] }
  | { type: 'room.leave'; conversation_id: string };

// ---- server → client ----------------------------------------------------------------------

export interface ReadyEvent {
  type: 'ready';
  session_id: string;
  server_time: string;
  user: User;
  presence: Presence[];
  /** The user's current call, if any (absent on servers without calls: then []). */
  calls: CallView[];
  /** The live rooms of the user's group conversations (absent on servers without them: then []). */
  rooms: RoomView[];
}

export interface RoomParticipant {
  user_id: string;
  joined_at: string;
  audio_muted: boolean;
  video_muted: boolean;
  screen_sharing: boolean;
}

/** A group call as the server describes it (`ready.rooms`, `room.state`, `room.joined`). */
export interface RoomView {
  conversation_id: string;
  room_id: string;
  started_at: string;
  /** Empty: the call ended. */
  participants: RoomParticipant[];
}

/** Which remote track a recvonly transceiver (by mid) carries now. */
export interface RoomSlot {
  mid: string;
  user_id: string;
  source: RoomSource;
}

export interface RoomSpeaker {
  user_id: string;
  /** 0–1, smoothed. */
  level: number;
}

export type RoomLeftReason = 'left' | 'joined_elsewhere' | 'failed' | 'disconnected' | 'node_lost' | 'removed';

/** Any change of a room, to every member of its conversation. */
export interface RoomStateEvent {
  type: 'room.state';
  room: RoomView;
}

export interface RoomJoinedEvent {
  type: 'room.joined';
  room: RoomView;
  /** The cap of the camera's top simulcast layer. */
  max_video_kbps: number;
}

export interface RoomAnswerEvent {
  type: 'room.answer';
  conversation_id: string;
  sdp: string;
  slots: RoomSlot[];
}

export interface RoomSlotsEvent {
  type: 'room.slots';
  conversation_id: string;
  slots: RoomSlot[];
}

/** The totals of recvonly slots of each kind the server wants. */
export interface RoomRenegotiateEvent {
  type: 'room.renegotiate';
  conversation_id: string;
  audio: number;
  video: number;
}

export interface RoomSpeakersEvent {
  type: 'room.speakers';
  conversation_id: string;
  speakers: RoomSpeaker[];
}

export interface RoomLeftEvent {
  type: 'room.left';
  conversation_id: string;
  /** One of RoomLeftReason; the server may add reasons. */
  reason: string;
}

/** What the room controller hears (everything but `room.state`, which goes to the store). */
export type RoomSignalEvent = RoomJoinedEvent | RoomAnswerEvent | RoomSlotsEvent | RoomRenegotiateEvent | RoomSpeakersEvent | RoomLeftEvent;

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
  | 'call_exists'
  | 'room_full'
  | 'already_in_call'
  | 'room_not_joined'
  | 'invalid_sdp'
  | 'forbidden'
  | 'message_deleted'
  | 'edit_window_passed'
  | 'delete_window_passed'
  | 'too_many_reactions';

export interface ErrorEvent {
  type: 'error';
  /** One of GatewayErrorCode; the server may add codes. */
  code: string;
  message?: string;
  client_id?: string | null;
  /** The call of the frame that failed, for call.* events. */
  call_id?: string | null;
  /** The room of the frame that failed, for room.* events. */
  conversation_id?: string | null;
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
  | CallIceEvent
  | RoomStateEvent
  | RoomSignalEvent
  | ChangeServerEvent;

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

const ROOM_SOURCES: readonly string[] = ['microphone', 'camera', 'screen'];
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1024;

function isRoomParticipant(v: unknown): v is RoomParticipant {
  return isObject(v) && isString(v.user_id);
}

/** The fields of a room the client relies on; flags that are missing read as false. */
export function isRoomView(v: unknown): v is RoomView {
  return isObject(v) && isString(v.conversation_id) && Array.isArray(v.participants);
}

function roomView(v: RoomView): RoomView {
  return {
    conversation_id: v.conversation_id,
    room_id: isString(v.room_id) ? v.room_id : '',
    started_at: isString(v.started_at) ? v.started_at : '',
    participants: v.participants.filter(isRoomParticipant).map((p) => ({
      user_id: p.user_id,
      joined_at: isString(p.joined_at) ? p.joined_at : '',
      audio_muted: p.audio_muted === true,
      video_muted: p.video_muted === true,
      screen_sharing: p.screen_sharing === true,
    })),
  };
}

/** The slots the client can use: a mid, a user and a known source each. */
function roomSlots(v: unknown): RoomSlot[] | null {
  if (!Array.isArray(v)) return null;
  return v
    .filter((s): s is RoomSlot => isObject(s) && isString(s.mid) && isString(s.user_id) && isString(s.source) && ROOM_SOURCES.includes(s.source))
    .map((s) => ({ mid: s.mid, user_id: s.user_id, source: s.source }));
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
            rooms: Array.isArray(v.rooms) ? v.rooms.filter(isRoomView).map(roomView) : [],
          } as unknown as ReadyEvent)
        : null;
    case 'message.ack':
      return isString(v.client_id) && isString(v.id) && isString(v.conversation_id) ? (v as unknown as AckEvent) : null;
    case 'message.new':
      return isMessage(v.message) ? { type: 'message.new', message: normalizeMessage(v.message) } : null;
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
    case 'room.state':
      return isRoomView(v.room) ? { type: 'room.state', room: roomView(v.room) } : null;
    case 'room.joined':
      return isRoomView(v.room)
        ? { type: 'room.joined', room: roomView(v.room), max_video_kbps: typeof v.max_video_kbps === 'number' && v.max_video_kbps > 0 ? v.max_video_kbps : 0 }
        : null;
    case 'room.answer': {
      const slots = v.slots === undefined ? [] : roomSlots(v.slots);
      return isString(v.conversation_id) && isString(v.sdp) && slots ? { type: 'room.answer', conversation_id: v.conversation_id, sdp: v.sdp, slots } : null;
    }
    case 'room.slots': {
      const slots = roomSlots(v.slots);
      return isString(v.conversation_id) && slots ? { type: 'room.slots', conversation_id: v.conversation_id, slots } : null;
    }
    case 'room.renegotiate':
      return isString(v.conversation_id) && isCount(v.audio) && isCount(v.video)
        ? { type: 'room.renegotiate', conversation_id: v.conversation_id, audio: v.audio, video: v.video }
        : null;
    case 'room.speakers':
      return isString(v.conversation_id) && Array.isArray(v.speakers)
        ? {
            type: 'room.speakers',
            conversation_id: v.conversation_id,
            speakers: v.speakers
              .filter((x): x is RoomSpeaker => isObject(x) && isString(x.user_id) && typeof x.level === 'number' && Number.isFinite(x.level))
              .map((x) => ({ user_id: x.user_id, level: Math.min(1, Math.max(0, x.level)) })),
          }
        : null;
    case 'room.left':
      return isString(v.conversation_id) ? { type: 'room.left', conversation_id: v.conversation_id, reason: isString(v.reason) ? v.reason : 'left' } : null;
    default:
      return CHANGE_EVENT_TYPES.includes(v.type) ? parseChangeEvent(v) : null;
  }
}

/** Length as the server counts it: Unicode scalar values, not UTF-16 units. */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
