/**
 * The gateway client: the one place where the server's real-time events meet the store.
 *
 * It owns the connection (connection.ts) and turns each server event into slice actions —
 * the same reducers that applied the optimistic change apply the server's event. Beside
 * that it keeps what must survive a dropped socket:
 *
 * - The outbox: own messages still `pending` in the messages slice. Each is sent with its
 *   client_id once the socket is ready; it fails after 10 s without an ack; after a drop it
 *   is sent again (same client_id, so the server never makes a second message).
 * - Catch-up: on every `ready`, and whenever a conversation shows a gap, each loaded
 *   conversation fetches `GET …/messages?after_seq=<synced seq>` page by page. The reducer
 *   dedupes by seq, id and client_id, so a message seen twice is shown once.
 * - Receipts it sends: `receipt.delivered` for what arrived, `receipt.read` for what the
 *   open conversation showed; both only forward, throttled, and re-sent after a reconnect.
 * - Typing it sends: `typing.start` at most every 3 s, `typing.stop` when done.
 * - Calls: `call.ringing`/`call.state` go to the calls slice; on `ready` a call this device
 *   held is rejoined (`call.rejoin`); the SDP/ICE relay and call errors go to the call
 *   controller (features/calls/controller.ts) through `onCallEvent`.
 * - Group calls: `ready.rooms` and `room.state` go to the rooms slice; the other room.*
 *   events and room errors (those with a `conversation_id`) go to the room controller
 *   (features/rooms/controller.ts) through `onRoomEvent`.
 * - Message changes (edit, delete, reactions, pins), their catch-up and jumps: `changes`
 *   (changes.ts).
 */
import type { Conversation, Message, ReplyView } from '../api/types';
import { MAX_PAGE_LIMIT } from '../api/endpoints';
import type { NexusApi } from '../api/endpoints';
import { isApiError } from '../api/errors';
import type { AppStore, ChatAttachment } from '../stores';
import { conversationsSelectors } from '../stores/conversations/selectors';
import { messagesSelectors } from '../stores/messages/selectors';
import { ChangeSync, type ChangesRestApi } from './changes';
import { GatewayConnection, realTimers, type ConnectionOptions, type Timers } from './connection';
import type { CallSignalEvent, ErrorEvent, RoomSignalEvent, ServerEvent } from './protocol';

/** What the call controller hears from the gateway: the relayed signaling and call errors. */
export type CallGatewayEvent = CallSignalEvent | (ErrorEvent & { call_id: string });

/** What the room controller hears: the room.* events but `room.state`, and room errors. */
export type RoomGatewayEvent = RoomSignalEvent | (ErrorEvent & { conversation_id: string });

export const SEND_TIMEOUT_MS = 10_000;
export const TYPING_THROTTLE_MS = 3_000;
export const READ_THROTTLE_MS = 1_000;
export const DELIVERED_DEBOUNCE_MS = 250;
export const LATEST_PAGE = 50;
export const OLDER_PAGE = MAX_PAGE_LIMIT;
/** Catch-up stops after this many pages in one go (100 × 100 = 10,000 messages); the next gap or reconnect resumes it. */
export const MAX_CATCH_UP_PAGES = 100;

export type ConversationApi = Pick<NexusApi['conversations'], 'list' | 'get' | 'messages' | 'receipts'>;

export interface GatewayClientOptions {
  store: AppStore;
  api: ConversationApi;
  /** Edits, deletions, reactions, pins and their catch-up; absent: the server has none. */
  changesApi?: ChangesRestApi;
  /** Socket plumbing; the client supplies the token and the event handlers. */
  socket: Omit<ConnectionOptions, 'getToken' | 'onEvent' | 'onStatus' | 'onDown' | 'timers' | 'now'>;
  timers?: Timers;
  now?: () => number;
  newClientId?: () => string;
}

export class GatewayClient {
  private readonly store: AppStore;
  private readonly api: ConversationApi;
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly newClientId: () => string;
  readonly connection: GatewayConnection;
  readonly changes: ChangeSync;

