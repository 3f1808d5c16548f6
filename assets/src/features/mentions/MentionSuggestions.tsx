import type { User } from '../../api';
import { Avatar, cn } from '../../ui';

/** The members matching an "@…" in the composer; the composer keeps the keyboard (arrows, Enter, Tab, Escape). */
export function MentionSuggestions({ id, users, active, onPick }: { id: string; users: User[]; active: number; onPick(u: User): void }) {
  return (
    <ul
      id={id}
      role="listbox"
      aria-label="Mention someone"
      className="glass absolute bottom-full left-2 right-2 z-30 mb-2 max-h-64 overflow-y-auto rounded-2xl bg-white p-1.5 shadow-lg sm:right-auto sm:w-72 dark:bg-[rgb(15_20_38)]"
    >
      {users.map((u, i) => (
        <li
          key={u.id}
          id={`${id}-${i}`}
          role="option"
          aria-selected={i === active}
          // Pressing must not take the focus from the composer.
          onPointerDown={(e) => e.preventDefault()}
          onClick={() => onPick(u)}
          className={cn(
            'flex cursor-pointer items-center gap-2.5 rounded-xl px-2.5 py-1.5 text-sm',
            i === active ? 'bg-accent-500/12 dark:bg-white/12' : 'hover:bg-slate-900/5 dark:hover:bg-white/8',
          )}
        >
          <Avatar name={u.display_name} seed={u.id} size="sm" />
          <span className="min-w-0 flex-1 truncate font-medium text-slate-900 dark:text-white">{u.display_name}</span>
          <span className="shrink-0 text-xs text-slate-500 dark:text-slate-400">@{u.username}</span>
        </li>
      ))}
    </ul>
  );
}
