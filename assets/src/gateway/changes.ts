/**
 * The gateway's side of message changes (docs/protocol.md, "Conversation features"), part
 * of the GatewayClient:
 *
 * - What the user changes — edit, delete, react, pin — goes out as `message.edit`,
 *   `message.delete`, `reaction.set` or `message.pin` with a client_id while the socket is
 *   ready (REST otherwise), shown at once through the messages slice's ops. The ack
 *   (`change.ack`, or the REST answer) brings the message's state; an `error` with the
 *   client_id, or no answer within 10 s, rolls the op back and rejects the promise with the
 *   error code. Ops still unanswered when the socket drops are sent again on the next one
 *   (same client_id: the server changes nothing twice).
 * - `message.updated` / `message.deleted` / `message.reaction` go to the messages slice
 *   (replaced by id when their change_seq is higher). A skipped change number, and after
 *   every reconnect a conversation list whose `last_change_seq` is ahead of what a loaded
 *   history holds, fetch `GET …/changes?after=N` page by page (one run per conversation).
 * - Jumps (a reply's original, a search hit, a pin): history `?around_seq=SEQ` when the message
 *   is not loaded, and the pages of the hole between that page and the latest ones.
 */
import type { NexusApi } from '../api/endpoints';
import { describeError, isApiError } from '../api/errors';
import type { Message } from '../api/types';
import type { AppStore, ChangeOp } from '../stores';
import { conversationsSelectors } from '../stores/conversations/selectors';
import { messagesSelectors } from '../stores/messages/selectors';
import type { ChangeClientEvent, ChangeServerEvent } from './changeEvents';
import type { GatewayConnection, Timers } from './connection';

export const CHANGE_TIMEOUT_MS = 10_000;
/** `GET …/changes` page size, and how many pages one catch-up run takes at most. */
export const CHANGES_PAGE = 200;
export const MAX_CHANGE_PAGES = 50;
export const AROUND_PAGE = 50;
export const HOLE_PAGE = 100;

export type ChangesRestApi = Pick<NexusApi['changes'], 'edit' | 'remove' | 'react' | 'pin' | 'changes'>;
export type HistoryApi = Pick<NexusApi['conversations'], 'messages'>;

/** Why a change failed: the server's error code (timeout: no answer). */
export class ChangeError extends Error {
  constructor(readonly code: string, message = code) {
    super(message);
    this.name = 'ChangeError';
  }
}

export interface ChangeSyncDeps {
  store: AppStore;
  /** Absent: a server without message changes (nothing is caught up; changes fail). */
  changesApi?: ChangesRestApi;
  historyApi: HistoryApi;
  connection: Pick<GatewayConnection, 'send' | 'isReady'>;
  timers: Timers;
  newClientId(): string;
  running(): boolean;
}

interface InFlight {
  resolve(): void;
  reject(e: ChangeError): void;
  timer: unknown;
}

export class ChangeSync {
  private readonly waiting = new Map<string, InFlight>();
  private readonly catchingUp = new Set<string>();
  private readonly catchUpAgain = new Set<string>();

  constructor(private readonly deps: ChangeSyncDeps) {}

  private get state() {
    return this.deps.store.getState();
  }

  // ---- what the user changes ---------------------------------------------------------------

  edit(conversationId: string, messageId: string, body: string): Promise<void> {
    return this.start(conversationId, { kind: 'edit', messageId, body });
  }

  remove(conversationId: string, messageId: string): Promise<void> {
    return this.start(conversationId, { kind: 'delete', messageId });
  }

  /** Toggles the user's `emoji` on the message (on when not theirs yet). */
  react(conversationId: string, messageId: string, emoji: string): Promise<void> {
    const me = this.state.session.user?.id ?? '';
    const m = messagesSelectors.byId(this.state, conversationId, messageId);
    const mine = !!m?.reactions.some((r) => r.emoji === emoji && r.user_ids.includes(me));
    return this.start(conversationId, { kind: 'reaction', messageId, emoji, on: !mine });
  }

