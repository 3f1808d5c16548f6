import { SmilePlus } from 'lucide-react';
import { memo, useRef, useState } from 'react';
import type { ReactionView } from '../../api';
import { cn } from '../../ui';
import { ReactionPicker } from './ReactionPicker';

/** "You, Bob and 2 others" — who reacted, for the tooltip and the label. */
export function reactorsLabel(r: ReactionView, nameOf: (id: string) => string, myId: string | null): string {
  const names = [...r.user_ids].sort((a, b) => (a === myId ? -1 : b === myId ? 1 : 0)).map((id) => (id === myId ? 'You' : nameOf(id)));
  const more = Math.max(0, r.count - names.length);
  const shown = more > 0 ? [...names, `${more} ${more === 1 ? 'other' : 'others'}`] : names;
  if (shown.length <= 1) return shown[0] ?? '';
  return `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

interface ChipsProps {
  reactions: ReactionView[];
  myId: string | null;
  own: boolean;
  nameOf(id: string): string;
  /** Toggles my reaction with this emoji; absent: read only (a tombstone, a pending message). */
  onToggle?(emoji: string): void;
}

/** The reactions under a bubble: emoji and count, mine highlighted; a click toggles mine. */
export const ReactionChips = memo(function ReactionChips({ reactions, myId, own, nameOf, onToggle }: ChipsProps) {
  const addRef = useRef<HTMLButtonElement>(null);
  const [adding, setAdding] = useState(false);
  if (reactions.length === 0) return null;
  const mine = new Set(reactions.filter((r) => myId && r.user_ids.includes(myId)).map((r) => r.emoji));
  return (
    <div role="group" aria-label="Reactions" className={cn('-mt-1 flex max-w-full flex-wrap gap-1 px-1', own ? 'justify-end' : 'justify-start')}>
      {reactions.map((r) => {
        const isMine = mine.has(r.emoji);
        const who = reactorsLabel(r, nameOf, myId);
        return (
          <button
            key={r.emoji}
            type="button"
            data-testid="reaction"
            aria-pressed={isMine}
            disabled={!onToggle}
            title={who}
            aria-label={`${r.emoji} ${r.count}: ${who}${onToggle ? (isMine ? '. Remove your reaction' : '. Add this reaction') : ''}`}
            onClick={() => onToggle?.(r.emoji)}
            className={cn(
              'inline-flex h-7 items-center gap-1 rounded-full px-2 text-sm leading-none shadow-sm ring-1 transition-colors',
              isMine
                ? 'bg-accent-500/15 font-semibold text-accent-700 ring-accent-500/50 dark:bg-accent-400/20 dark:text-accent-100 dark:ring-accent-300/50'
                : 'bg-white/90 text-slate-700 ring-slate-900/8 hover:bg-white dark:bg-slate-800/80 dark:text-slate-200 dark:ring-white/10',
            )}
          >
            <span className="text-base">{r.emoji}</span>
            <span className="text-xs tabular-nums">{r.count}</span>
          </button>
        );
      })}
      {onToggle && (
        <>
          <button
            ref={addRef}
            type="button"
            aria-label="Add a reaction"
            onClick={() => setAdding((v) => !v)}
            className="inline-flex h-7 items-center rounded-full bg-white/70 px-2 text-slate-500 shadow-sm ring-1 ring-slate-900/8 hover:text-slate-800 dark:bg-slate-800/60 dark:text-slate-400 dark:ring-white/10 dark:hover:text-white"
          >
            <SmilePlus className="size-4" aria-hidden />
          </button>
          {adding && <ReactionPicker anchor={addRef} mine={mine} onPick={(e) => onToggle(e)} onClose={() => setAdding(false)} alignEnd={own} />}
        </>
      )}
    </div>
  );
});
