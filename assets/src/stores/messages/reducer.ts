/**
 * Messages slice: the loaded history of each conversation, plus the user's own messages on
 * their way to the server.
 *
 * Invariants:
 * - `items` are stored messages, ordered by `seq`, unique by `seq` and by `id`: the same
 *   message arriving by ack + `message.new` + catch-up is kept once.
 * - `pending` are this user's messages not stored yet, in the order they were written,
 *   keyed by `client_id`. A stored message with the same `client_id` (or, after the ack,
 *   the same `id`) replaces its pending bubble and keeps its `key`, so the UI does not
 *   remount it.
 * - `syncedSeq` is the highest seq up to which the loaded history has no hole; anything
 *   above it that is loaded means a gap (`gap`), which the gateway fills with
 *   `GET …/messages?after_seq=syncedSeq`.
 * - The same reducer applies the optimistic change (`queued`) and the server's events
 *   (`acked`, `received`, `failed`).
 * - A pending message's images show at once from their local copies (object URLs); each
 *   gets its upload id when its upload finishes (`attachmentUploaded`), and the outbox sends
 *   the message only once every image has one. The stored message's images keep the
 *   pending ones' keys, position by position, so the grid does not remount.
 * - Edits, deletions, reactions and pins of stored messages: see changes.ts. A page that
 *   carries a loaded message in a newer state (higher `change_seq`) updates it too.
 * - `base` is the first seq of the run that holds the latest page. A page loaded around a
 *   jump far back sits apart below it: between the two is a hole (`holeAfter`), filled
 *   page by page upwards. `syncedSeq` and `gap` count from `base`, so the hole is never
 *   mistaken for messages missed live.
 */
import type { Attachment, Message, MessageKind, ReactionView, ReplyView } from '../../api/types';
import {
  applyChanged,
  changeFields,
  changesLoaded,
  changeSynced,
  newerState,
  opEnded,
  opStarted,
  UNCHANGED,
  type ChangeKind,
  type ChangeOp,
} from './changes';

/** pending: waiting for an ack (queued offline or in flight); sent: acked; stored: has a seq. */
export type MessageStatus = 'pending' | 'sent' | 'failed' | 'stored';

export interface ChatMessage {
  /** Stable React key: the client_id for the sender's own messages, else the id. */
  key: string;
  id: string | null;
  client_id: string | null;
  conversation_id: string;
  seq: number | null;
  sender_id: string;
  body: string;
  /** "call": the server's record of a call (a system row, not a bubble). */
  kind: MessageKind;
  created_at: string;
  status: MessageStatus;
  /** Why a pending message failed (an error code: timeout, rate_limited, …). */
  error: string | null;
  attachments: ChatAttachment[];
  /** The conversation's change number of this message's last change (0: never changed). */
  change_seq: number;
  edited_at: string | null;
  /** A tombstone ("Message deleted"): no body, images or reactions. */
  deleted_at: string | null;
  deleted_by: string | null;
  /** The message this one answers. */
  reply_to: ReplyView | null;
  reactions: ReactionView[];
  pinned_at: string | null;
  pinned_by: string | null;
  /** Who the body mentions (user ids). */
  mentions: string[];
  /** The user's own changes of it in flight (shown by `shown`; always empty in `items`). */
  changing: ChangeKind[];
}

/** An image of a message, as the UI shows it: stored, or a local copy still uploading. */
export interface ChatAttachment {
  /** Stable key: the local upload's id for own pending images, else the attachment id. */
  key: string;
  /** The upload's id on the server; null while it is still uploading. */
  id: string | null;
  mime: string;
  width: number;
  height: number;
  blurhash: string | null;
  /** The original (download), the preview (fits 1600) and the thumbnail (fits 400). */
  url: string;
  preview: string;
  thumbnail: string;
}

export interface Thread {
  /** idle: nothing fetched yet; loading: the latest page is on its way. */
  status: 'idle' | 'loading' | 'ready' | 'error';
  items: ChatMessage[];
  pending: ChatMessage[];
  syncedSeq: number;
  gap: boolean;
  hasOlder: boolean;
  loadingOlder: boolean;
  /** First seq of the run holding the latest page (0: nothing loaded). */
  base: number;
  /** The newest loaded seq below `base` when a hole separates them, else null. */
  holeAfter: number | null;
  loadingHole: boolean;
  /** See changes.ts. */
  changeSeq: number;
  changeGap: boolean;
  ops: ChangeOp[];
}

/** A request to show one message (a reply's original, a search hit, a pin). */
export interface JumpRequest {
  conversationId: string;
  seq: number;
  /** Tells two requests for the same message apart. */
  nonce: number;
}

export interface MessagesState {
  threads: Record<string, Thread>;
  jump: JumpRequest | null;
}

export const initialMessagesState: MessagesState = { threads: {}, jump: null };