  pin(conversationId: string, messageId: string, pinned: boolean): Promise<void> {
    return this.start(conversationId, { kind: 'pin', messageId, pinned });
  }

  private start(conversationId: string, what: DistributiveOmit<ChangeOp, 'clientId' | 'userId'>): Promise<void> {
    const op = { ...what, clientId: this.deps.newClientId(), userId: this.state.session.user?.id ?? '' } as ChangeOp;
    this.state.messagesOpStarted(conversationId, op);
    const done = new Promise<void>((resolve, reject) => this.waiting.set(op.clientId, { resolve, reject, timer: null }));
    if (!this.sendOp(conversationId, op)) void this.overRest(conversationId, op);
    return done;
  }

  /** Over the socket, with its answer timeout; false when the socket is not ready. */
  private sendOp(conversationId: string, op: ChangeOp): boolean {
    const w = this.waiting.get(op.clientId);
    if (!w || w.timer !== null || !this.deps.connection.isReady) return false;
    if (!this.deps.connection.send(toEvent(conversationId, op))) return false;
    w.timer = this.deps.timers.setTimeout(() => this.settle(conversationId, op.clientId, null, new ChangeError('timeout', 'No answer from the server.')), CHANGE_TIMEOUT_MS);
    return true;
  }

  private async overRest(conversationId: string, op: ChangeOp): Promise<void> {
    const api = this.deps.changesApi;
    if (!api) return this.settle(conversationId, op.clientId, null, new ChangeError('unavailable', 'This server cannot change messages.'));
    try {
      const m = await restCall(api, conversationId, op);
      this.settle(conversationId, op.clientId, m, null);
    } catch (err) {
      const code = isApiError(err) ? (err.code ?? 'unavailable') : 'unavailable';
      this.settle(conversationId, op.clientId, null, new ChangeError(code, describeError(err)));
    }
  }

  /** The op's answer: the message's state (ack) or an error (rollback). */
  private settle(conversationId: string, clientId: string, message: Message | null, error: ChangeError | null): void {
    const w = this.waiting.get(clientId);
    if (w?.timer) this.deps.timers.clearTimeout(w.timer);
    this.waiting.delete(clientId);
    this.state.messagesOpEnded(conversationId, clientId, message ?? undefined);
    if (message) this.state.conversationsMessageChanged(message);
    if (error) w?.reject(error);
    else w?.resolve();
  }

  /** Whether an `error` with this client_id answers one of our changes. */
  owns(clientId: string): boolean {
    return this.waiting.has(clientId);
  }

  failed(clientId: string, code: string, text?: string): void {
    const found = messagesSelectors.findOp(this.state, clientId);
    if (found) this.settle(found.conversationId, clientId, null, new ChangeError(code, text ?? code));
    else this.waiting.delete(clientId);
  }

  // ---- what the server tells ---------------------------------------------------------------

  handle(e: ChangeServerEvent): void {
    const cid = e.message.conversation_id;
    if (e.type === 'change.ack') {
      if (this.waiting.has(e.client_id)) this.settle(cid, e.client_id, e.message, null);
      else this.state.messagesChanged(cid, e.message);
    } else {
      this.state.messagesChanged(cid, e.message);
      this.state.conversationsMessageChanged(e.message);
    }
    if (messagesSelectors.thread(this.state, cid).changeGap) void this.catchUp(cid);
  }

  /** After a reconnect: catch up what each loaded history missed, and send unanswered changes again. */
  async resync(): Promise<void> {
    for (const { conversationId, op } of messagesSelectors.ops(this.state)) this.sendOp(conversationId, op);
    const behind = messagesSelectors.loadedConversationIds(this.state).filter((cid) => {
      const known = conversationsSelectors.byId(this.state, cid)?.last_change_seq ?? 0;
      const t = messagesSelectors.thread(this.state, cid);
      return known > t.changeSeq || t.changeGap;
    });
    await Promise.allSettled(behind.map((cid) => this.catchUp(cid)));
  }

