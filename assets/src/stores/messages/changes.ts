/**
 * Message changes in the messages slice: edits, deletions, reactions and pins of stored
 * messages, as the server tells them and as this user makes them.
 *
 * Invariants:
 * - A stored message is replaced by a newer state of itself only when that state's
 *   `change_seq` is higher than the one held: events that arrive twice, late or out of
 *   order change nothing. The bubble keeps its `key`.
 * - `changeSeq` is the conversation's change number up to which the loaded history is
 *   known to be current. A live change numbered past `changeSeq + 1` means one was missed
 *   (`changeGap`): the gateway fetches `GET …/changes?after=changeSeq` and `changesLoaded`
 *   moves `changeSeq` to what the server says. Changes of messages that are not loaded are
 *   dropped (a page fetched later carries their current state).
 * - The user's own changes in flight are `ops`, laid over the stored state when shown
 *   (`shown`): an edit and a reaction show at once (optimistic), a deletion and a pin show
 *   as in progress only. The ack (or a failure: rollback) removes the op; the stored state
 *   comes from the ack's message or the server's event, whichever is newer.
 * - A loaded reply quotes its original as it is now: a change of the original (an edit, a
 *   deletion) updates the quote of every loaded reply to it.
 */
import type { Message, ReactionView } from '../../api/types';
import { normalizeMessage, snippetOf } from '../../api/messageView';
import type { ChatMessage, Thread } from './reducer';

export type ChangeKind = 'edit' | 'delete' | 'reaction' | 'pin';

interface OpBase {
  clientId: string;
  messageId: string;
  /** Who makes it (the signed-in user). */
  userId: string;
}

export type ChangeOp =
  | (OpBase & { kind: 'edit'; body: string })
  | (OpBase & { kind: 'delete' })
  | (OpBase & { kind: 'reaction'; emoji: string; on: boolean })
  | (OpBase & { kind: 'pin'; pinned: boolean });

/** The change fields of a stored message, as the chat keeps them. */
export type ChangeFields = Pick<
  ChatMessage,
  'change_seq' | 'edited_at' | 'deleted_at' | 'deleted_by' | 'reply_to' | 'reactions' | 'pinned_at' | 'pinned_by' | 'mentions'
>;

export function changeFields(raw: Message): ChangeFields {
  const m = normalizeMessage(raw);
  return {
    change_seq: m.change_seq!,
    edited_at: m.edited_at!,
    deleted_at: m.deleted_at!,
    deleted_by: m.deleted_by!,
    reply_to: m.reply_to!,
    reactions: m.reactions!,
    pinned_at: m.pinned_at!,
    pinned_by: m.pinned_by!,
    mentions: m.mentions!,
  };
}

/** A never-changed message's fields (an own message not stored yet). */
export const UNCHANGED: ChangeFields = {
  change_seq: 0,
  edited_at: null,
  deleted_at: null,
  deleted_by: null,
  reply_to: null,
  reactions: [],
  pinned_at: null,
  pinned_by: null,
  mentions: [],
};

/** `stored` with the state of `m` when that is newer; the same object when it is not. */
export function newerState(stored: ChatMessage, m: Message): ChatMessage {
  const fields = changeFields(m);
  if (fields.change_seq <= stored.change_seq) return stored;
  const deleted = fields.deleted_at !== null;
  return {
    ...stored,
    ...fields,
    body: deleted ? '' : m.body,
    attachments: deleted ? [] : stored.attachments,
  };
}

/**
 * Applies changed messages to the loaded ones (by id, when newer). `live` changes also move
 * `changeSeq` forward one step at a time, or flag a gap when one was skipped.
 */