export const emptyThread: Thread = {
  status: 'idle',
  items: [],
  pending: [],
  syncedSeq: 0,
  gap: false,
  hasOlder: false,
  loadingOlder: false,
  base: 0,
  holeAfter: null,
  loadingHole: false,
  changeSeq: 0,
  changeGap: false,
  ops: [],
};

/** `around`: the page around a jump's target; `hole`: a page filling the hole above it. */
export type PageKind = 'latest' | 'older' | 'newer' | 'around' | 'hole';

export type MessagesAction =
  | { type: 'latestRequested'; conversationId: string }
  | { type: 'olderRequested'; conversationId: string }
  | { type: 'pageLoaded'; conversationId: string; kind: PageKind; messages: Message[] }
  | { type: 'pageFailed'; conversationId: string; kind: PageKind }
  /** Optimistic: the user sent a message; it shows at once as pending. */
  | {
      type: 'queued';
      conversationId: string;
      clientId: string;
      senderId: string;
      body: string;
      createdAt: string;
      attachments?: ChatAttachment[];
      replyTo?: ReplyView | null;
    }
  | { type: 'acked'; conversationId: string; clientId: string; id: string; createdAt: string }
  /** One image of a pending message finished uploading: it now has its server id. */
  | { type: 'attachmentUploaded'; conversationId: string; clientId: string; key: string; id: string }
  /** `message.new`, one stored message. */
  | { type: 'received'; message: Message }
  /** An `error` with the client_id, or the send timeout (`error: 'timeout'`). */
  | { type: 'failed'; conversationId: string; clientId: string; error: string }
  /** Retry: back to pending with the same client_id. */
  | { type: 'retried'; conversationId: string; clientId: string }
  | { type: 'discarded'; conversationId: string; clientId: string }
  | { type: 'conversationRemoved'; conversationId: string }
  | { type: 'holeRequested'; conversationId: string }
  /** `message.updated` / `message.deleted` / `message.reaction` (live), or a change ack. */
  | { type: 'changed'; conversationId: string; message: Message }
  | { type: 'changesLoaded'; conversationId: string; messages: Message[]; lastChangeSeq: number; done: boolean }
  /** The conversation's change number known before its latest page was asked for. */
  | { type: 'changeSynced'; conversationId: string; changeSeq: number }
  /** The user edits, deletes, reacts or pins: shown at once (see changes.ts). */
  | { type: 'opStarted'; conversationId: string; op: ChangeOp }
  /** Acked (with the message's state) or failed (rolled back). */
  | { type: 'opEnded'; conversationId: string; clientId: string; message?: Message }
  | { type: 'jumpRequested'; conversationId: string; seq: number }
  | { type: 'jumpHandled'; nonce: number }
  | { type: 'reset' };