  private started = false;
  /** client_id → send-timeout timer, for messages written to the current socket. */
  private readonly inFlight = new Map<string, unknown>();
  private readonly catchingUp = new Set<string>();
  private readonly catchUpAgain = new Set<string>();
  private readonly fetchingConversation = new Set<string>();
  private readonly wantRead = new Map<string, number>();
  private readonly readSentAt = new Map<string, number>();
  private readonly readTimers = new Map<string, unknown>();
  private readonly wantDelivered = new Map<string, number>();
  private deliveredTimer: unknown = null;
  private readonly typingSentAt = new Map<string, number>();
  private typingPruneTimer: unknown = null;
  private typingPruneAt = Infinity;
  private readonly callListeners = new Set<(e: CallGatewayEvent) => void>();
  private readonly roomListeners = new Set<(e: RoomGatewayEvent) => void>();
  private readonly messageListeners = new Set<(m: Message) => void>();

  constructor(options: GatewayClientOptions) {
    this.store = options.store;
    this.api = options.api;
    this.timers = options.timers ?? realTimers;
    this.now = options.now ?? Date.now;
    this.newClientId = options.newClientId ?? uuid;
    this.connection = new GatewayConnection({
      ...options.socket,
      timers: this.timers,
      now: this.now,
      getToken: () => this.store.getState().session.accessToken,
      onEvent: (e) => this.handle(e),
      onStatus: (status, info) => this.store.getState().connectionChanged(status, info),
      onDown: () => this.socketDown(),
    });
    this.changes = new ChangeSync({
      store: this.store,
      changesApi: options.changesApi,
      historyApi: this.api,
      connection: this.connection,
      timers: this.timers,
      newClientId: this.newClientId,
      running: () => this.started,
    });
  }

  private get state() {
    return this.store.getState();
  }

