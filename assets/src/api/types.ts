/**
 * Wire types of the Nexus REST API (`/api/v1`), exactly as the server sends them.
 * Field names stay snake_case here; the UI reads them as they are.
 */

export interface User {
  id: string;
  username: string;
  display_name: string;
  is_admin: boolean;
  /** RFC 3339 timestamp. */
  created_at: string;
}

export interface AuthResponse {
  user: User;
  access_token: string;
  token_type: 'Bearer';
  /** Lifetime of `access_token`, in seconds. */
  expires_in: number;
  /** Only present when the request did not ask for the cookie (the web client always does). */
  refresh_token?: string;
}

export type RegistrationMode = 'open' | 'invite' | 'closed';

export interface ServerInfo {
  name: string;
  registration: RegistrationMode;
  version: string;
  /** No account exists yet: the next sign-up creates the administrator, without a code. */
  setup_required?: boolean;
}

export interface RegisterRequest {
  username: string;
  display_name: string;
  password: string;
  invite_code?: string;
}

export interface LoginRequest {
  username: string;
  password: string;
}

export interface UpdateMeRequest {
  display_name?: string;
}

/** RFC 9457 problem details, with the server's stable `code`. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  [extension: string]: unknown;
}

/** Stable error codes the client reacts to. The server may send others. */
export type KnownErrorCode =
  | 'invalid_credentials'
  | 'username_taken'
  | 'validation_failed'
  | 'rate_limited'
  | 'registration_closed'
  | 'invalid_invite'
  | 'account_disabled'
  | 'last_admin'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'message_deleted'
  | 'edit_window_passed'
  | 'delete_window_passed'
  | 'too_many_reactions'
  | 'unavailable';

// ---- messaging (docs/protocol.md) ---------------------------------------------------------

/** A stored message. `seq` numbers a conversation's messages 1, 2, 3, … with no gaps. */
export interface Message {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  body: string;
  /** RFC 3339 timestamp. */
  created_at: string;
  /** The sender's idempotency key, used to match the sender's optimistic bubble. */
  client_id?: string | null;
  /**
   * "text" (the default when absent) or "call": a record the server writes about a call
   * (e.g. "Missed video call"), shown as a small system row rather than a bubble.
   */
  kind?: MessageKind;
  /** Images attached to the message (`[]` when none; absent from servers before attachments). */
  attachments?: Attachment[];
  // Conversation features (absent from servers before them: read as never changed).
  /** The conversation's change number of the last change to this message (0 = never changed). */
  change_seq?: number;
  edited_at?: string | null;
  /** A tombstone: `body` is "", no attachments or reactions; `reply_to` is kept. */
  deleted_at?: string | null;
  deleted_by?: string | null;
  reply_to?: ReplyView | null;
  /** Ordered by first reaction; at most 20 distinct emoji. */
  reactions?: ReactionView[];
  pinned_at?: string | null;
  pinned_by?: string | null;
  /** Members mentioned by `@username` in the body (resolved by the server at send). */
  mentions?: string[];
}

/** What a reply shows of the message it answers. */
export interface ReplyView {
  id: string;
  seq: number;
  sender_id: string;
  /** The original's first line, at most 140 characters ("" when it was deleted). */
  snippet: string;
  deleted: boolean;
  /** How many images the original carries. */
  attachments: number;
}

export interface ReactionView {
  emoji: string;
  count: number;
  user_ids: string[];
}

/** One version of an edited message (`GET …/versions`): version 1 is as sent, the last is current. */
export interface MessageVersion {
  version: number;
  body: string;
  created_at: string;
}

/** `GET /conversations/{id}/changes`: changed messages by change_seq ascending. */
export interface ChangesPage {
  messages: Message[];
  last_change_seq: number;
}

/** `GET /search` filters; `has: "image"` keeps messages with images. */
export interface SearchQuery {
  q: string;
  conversation_id?: string;
  sender_id?: string;
  /** RFC 3339 bounds. */
  after?: string;
  before?: string;
  has?: 'image';
  limit?: number;
  cursor?: string;
}

export interface SearchHit {
  message: Message;
  /** Plain text with the matches between \u0002 and \u0003. */
  snippet: string;
}

export interface SearchPage {
  results: SearchHit[];
  next_cursor: string | null;
}

/** A rendition of an uploaded image: a signed URL and its size. */
export interface Rendition {
  url: string;
  width: number;
  height: number;
}

/**
 * An uploaded image (`POST /uploads`, and each of a message's `attachments`). The URLs are
 * relative, signed and load in a plain `<img>`; `width`/`height` are the upright original's.
 */
export interface Attachment {
  id: string;
  mime: string;
  bytes: number;
  width: number;
  height: number;
  blurhash: string | null;
  url: string;
  /** Fits 1600×1600. */
  preview: Rendition;
  /** Fits 400×400. */
  thumbnail: Rendition;
}

export type MessageKind = 'text' | 'call';

export type ConversationKind = 'direct' | 'group';

export interface Member {
  user: User;
  /** "member" for everyone; group creators and promoted members are "admin". */
  role: string;
}

/** A conversation as the requesting user sees it (`unread_count` and the seqs are theirs). */
export interface Conversation {
  id: string;
  kind: ConversationKind;
  /** Set for groups; a direct conversation is shown as the other member. */
  name: string | null;
  created_at: string;
  last_seq: number;
  last_message: Message | null;
  last_activity_at: string;
  members: Member[];
  unread_count: number;
  read_seq: number;
  delivered_seq: number;
  /** The conversation's change counter (absent from servers before message changes: 0). */
  last_change_seq?: number;
  /** Messages after the read pointer that mention the user. */
  mention_count?: number;
}

export type CreateConversationRequest =
  | { kind: 'direct'; user_id: string }
  | { kind: 'group'; name: string; member_ids: string[] };

/** One member's receipt pointers in a conversation. */
export interface Receipt {
  user_id: string;
  delivered_seq: number;
  read_seq: number;
}

/** `202` answer of `POST /conversations/{id}/messages`. */
export interface MessageAccepted {
  id: string;
  conversation_id: string;
  client_id: string;
  created_at: string;
}

export interface Presence {
  user_id: string;
  online: boolean;
  last_seen: string | null;
}

/** A page of `GET /conversations/{id}/messages`: at most one of the two cursors. */
export interface MessagePageQuery {
  before_seq?: number;
  after_seq?: number;
  /** History around this seq: up to half of `limit` before it, then it and those after (a jump). */
  around_seq?: number;
  /** 1–100, default 50. */
  limit?: number;
}

/** `GET /calls/ice-servers`: STUN/TURN servers for RTCPeerConnection, with short-lived TURN credentials. */
export interface IceServersResponse {
  ice_servers: RTCIceServer[];
  /** Seconds the TURN credentials stay valid. */
  ttl: number;
}