export function messagesReducer(state: MessagesState, action: MessagesAction): MessagesState {
  switch (action.type) {
    case 'latestRequested': {
      const t = threadOf(state, action.conversationId);
      if (t.status === 'loading') return state;
      return put(state, action.conversationId, { ...t, status: t.status === 'ready' ? 'ready' : 'loading' });
    }
    case 'olderRequested': {
      const t = state.threads[action.conversationId];
      if (!t || t.loadingOlder) return state;
      return put(state, action.conversationId, { ...t, loadingOlder: true });
    }
    case 'pageLoaded': {
      const t = threadOf(state, action.conversationId);
      // The latest page is where the run that follows live messages starts.
      const base = action.kind === 'latest' && action.messages.length ? Math.min(...action.messages.map((m) => m.seq)) : undefined;
      let merged = mergeStored(t, action.messages, base);
      // A fresh latest page is current up to the highest change it carries.
      if (action.kind === 'latest' && t.items.length === 0) {
        merged = changeSynced(merged, Math.max(0, ...action.messages.map((m) => m.change_seq ?? 0)));
      }
      return put(state, action.conversationId, {
        ...merged,
        status: 'ready',
        loadingOlder: action.kind === 'older' ? false : merged.loadingOlder,
        loadingHole: action.kind === 'hole' ? false : merged.loadingHole,
      });
    }
    case 'pageFailed': {
      const t = state.threads[action.conversationId];
      if (!t) return state;
      if (action.kind === 'older') return put(state, action.conversationId, { ...t, loadingOlder: false });
      if (action.kind === 'hole') return put(state, action.conversationId, { ...t, loadingHole: false });
      if (action.kind === 'latest' && t.status === 'loading') {
        return put(state, action.conversationId, { ...t, status: 'error' });
      }
      return state;
    }
    case 'queued': {
      const t = threadOf(state, action.conversationId);
      if (t.pending.some((p) => p.client_id === action.clientId)) return state;
      const message: ChatMessage = {
        key: action.clientId,
        id: null,
        client_id: action.clientId,
        conversation_id: action.conversationId,
        seq: null,
        sender_id: action.senderId,
        body: action.body,
        kind: 'text',
        created_at: action.createdAt,
        status: 'pending',
        error: null,
        attachments: action.attachments ?? [],
        ...UNCHANGED,
        reply_to: action.replyTo ?? null,
        changing: [],
      };
      return put(state, action.conversationId, { ...t, pending: [...t.pending, message] });
    }
    case 'attachmentUploaded':
      return updatePending(state, action.conversationId, action.clientId, (p) => {
        const i = p.attachments.findIndex((a) => a.key === action.key);
        if (i < 0 || p.attachments[i]!.id === action.id) return p;
        const attachments = p.attachments.slice();
        attachments[i] = { ...attachments[i]!, id: action.id };
        return { ...p, attachments };
      });
    case 'acked': {
      const t = state.threads[action.conversationId];
      if (!t) return state;
      // Stored already (message.new or catch-up won the race): nothing left to acknowledge.
      if (t.items.some((m) => m.id === action.id)) {
        const pending = t.pending.filter((p) => p.client_id !== action.clientId);
        return pending.length === t.pending.length ? state : put(state, action.conversationId, { ...t, pending });
      }
      return updatePending(state, action.conversationId, action.clientId, (p) =>
        p.status === 'sent' && p.id === action.id
          ? p
          : { ...p, id: action.id, created_at: action.createdAt || p.created_at, status: 'sent', error: null },
      );
    }
    case 'received': {
      const t = state.threads[action.message.conversation_id];
      // History of this conversation is not loaded: it is fetched when opened.
      if (!t) return state;
      return put(state, action.message.conversation_id, mergeStored(t, [action.message]));
    }
    case 'failed':
      return updatePending(state, action.conversationId, action.clientId, (p) =>
        p.status === 'sent' && action.error === 'timeout' ? p : { ...p, status: 'failed', error: action.error },
      );
    case 'retried':
      return updatePending(state, action.conversationId, action.clientId, (p) =>
        p.status === 'failed' ? { ...p, status: 'pending', error: null } : p,
      );
    case 'discarded': {
      const t = state.threads[action.conversationId];
      if (!t) return state;
      const pending = t.pending.filter((p) => p.client_id !== action.clientId || p.status !== 'failed');
      return pending.length === t.pending.length ? state : put(state, action.conversationId, { ...t, pending });
    }
    case 'conversationRemoved': {
      if (!(action.conversationId in state.threads)) return state;
      const threads = { ...state.threads };
      delete threads[action.conversationId];
      return { ...state, threads, jump: state.jump?.conversationId === action.conversationId ? null : state.jump };
    }
    case 'holeRequested': {
      const t = state.threads[action.conversationId];
      if (!t || t.loadingHole || t.holeAfter === null) return state;
      return put(state, action.conversationId, { ...t, loadingHole: true });
    }
    case 'changed':
      return update(state, action.conversationId, (t) => applyChanged(t, [action.message], true));
    case 'changesLoaded':
      return update(state, action.conversationId, (t) => changesLoaded(t, action.messages, action.lastChangeSeq, action.done));
    case 'changeSynced':
      return update(state, action.conversationId, (t) => changeSynced(t, action.changeSeq));
    case 'opStarted':
      return update(state, action.conversationId, (t) => opStarted(t, action.op));
    case 'opEnded':
      return update(state, action.conversationId, (t) => {
        const ended = opEnded(t, action.clientId);
        return action.message ? applyChanged(ended, [action.message], true) : ended;
      });
    case 'jumpRequested':
      return { ...state, jump: { conversationId: action.conversationId, seq: action.seq, nonce: (state.jump?.nonce ?? 0) + 1 } };
    case 'jumpHandled':
      return state.jump?.nonce === action.nonce ? { ...state, jump: null } : state;
    case 'reset':
      return initialMessagesState;
  }
}

/** Changes a loaded thread (an unknown conversation is left alone). */
function update(state: MessagesState, id: string, change: (t: Thread) => Thread): MessagesState {
  const t = state.threads[id];
  if (!t) return state;
  const next = change(t);
  return next === t ? state : put(state, id, next);
}

function threadOf(state: MessagesState, id: string): Thread {
  return state.threads[id] ?? emptyThread;
}

function put(state: MessagesState, id: string, thread: Thread): MessagesState {
  return { ...state, threads: { ...state.threads, [id]: thread } };
}

function updatePending(
  state: MessagesState,
  conversationId: string,
  clientId: string,
  update: (p: ChatMessage) => ChatMessage,
): MessagesState {
  const t = state.threads[conversationId];
  if (!t) return state;
  const i = t.pending.findIndex((p) => p.client_id === clientId);
  if (i < 0) return state;
  const before = t.pending[i]!;
  const after = update(before);
  if (after === before) return state;
  const pending = t.pending.slice();
  pending[i] = after;
  return put(state, conversationId, { ...t, pending });
}