export function applyChanged(t: Thread, messages: readonly Message[], live: boolean): Thread {
  let items = t.items;
  let changeSeq = t.changeSeq;
  let changeGap = t.changeGap;
  for (const m of messages) {
    const seq = typeof m.change_seq === 'number' ? m.change_seq : 0;
    if (live) {
      if (seq === changeSeq + 1) changeSeq = seq;
      else if (seq > changeSeq + 1) changeGap = true;
    }
    const i = items.findIndex((x) => x.id === m.id);
    if (i < 0) continue;
    const next = newerState(items[i]!, m);
    if (next === items[i]) continue;
    if (items === t.items) items = items.slice();
    items[i] = next;
    for (let j = 0; j < items.length; j++) {
      const r = items[j]!.reply_to;
      if (r?.id !== m.id) continue;
      const quoted = { ...r, snippet: next.deleted_at ? '' : snippetOf(next.body), deleted: next.deleted_at !== null, attachments: next.attachments.length };
      if (quoted.snippet !== r.snippet || quoted.deleted !== r.deleted || quoted.attachments !== r.attachments) items[j] = { ...items[j]!, reply_to: quoted };
    }
  }
  if (items === t.items && changeSeq === t.changeSeq && changeGap === t.changeGap) return t;
  return { ...t, items, changeSeq, changeGap };
}

/**
 * A page of `GET …/changes`; `done` when it was the last page. Before the last page the
 * history is current up to the page's newest change only; after it, up to the
 * conversation's `last_change_seq`.
 */
export function changesLoaded(t: Thread, messages: readonly Message[], lastChangeSeq: number, done: boolean): Thread {
  const applied = applyChanged(t, messages, false);
  const top = Math.max(applied.changeSeq, done ? lastChangeSeq : 0, ...messages.map((m) => m.change_seq ?? 0));
  const changeGap = done ? false : applied.changeGap;
  if (top === applied.changeSeq && changeGap === applied.changeGap) return applied;
  return { ...applied, changeSeq: top, changeGap };
}

/** The conversation's change number known when the history was loaded: only raises. */
export function changeSynced(t: Thread, changeSeq: number): Thread {
  return changeSeq > t.changeSeq ? { ...t, changeSeq } : t;
}

export function opStarted(t: Thread, op: ChangeOp): Thread {
  if (t.ops.some((o) => o.clientId === op.clientId)) return t;
  return { ...t, ops: [...t.ops, op] };
}

export function opEnded(t: Thread, clientId: string): Thread {
  const ops = t.ops.filter((o) => o.clientId !== clientId);
  return ops.length === t.ops.length ? t : { ...t, ops };
}

export function findOp(t: Thread, clientId: string): ChangeOp | undefined {
  return t.ops.find((o) => o.clientId === clientId);
}

/** A reaction list with `userId`'s `emoji` on or off. */
export function toggled(reactions: readonly ReactionView[], emoji: string, userId: string, on: boolean): ReactionView[] {
  const i = reactions.findIndex((r) => r.emoji === emoji);
  const r = i >= 0 ? reactions[i]! : null;
  const mine = !!r?.user_ids.includes(userId);
  if (on === mine) return reactions as ReactionView[];
  const out = reactions.slice();
  if (on) {
    if (r) out[i] = { ...r, count: r.count + 1, user_ids: [...r.user_ids, userId] };
    else out.push({ emoji, count: 1, user_ids: [userId] });
  } else if (r) {
    if (r.count <= 1) out.splice(i, 1);
    else out[i] = { ...r, count: r.count - 1, user_ids: r.user_ids.filter((u) => u !== userId) };
  }
  return out;
}

/** A stored message with the user's changes in flight laid over it. */
export function withOps(m: ChatMessage, ops: readonly ChangeOp[]): ChatMessage {
  let out = m;
  for (const op of ops) {
    if (op.messageId !== m.id) continue;
    if (out === m) out = { ...m, changing: [...m.changing] };
    if (!out.changing.includes(op.kind)) out.changing.push(op.kind);
    if (out.deleted_at) continue;
    if (op.kind === 'edit') out.body = op.body;
    else if (op.kind === 'reaction') out.reactions = toggled(out.reactions, op.emoji, op.userId, op.on);
  }
  return out;
}

const shownCache = new WeakMap<Thread, ChatMessage[]>();

/** What the list shows of a thread's stored messages: each with its ops (same array when there are none). */
export function shown(t: Thread): ChatMessage[] {
  if (t.ops.length === 0) return t.items;
  const hit = shownCache.get(t);
  if (hit) return hit;
  const ids = new Set(t.ops.map((o) => o.messageId));
  const out = t.items.map((m) => (m.id && ids.has(m.id) ? withOps(m, t.ops) : m));
  shownCache.set(t, out);
  return out;
}