  /** Fetches the changes after what the loaded history holds, page by page. One run per conversation at a time. */
  async catchUp(conversationId: string): Promise<void> {
    const api = this.deps.changesApi;
    if (!api) return;
    if (this.catchingUp.has(conversationId)) {
      this.catchUpAgain.add(conversationId);
      return;
    }
    this.catchingUp.add(conversationId);
    try {
      for (let page = 0; page < MAX_CHANGE_PAGES; page++) {
        const t = messagesSelectors.thread(this.state, conversationId);
        if (t.status !== 'ready') break;
        const got = await api.changes(conversationId, t.changeSeq, CHANGES_PAGE);
        if (!this.deps.running()) return;
        const done = got.messages.length < CHANGES_PAGE;
        this.state.messagesChangesLoaded(conversationId, got.messages, got.last_change_seq, done);
        for (const m of got.messages) this.state.conversationsMessageChanged(m);
        if (done) break;
      }
    } catch {
      // Offline, or a server without changes: the next gap or reconnect tries again.
    } finally {
      this.catchingUp.delete(conversationId);
      if (this.catchUpAgain.delete(conversationId) && this.deps.running()) void this.catchUp(conversationId);
    }
  }

  // ---- jumps -------------------------------------------------------------------------------

  /** Loads the history around `seq` unless that message is loaded already. */
  async loadAround(conversationId: string, seq: number): Promise<void> {
    const t = messagesSelectors.thread(this.state, conversationId);
    if (t.status !== 'ready' || t.items.some((m) => m.seq === seq)) return;
    try {
      const page = await this.deps.historyApi.messages(conversationId, { around_seq: seq, limit: AROUND_PAGE });
      if (this.deps.running()) this.state.messagesPageLoaded(conversationId, 'around', page);
    } catch {
      // The jump simply does not land; the list stays where it was.
    }
  }

  /** Fills the hole above a page loaded around a jump, one page up. */
  async loadHole(conversationId: string): Promise<void> {
    const t = messagesSelectors.thread(this.state, conversationId);
    if (t.holeAfter === null || t.loadingHole) return;
    const after = t.holeAfter;
    this.state.messagesHoleRequested(conversationId);
    try {
      const page = await this.deps.historyApi.messages(conversationId, { after_seq: after, limit: HOLE_PAGE });
      this.state.messagesPageLoaded(conversationId, 'hole', page);
    } catch {
      this.state.messagesPageFailed(conversationId, 'hole');
    }
  }

  // ---- the socket --------------------------------------------------------------------------

  /** The socket is gone: unanswered changes wait for the next one (their timeouts stop). */
  socketDown(): void {
    for (const w of this.waiting.values()) {
      if (w.timer !== null) this.deps.timers.clearTimeout(w.timer);
      w.timer = null;
    }
  }

  /** Signed out: the changes in flight are forgotten with the rest of the chat (their promises settle quietly). */
  stop(): void {
    for (const [clientId, w] of [...this.waiting]) {
      if (w.timer !== null) this.deps.timers.clearTimeout(w.timer);
      this.waiting.delete(clientId);
      w.resolve();
    }
    this.catchingUp.clear();
    this.catchUpAgain.clear();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function toEvent(conversation_id: string, op: ChangeOp): ChangeClientEvent {
  const base = { client_id: op.clientId, conversation_id, message_id: op.messageId };
  switch (op.kind) {
    case 'edit':
      return { type: 'message.edit', ...base, body: op.body };
    case 'delete':
      return { type: 'message.delete', ...base };
    case 'reaction':
      return { type: 'reaction.set', ...base, emoji: op.emoji, on: op.on };
    case 'pin':
      return { type: 'message.pin', ...base, pinned: op.pinned };
  }
}

function restCall(api: ChangesRestApi, cid: string, op: ChangeOp): Promise<Message> {
  switch (op.kind) {
    case 'edit':
      return api.edit(cid, op.messageId, op.clientId, op.body);
    case 'delete':
      return api.remove(cid, op.messageId);
    case 'reaction':
      return api.react(cid, op.messageId, op.emoji, op.on);
    case 'pin':
      return api.pin(cid, op.messageId, op.pinned);
  }
}