/**
 * Adds stored messages to a thread: drops the pending bubbles they replace, skips the ones
 * it has (by seq or id), keeps `items` sorted, and recomputes `syncedSeq`, `gap` and
 * `hasOlder`.
 */
export function mergeStored(t: Thread, incoming: readonly Message[], base?: number): Thread {
  if (incoming.length === 0) return t;
  let pending = t.pending;
  const seqs = new Set<number>();
  const ids = new Set<string>();
  for (const m of t.items) {
    if (m.seq !== null) seqs.add(m.seq);
    if (m.id) ids.add(m.id);
  }

  const fresh: ChatMessage[] = [];
  let items = t.items;
  for (const m of incoming) {
    // Replace the optimistic bubble: by client_id (the echo), or by id (known since the ack).
    const match = pending.find(
      (p) => (m.client_id && p.client_id === m.client_id && p.sender_id === m.sender_id) || (p.id !== null && p.id === m.id),
    );
    if (match) pending = pending.filter((p) => p !== match);
    if (seqs.has(m.seq) || ids.has(m.id)) {
      // Known: a newer state of it (edited, reacted to, deleted since) replaces it.
      const i = ids.has(m.id) && (m.change_seq ?? 0) > 0 ? items.findIndex((x) => x.id === m.id) : -1;
      const next = i >= 0 ? newerState(items[i]!, m) : null;
      if (next && next !== items[i]) {
        if (items === t.items) items = items.slice();
        items[i] = next;
      }
      continue;
    }
    seqs.add(m.seq);
    ids.add(m.id);
    fresh.push({
      key: match?.key ?? m.id,
      id: m.id,
      client_id: m.client_id ?? null,
      conversation_id: m.conversation_id,
      seq: m.seq,
      sender_id: m.sender_id,
      body: m.body,
      kind: m.kind === 'call' ? 'call' : 'text',
      created_at: m.created_at,
      status: 'stored',
      error: null,
      attachments: (m.attachments ?? []).map((a, i) => chatAttachment(a, match?.attachments[i]?.key)),
      ...changeFields(m),
      changing: [],
    });
  }

  if (fresh.length) {
    fresh.sort((a, b) => a.seq! - b.seq!);
    const last = items[items.length - 1]?.seq ?? 0;
    const first = items[0]?.seq ?? Infinity;
    if (fresh[0]!.seq! > last) items = [...items, ...fresh];
    else if (fresh[fresh.length - 1]!.seq! < first) items = [...fresh, ...items];
    else items = [...items, ...fresh].sort((a, b) => a.seq! - b.seq!);
  }
  if (items === t.items && pending === t.pending && (base === undefined || base === t.base)) return t;

  const run = runStart(items, base ?? t.base);
  const syncedSeq = contiguousEnd(items, run.index);
  const newest = items[items.length - 1]?.seq ?? 0;
  return {
    ...t,
    items,
    pending,
    syncedSeq,
    gap: newest > syncedSeq,
    hasOlder: (items[0]?.seq ?? 1) > 1,
    base: run.base,
    holeAfter: run.index > 0 ? items[run.index - 1]!.seq : null,
  };
}

/**
 * The start of the run holding `base` (the first item when there is no base yet), walked
 * down over loaded neighbours: a page that closes the hole joins the run.
 */
function runStart(items: readonly ChatMessage[], base: number): { base: number; index: number } {
  if (items.length === 0) return { base: 0, index: 0 };
  let index = base > 0 ? items.findIndex((m) => m.seq! >= base) : 0;
  if (index < 0) index = items.length - 1;
  while (index > 0 && items[index - 1]!.seq === items[index]!.seq! - 1) index--;
  return { base: items[index]!.seq!, index };
}

/** The last seq of the run that starts at `items[from]` (0 when none). */
function contiguousEnd(items: readonly ChatMessage[], from = 0): number {
  if (items.length === 0) return 0;
  let end = items[from]!.seq!;
  for (let i = from + 1; i < items.length; i++) {
    const s = items[i]!.seq!;
    if (s !== end + 1) break;
    end = s;
  }
  return end;
}

/** A stored attachment as the UI shows it; `key` keeps the pending image's key when it replaces one. */
export function chatAttachment(a: Attachment, key?: string): ChatAttachment {
  return {
    key: key ?? a.id,
    id: a.id,
    mime: a.mime,
    width: a.width,
    height: a.height,
    blurhash: a.blurhash ?? null,
    url: a.url,
    preview: a.preview?.url ?? a.url,
    thumbnail: a.thumbnail?.url ?? a.preview?.url ?? a.url,
  };
}
