/**
 * A message as the server sends it, with the fields of the conversation features read
 * safely: a server before them leaves them out, and a malformed entry is dropped rather
 * than trusted. Used by the gateway's parser and the messages slice alike.
 */
import type { Message, ReactionView, ReplyView } from './types';

/** At most this many distinct emoji per message (the server's limit). */
export const MAX_REACTIONS = 20;

/** A reply's snippet of its original: at most this many characters. */
export const SNIPPET_MAX = 140;

/** The first line that is not blank, at most 140 characters (Unicode scalar values), as the server quotes it. */
export function snippetOf(body: string): string {
  const first = body.split('\n').find((l) => l.trim())?.trim() ?? '';
  const chars = Array.from(first);
  return chars.length > SNIPPET_MAX ? `${chars.slice(0, SNIPPET_MAX - 1).join('')}…` : first;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const stringOrNull = (v: unknown): string | null => (isString(v) && v ? v : null);

export function replyView(v: unknown): ReplyView | null {
  if (!isObject(v) || !isString(v.id) || !isCount(v.seq)) return null;
  return {
    id: v.id,
    seq: v.seq,
    sender_id: isString(v.sender_id) ? v.sender_id : '',
    snippet: isString(v.snippet) ? v.snippet : '',
    deleted: v.deleted === true,
    attachments: isCount(v.attachments) ? v.attachments : 0,
  };
}

export function reactionViews(v: unknown): ReactionView[] {
  if (!Array.isArray(v)) return [];
  const out: ReactionView[] = [];
  for (const r of v) {
    if (!isObject(r) || !isString(r.emoji) || !r.emoji) continue;
    const user_ids = Array.isArray(r.user_ids) ? r.user_ids.filter(isString) : [];
    const count = isCount(r.count) ? r.count : user_ids.length;
    if (count > 0 && !out.some((x) => x.emoji === r.emoji)) out.push({ emoji: r.emoji, count, user_ids });
  }
  return out.slice(0, MAX_REACTIONS);
}

/** The feature fields of `m`, each present and well-formed (the rest of `m` as it is). */
export function normalizeMessage(m: Message): Message {
  const raw = m as unknown as Record<string, unknown>;
  return {
    ...m,
    change_seq: isCount(raw.change_seq) ? raw.change_seq : 0,
    edited_at: stringOrNull(raw.edited_at),
    deleted_at: stringOrNull(raw.deleted_at),
    deleted_by: stringOrNull(raw.deleted_by),
    reply_to: replyView(raw.reply_to),
    reactions: reactionViews(raw.reactions),
    pinned_at: stringOrNull(raw.pinned_at),
    pinned_by: stringOrNull(raw.pinned_by),
    mentions: Array.isArray(raw.mentions) ? raw.mentions.filter(isString) : [],
  };
}
