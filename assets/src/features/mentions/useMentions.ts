import { useMemo, useState, type KeyboardEvent, type RefObject } from 'react';
import type { User } from '../../api';
import { insertMention, matchMembers, mentionQuery, type MentionQuery } from './mentions';

/**
 * Mention autocomplete for a textarea: `@` then letters lists matching members; ArrowUp and
 * ArrowDown move, Enter or Tab takes one, Escape closes. `onKeyDown` returns true when it
 * used the key (the composer must not send then).
 */
export function useMentions({
  enabled,
  members,
  myId,
  text,
  ref,
  setText,
}: {
  enabled: boolean;
  members: readonly User[];
  myId: string | null;
  text: string;
  ref: RefObject<HTMLTextAreaElement | null>;
  setText(text: string): void;
}) {
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const query: MentionQuery | null = enabled ? mentionQuery(text, caret) : null;
  const q = query?.query ?? null;
  const users = useMemo(() => (q === null ? [] : matchMembers(members, q, myId)), [q, members, myId]);
  const open = users.length > 0 && query !== null && dismissed !== query.start;
  const index = Math.min(active, Math.max(0, users.length - 1));

  const pick = (u: User) => {
    if (!query) return;
    const next = insertMention(text, query, caret, u.username);
    setText(next.text);
    setCaret(next.caret);
    setActive(0);
    requestAnimationFrame(() => ref.current?.setSelectionRange(next.caret, next.caret));
  };

  return {
    open,
    users,
    active: index,
    pick,
    /** After every change or caret move. */
    track: () => {
      const el = ref.current;
      if (!el) return;
      if (el.selectionStart !== caret) {
        setCaret(el.selectionStart);
        setActive(0);
      }
    },
    onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>): boolean {
      if (!open) return false;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const n = users.length;
        setActive((index + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
        return true;
      }
      if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
        e.preventDefault();
        pick(users[index]!);
        return true;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        setDismissed(query!.start);
        return true;
      }
      return false;
    },
  };
}
