/**
 * Mentions: `@username` in a body. The composer suggests members as the user types `@…`
 * (`mentionQuery`, `matchMembers`, `insertMention`); a bubble highlights the mentions the
 * server resolved (`mentionParts`, only usernames of the ids in `mentions`).
 */
import type { User } from '../../api';

/** Characters of a username (the server's rule: a–z, 0–9, "_" and "."). */
const NAME = /^[a-z0-9_.]*$/iu;

export interface MentionQuery {
  /** Index of the "@". */
  start: number;
  /** What follows it up to the caret. */
  query: string;
}

/** The "@word" the caret is in, when it opens a word (start of text or after a space). */
export function mentionQuery(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf('@');
  if (at < 0) return null;
  if (at > 0 && !/\s/u.test(before[at - 1]!)) return null;
  const query = before.slice(at + 1);
  if (query.length > 32 || !NAME.test(query)) return null;
  return { start: at, query };
}

/** Members whose username or display name starts a word with `query`, best first; not me. */
export function matchMembers(members: readonly User[], query: string, myId: string | null, limit = 6): User[] {
  const q = query.toLocaleLowerCase();
  const scored: Array<{ u: User; score: number }> = [];
  for (const u of members) {
    if (u.id === myId) continue;
    const name = u.username.toLocaleLowerCase();
    const display = u.display_name.toLocaleLowerCase();
    let score = -1;
    if (name.startsWith(q)) score = 3;
    else if (display.startsWith(q)) score = 2;
    else if (display.split(/\s+/u).some((w) => w.startsWith(q))) score = 1;
    else if (q && name.includes(q)) score = 0;
    if (score >= 0) scored.push({ u, score });
  }
  return scored
    .sort((a, b) => b.score - a.score || a.u.display_name.localeCompare(b.u.display_name))
    .slice(0, limit)
    .map((x) => x.u);
}

/** The text with the "@query" at `q` replaced by "@username ", and where the caret goes. */
export function insertMention(text: string, q: MentionQuery, caret: number, username: string): { text: string; caret: number } {
  const inserted = `@${username} `;
  const after = text.slice(caret).replace(/^\S*/u, '').replace(/^ /u, '');
  return { text: text.slice(0, q.start) + inserted + after, caret: q.start + inserted.length };
}

export type MentionPart = { kind: 'text'; text: string } | { kind: 'mention'; text: string; userId: string };

/** Splits text at the "@username" of the given users (username → id); the rest stays text. */
export function mentionParts(text: string, byUsername: ReadonlyMap<string, string>): MentionPart[] {
  if (byUsername.size === 0 || !text.includes('@')) return [{ kind: 'text', text }];
  const parts: MentionPart[] = [];
  let last = 0;
  for (const match of text.matchAll(/(^|[^\p{L}\p{N}_.@])@([a-z0-9_.]+)/giu)) {
    const name = match[2]!.replace(/\.+$/u, '');
    const userId = byUsername.get(name.toLocaleLowerCase());
    if (!userId) continue;
    const start = match.index + match[1]!.length;
    if (start > last) parts.push({ kind: 'text', text: text.slice(last, start) });
    parts.push({ kind: 'mention', text: `@${name}`, userId });
    last = start + 1 + name.length;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts.length ? parts : [{ kind: 'text', text }];
}
