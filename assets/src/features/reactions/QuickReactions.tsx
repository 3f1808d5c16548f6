import { Plus } from 'lucide-react';
import { cn } from '../../ui';

/** The quick bar: six common reactions, then "more" for the full picker. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🎉'] as const;

export function QuickReactions({ mine, onPick, onMore }: { mine: ReadonlySet<string>; onPick(emoji: string): void; onMore(): void }) {
  return (
    <div role="group" aria-label="Quick reactions" className="flex items-center gap-0.5">
      {QUICK_REACTIONS.map((e) => (
        <button
          key={e}
          type="button"
          aria-pressed={mine.has(e)}
          aria-label={`React with ${e}`}
          onClick={() => onPick(e)}
          className={cn(
            'grid size-10 place-items-center rounded-full text-[22px] leading-none transition-transform hover:scale-110 hover:bg-slate-900/5 motion-reduce:hover:scale-100 dark:hover:bg-white/10',
            mine.has(e) && 'bg-accent-500/15 ring-1 ring-accent-500/40',
          )}
        >
          {e}
        </button>
      ))}
      <button
        type="button"
        aria-label="More reactions"
        onClick={onMore}
        className="grid size-10 place-items-center rounded-full text-slate-500 hover:bg-slate-900/5 hover:text-slate-800 dark:text-slate-400 dark:hover:bg-white/10 dark:hover:text-white"
      >
        <Plus className="size-5" aria-hidden />
      </button>
    </div>
  );
}
