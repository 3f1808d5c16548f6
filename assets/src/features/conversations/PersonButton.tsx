import { Check } from 'lucide-react';
import type { User } from '../../api';
import { conversationsSelectors } from '../../stores';
import { Avatar, cn, PresenceDot, Spinner } from '../../ui';
import { useAppState } from '../services';

interface PersonButtonProps {
  user: User;
  onClick(): void;
  /** A picker's toggle state (group members); undefined for a plain action. */
  selected?: boolean;
  busy?: boolean;
  label: string;
}

/** One person in a search result: avatar, name, @username. */
export function PersonButton({ user, onClick, selected, busy, label }: PersonButtonProps) {
  const online = useAppState((s) => conversationsSelectors.isOnline(s, user.id));
  return (
    <button
      type="button"
      onClick={onClick}
      aria-label={label}
      aria-pressed={selected}
      disabled={busy}
      className={cn(
        'flex w-full items-center gap-3 rounded-2xl p-2 text-left transition-colors',
        'hover:bg-slate-900/5 dark:hover:bg-white/10',
        selected && 'bg-accent-500/10 dark:bg-accent-400/15',
      )}
    >
      <span className="relative">
        <Avatar name={user.display_name} seed={user.id} />
        <PresenceDot online={online} />
      </span>
      <span className="min-w-0 flex-1">
        <span className="block truncate text-sm font-semibold text-slate-900 dark:text-white">{user.display_name}</span>
        <span className="block truncate text-xs text-slate-500 dark:text-slate-400">@{user.username}</span>
      </span>
      {busy && <Spinner className="text-slate-500" />}
      {selected !== undefined && (
        <span
          aria-hidden="true"
          className={cn(
            'grid size-5 place-items-center rounded-full border transition-colors',
            selected ? 'border-accent-500 bg-accent-500 text-white' : 'border-slate-300 dark:border-white/20',
          )}
        >
          {selected && <Check className="size-3.5" strokeWidth={3} />}
        </span>
      )}
    </button>
  );
}

export function SearchState({ status, error, count, query }: { status: string; error: string | null; count: number; query: string }) {
  let text: string | null = null;
  if (status === 'searching') text = 'Searching…';
  else if (status === 'error') text = error ?? 'Search failed.';
  else if (status === 'done' && count === 0) text = `No one found for “${query.trim()}”.`;
  else if (status === 'done') text = `${count} ${count === 1 ? 'person' : 'people'} found.`;
  return (
    <p role="status" className={cn('px-2 py-2 text-sm text-slate-500 dark:text-slate-400', status === 'done' && count > 0 && 'sr-only')}>
      {text}
    </p>
  );
}