  private get myId(): string | null {
    return this.state.session.user?.id ?? null;
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  start(): void {
    if (this.started) return;
    this.started = true;
    this.state.draftsRestore();
    void this.refreshConversations();
    this.connection.start();
    const active = this.state.conversations.activeId;
    if (active) this.open(active);
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    this.connection.stop();
    this.socketDown();
    this.changes.stop();
    for (const t of this.readTimers.values()) this.timers.clearTimeout(t);
    this.readTimers.clear();
    if (this.deliveredTimer !== null) this.timers.clearTimeout(this.deliveredTimer);
    this.deliveredTimer = null;
    if (this.typingPruneTimer !== null) this.timers.clearTimeout(this.typingPruneTimer);
    this.typingPruneTimer = null;
    this.typingPruneAt = Infinity;
    this.wantRead.clear();
    this.readSentAt.clear();
    this.wantDelivered.clear();
    this.typingSentAt.clear();
    this.catchingUp.clear();
    this.catchUpAgain.clear();
  }

  // ---- server events -----------------------------------------------------------------------

  handle(e: ServerEvent): void {
    const s = this.state;
    switch (e.type) {
      case 'ready': {
        if (s.session.user && s.session.user.id === e.user.id) s.sessionUserUpdated(e.user);
        s.conversationsPresenceSnapshot(e.presence);
        s.callsReady(e.session_id, e.server_time, e.calls);
        s.roomsReady(e.rooms ?? []);
        const calls = this.state.calls;
        // This socket replaces the one our side of the call was bound to: take it back.
        if (calls.rejoining && calls.call) this.connection.send({ type: 'call.rejoin', call_id: calls.call.id });
        void this.resync();
        return;
      }
      case 'message.ack':
        this.settle(e.client_id);
        s.messagesAcked(e.conversation_id, e.client_id, e.id, e.created_at);
        return;
      case 'message.new':
        this.received([e.message], true);
        for (const l of this.messageListeners) l(e.message);
        return;
      case 'typing':
        s.conversationsTyping(e.conversation_id, e.user_id, e.active);
        this.scheduleTypingPrune();
        return;
      case 'presence':
        s.conversationsPresence({ user_id: e.user_id, online: e.online, last_seen: e.last_seen ?? null });
        return;
      case 'receipt': {
        const receipt = { user_id: e.user_id, delivered_seq: e.delivered_seq, read_seq: e.read_seq };
        s.receiptsReceived(e.conversation_id, receipt);
        s.conversationsReceipt({
          conversationId: e.conversation_id,
          userId: e.user_id,
          deliveredSeq: e.delivered_seq,
          readSeq: e.read_seq,
        });
        return;
      }
      case 'change.ack':
      case 'message.updated':
      case 'message.deleted':
      case 'message.reaction':
        this.changes.handle(e);
        return;
      case 'conversation.updated':
        s.conversationsUpserted(e.conversation);
        return;
      case 'conversation.removed':
        this.forgetConversation(e.conversation_id);
        return;
      case 'call.ringing':
        s.callsServerEvent('ringing', e);
        return;
      case 'call.state':
        s.callsServerEvent('state', e);
        return;
      case 'call.offer':
      case 'call.answer':
      case 'call.ice':
        for (const l of this.callListeners) l(e);
        return;
      case 'room.state':
        s.roomsState(e.room);
        return;
      case 'room.joined':
      case 'room.answer':
      case 'room.slots':
      case 'room.renegotiate':
      case 'room.speakers':
      case 'room.left':
        for (const l of this.roomListeners) l(e);
        return;
      case 'error':
        if (e.call_id) {
          const callError = { ...e, call_id: e.call_id };
          s.callsError(e.call_id, e.code);
          for (const l of this.callListeners) l(callError);
        } else if (e.client_id && this.changes.owns(e.client_id)) {
          this.changes.failed(e.client_id, e.code, e.message);
        } else if (e.client_id) {
          const p = messagesSelectors.findPending(s, e.client_id);
          this.settle(e.client_id);
          if (p) s.messagesFailed(p.conversation_id, e.client_id, e.code);
        } else if (e.conversation_id && this.roomListeners.size > 0) {
          const roomError = { ...e, conversation_id: e.conversation_id };
          for (const l of this.roomListeners) l(roomError);
        } else if (typeof console !== 'undefined') {
          console.warn(`gateway error ${e.code}: ${e.message ?? ''}`);
        }
        return;
      case 'pong':
        return;
    }
  }

  /** Listens to live `message.new` events (after the store has them). Returns an unsubscribe. */
  onMessage(listener: (m: Message) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  /** Listens to the call signaling relayed by the server (and call errors). Returns an unsubscribe. */
  onCallEvent(listener: (e: CallGatewayEvent) => void): () => void {
    this.callListeners.add(listener);
    return () => this.callListeners.delete(listener);
  }

  /** Listens to the room events for this device (and room errors). Returns an unsubscribe. */
  onRoomEvent(listener: (e: RoomGatewayEvent) => void): () => void {
    this.roomListeners.add(listener);
    return () => this.roomListeners.delete(listener);
  }

  /** Stored messages from `message.new`, a catch-up page or the latest page. */
  private received(messages: Message[], live: boolean): void {
    if (messages.length === 0) return;
    const s = this.state;
    const me = this.myId;
    const cid = messages[0]!.conversation_id;
    if (live) for (const m of messages) s.messagesReceived(m);
    for (const m of messages) {
      s.conversationsMessageReceived(m);
      if (m.sender_id === me && m.client_id) this.settle(m.client_id);
    }
    if (!conversationsSelectors.byId(this.state, cid)) void this.fetchConversation(cid);
    const fromOthers = messages.filter((m) => m.sender_id !== me);
    if (fromOthers.length) this.markDelivered(cid, Math.max(...fromOthers.map((m) => m.seq)));
    if (messagesSelectors.thread(this.state, cid).gap) void this.catchUp(cid);
  }

  // ---- after (re)connecting ----------------------------------------------------------------

  private async resync(): Promise<void> {
    await this.refreshConversations();
    // Receipts that may have been lost with the old socket: idempotent, max-wins.
    for (const [cid, seq] of this.wantRead) this.connection.send({ type: 'receipt.read', conversation_id: cid, seq });
    this.flushDelivered();
    const loaded = messagesSelectors.loadedConversationIds(this.state);
    await Promise.allSettled(loaded.map((cid) => this.catchUp(cid)));
    this.flushOutbox();
    void this.changes.resync();
    const active = this.state.conversations.activeId;
    if (active) void this.loadReceipts(active);
  }

  async refreshConversations(): Promise<void> {
    const s = this.state;
    s.conversationsListRequested();
    let list: Conversation[];
    try {
      list = await this.api.list();
    } catch {
      this.state.conversationsListFailed();
      return;
    }
    if (!this.started) return;
    this.state.conversationsListLoaded(list);
    for (const c of list) if (c.last_seq > c.delivered_seq) this.markDelivered(c.id, c.last_seq);
  }

  // ---- history -----------------------------------------------------------------------------

  /** The user opened a conversation: load it (or freshen it) and its receipts. */
  open(conversationId: string): void {
    if (!this.started) return; // start() opens the active one
    const t = messagesSelectors.thread(this.state, conversationId);
    if (t.status === 'idle' || t.status === 'error') void this.loadLatest(conversationId);
    else if (t.status === 'ready') void this.catchUp(conversationId);
    void this.loadReceipts(conversationId);
    if (!conversationsSelectors.byId(this.state, conversationId)) void this.fetchConversation(conversationId);
  }

  async loadLatest(conversationId: string): Promise<void> {
    this.state.messagesLatestRequested(conversationId);
    // Known before asking: the page is current at least up to this change number.
    const changeSeq = conversationsSelectors.byId(this.state, conversationId)?.last_change_seq ?? 0;
    try {
      const page = await this.api.messages(conversationId, { limit: LATEST_PAGE });
      if (!this.started) return;
      this.state.messagesPageLoaded(conversationId, 'latest', page);
      this.state.messagesChangeSynced(conversationId, changeSeq);
      this.received(page, false);
    } catch {
      this.state.messagesPageFailed(conversationId, 'latest');
    }
  }

  async loadOlder(conversationId: string): Promise<void> {
    const t = messagesSelectors.thread(this.state, conversationId);
    const first = t.items[0]?.seq;
    if (t.status !== 'ready' || !t.hasOlder || t.loadingOlder || !first) return;
    this.state.messagesOlderRequested(conversationId);
    try {
      const page = await this.api.messages(conversationId, { before_seq: first, limit: OLDER_PAGE });
      this.state.messagesPageLoaded(conversationId, 'older', page);
    } catch {
      this.state.messagesPageFailed(conversationId, 'older');
    }
  }

  /** Fetches everything after the last contiguous seq, page by page. One run per conversation at a time. */
  async catchUp(conversationId: string): Promise<void> {
    if (this.catchingUp.has(conversationId)) {
      this.catchUpAgain.add(conversationId);
      return;
    }
    this.catchingUp.add(conversationId);
    try {
      for (let page = 0; page < MAX_CATCH_UP_PAGES; page++) {
        const t = messagesSelectors.thread(this.state, conversationId);
        if (t.status !== 'ready') break;
        const got = await this.api.messages(conversationId, { after_seq: t.syncedSeq, limit: MAX_PAGE_LIMIT });
        if (!this.started) return;
        this.state.messagesPageLoaded(conversationId, 'newer', got);
        this.received(got, false);
        if (got.length < MAX_PAGE_LIMIT) break;
      }
    } catch {
      // Offline or the server is away: the next ready (or gap) tries again.
    } finally {
      this.catchingUp.delete(conversationId);
      if (this.catchUpAgain.delete(conversationId) && this.started) void this.catchUp(conversationId);
    }
  }

  async loadReceipts(conversationId: string): Promise<void> {
    try {
      const receipts = await this.api.receipts(conversationId);
      if (this.started) this.state.receiptsLoaded(conversationId, receipts);
    } catch {
      // Live receipt events still arrive; the ticks are just less complete for now.
    }
  }

  private async fetchConversation(conversationId: string): Promise<void> {
    if (this.fetchingConversation.has(conversationId)) return;
    this.fetchingConversation.add(conversationId);
    try {
      const c = await this.api.get(conversationId);
      if (this.started) this.state.conversationsUpserted(c);
    } catch (err) {
      if (isApiError(err) && (err.status === 404 || err.status === 403)) this.forgetConversation(conversationId);
    } finally {
      this.fetchingConversation.delete(conversationId);
    }
  }

  forgetConversation(conversationId: string): void {
    const s = this.state;
    for (const p of messagesSelectors.thread(s, conversationId).pending) if (p.client_id) this.settle(p.client_id);
    s.conversationsRemoved(conversationId);
    s.messagesConversationRemoved(conversationId);
    s.receiptsConversationRemoved(conversationId);
    this.wantRead.delete(conversationId);
    this.wantDelivered.delete(conversationId);
  }

  // ---- sending -----------------------------------------------------------------------------

  /**
   * Shows the message at once (pending) and sends it when the socket is ready — and, when it
   * carries images, once each has its upload id (`attachmentUploaded`). Returns its client_id.
   */
  send(conversationId: string, body: string, attachments: ChatAttachment[] = [], replyTo: ReplyView | null = null): string {
    const me = this.myId ?? '';
    const clientId = this.newClientId();
    const createdAt = new Date(this.now()).toISOString();
    this.state.messagesQueued({ conversationId, clientId, senderId: me, body, createdAt, attachments, replyTo });
    this.state.conversationsMessageQueued(conversationId, createdAt);
    this.typingStop(conversationId);
    this.flushOutbox();
    return clientId;
  }

  /** Sends a failed message again, with the same client_id. */
  retry(conversationId: string, clientId: string): void {
    this.state.messagesRetried(conversationId, clientId);
    this.flushOutbox();
  }

  discard(conversationId: string, clientId: string): void {
    this.state.messagesDiscarded(conversationId, clientId);
  }

  /** One image of a pending message is on the server: record its id, and send if it was the last. */
  attachmentUploaded(conversationId: string, clientId: string, key: string, id: string): void {
    this.state.messagesAttachmentUploaded(conversationId, clientId, key, id);
    this.flushOutbox();
  }

  /** An image of a pending message could not be uploaded (or was cancelled): the message fails. */
  attachmentFailed(conversationId: string, clientId: string, code: string): void {
    this.state.messagesFailed(conversationId, clientId, code);
  }

  private flushOutbox(): void {
    if (!this.connection.isReady) return;
    for (const m of messagesSelectors.queued(this.state)) {
      if (!m.client_id || this.inFlight.has(m.client_id)) continue;
      const sent = this.connection.send({
        type: 'message.send',
        client_id: m.client_id,
        conversation_id: m.conversation_id,
        body: m.body,
        ...(m.attachments.length ? { attachments: m.attachments.map((a) => a.id!) } : {}),
        ...(m.reply_to ? { reply_to: m.reply_to.id } : {}),
      });
      if (!sent) return;
      const clientId = m.client_id;
      const cid = m.conversation_id;
      this.inFlight.set(
        clientId,
        this.timers.setTimeout(() => {
          if (!this.inFlight.delete(clientId)) return;
          this.state.messagesFailed(cid, clientId, 'timeout');
        }, SEND_TIMEOUT_MS),
      );
    }
  }

  /** An answer (ack, echo or error) arrived for a message: stop its timeout. */
  private settle(clientId: string): void {
    const t = this.inFlight.get(clientId);
    if (t === undefined) return;
    this.timers.clearTimeout(t);
    this.inFlight.delete(clientId);
  }

  private socketDown(): void {
    // Unacknowledged messages stay pending and go out again on the next socket.
    for (const t of this.inFlight.values()) this.timers.clearTimeout(t);
    this.inFlight.clear();
    this.typingSentAt.clear();
    this.changes.socketDown();
  }

  // ---- receipts we send --------------------------------------------------------------------

  /** The user has seen up to `seq` here (open conversation, visible tab). Only moves forward. */
  markRead(conversationId: string, seq: number): void {
    const me = this.myId;
    const c = conversationsSelectors.byId(this.state, conversationId);
    if (!me || seq <= Math.max(this.wantRead.get(conversationId) ?? 0, c?.read_seq ?? 0)) return;
    this.wantRead.set(conversationId, seq);
    const delivered = Math.max(seq, c?.delivered_seq ?? 0);
    // Optimistic: the badge clears now; the server's echo goes through the same reducers.
    this.state.receiptsReceived(conversationId, { user_id: me, delivered_seq: delivered, read_seq: seq });
    this.state.conversationsReceipt({ conversationId, userId: me, deliveredSeq: delivered, readSeq: seq });
    if (this.readTimers.has(conversationId)) return;
    const wait = (this.readSentAt.get(conversationId) ?? -Infinity) + READ_THROTTLE_MS - this.now();
    if (wait <= 0) this.sendRead(conversationId);
    else
      this.readTimers.set(
        conversationId,
        this.timers.setTimeout(() => {
          this.readTimers.delete(conversationId);
          this.sendRead(conversationId);
        }, wait),
      );
  }

  private sendRead(conversationId: string): void {
    const seq = this.wantRead.get(conversationId);
    if (seq === undefined) return;
    this.readSentAt.set(conversationId, this.now());
    // Not sent while disconnected: resync sends every wanted read again.
    this.connection.send({ type: 'receipt.read', conversation_id: conversationId, seq });
  }

  /** Messages up to `seq` reached this device. Coalesced, only forward. */
  markDelivered(conversationId: string, seq: number): void {
    const c = conversationsSelectors.byId(this.state, conversationId);
    const known = Math.max(this.wantDelivered.get(conversationId) ?? 0, c?.delivered_seq ?? 0);
    if (seq <= known) return;
    this.wantDelivered.set(conversationId, seq);
    if (this.deliveredTimer !== null) return;
    this.deliveredTimer = this.timers.setTimeout(() => {
      this.deliveredTimer = null;
      this.flushDelivered();
    }, DELIVERED_DEBOUNCE_MS);
  }

  private flushDelivered(): void {
    if (!this.connection.isReady) return;
    for (const [cid, seq] of this.wantDelivered) {
      const c = conversationsSelectors.byId(this.state, cid);
      if (c && c.read_seq >= seq && this.wantRead.has(cid)) continue; // a read receipt said it already
      this.connection.send({ type: 'receipt.delivered', conversation_id: cid, seq });
    }
  }

  // ---- typing we send ----------------------------------------------------------------------

  /** The user typed in the composer: `typing.start` at most every 3 s. */
  typingActivity(conversationId: string): void {
    const last = this.typingSentAt.get(conversationId);
    if (last !== undefined && this.now() - last < TYPING_THROTTLE_MS) return;
    if (this.connection.send({ type: 'typing.start', conversation_id: conversationId })) {
      this.typingSentAt.set(conversationId, this.now());
    }
  }

  /** Sent, blurred or emptied: `typing.stop`, if a start went out. */
  typingStop(conversationId: string): void {
    if (!this.typingSentAt.delete(conversationId)) return;
    this.connection.send({ type: 'typing.stop', conversation_id: conversationId });
  }

  private scheduleTypingPrune(): void {
    const next = conversationsSelectors.nextTypingExpiry(this.state);
    if (next === null || next >= this.typingPruneAt) return;
    if (this.typingPruneTimer !== null) this.timers.clearTimeout(this.typingPruneTimer);
    this.typingPruneAt = next;
    this.typingPruneTimer = this.timers.setTimeout(
      () => {
        this.typingPruneTimer = null;
        this.typingPruneAt = Infinity;
        this.state.conversationsTypingExpired();
        this.scheduleTypingPrune();
      },
      Math.max(0, next - this.now()),
    );
  }
}

/** A v4 UUID; `crypto.randomUUID` exists only in secure contexts, getRandomValues everywhere. */
export function uuid(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  c.getRandomValues(b);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
