import { useEffect, useRef, type KeyboardEvent } from 'react';
import { cn } from '../../ui';
import type { ActionItem } from './items';

/**
 * The actions as menu items: arrows, Home and End move, Enter or a click runs one (and
 * `onDone` closes what holds the list). Focus starts on the first item when `autoFocus`.
 */
export function ActionList({ items, onDone, autoFocus = true, large = false }: { items: ActionItem[]; onDone(): void; autoFocus?: boolean; large?: boolean }) {
  const refs = useRef<Array<HTMLButtonElement | null>>([]);
  useEffect(() => {
    if (autoFocus) refs.current[0]?.focus({ preventScroll: true });
  }, [autoFocus]);

  const onKeyDown = (e: KeyboardEvent) => {
    const i = refs.current.findIndex((el) => el === document.activeElement);
    const moves: Record<string, number> = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: items.length - 1 };
    const next = moves[e.key];
    if (next === undefined) return;
    e.preventDefault();
    refs.current[(next + items.length) % items.length]?.focus();
  };

  return (
    <div role="menu" aria-label="Message actions" onKeyDown={onKeyDown} className="flex min-w-44 flex-col">
      {items.map((item, i) => (
        <button
          key={item.id}
          ref={(el) => {
            refs.current[i] = el;
          }}
          type="button"
          role="menuitem"
          tabIndex={i === 0 ? 0 : -1}
          onClick={() => {
            onDone();
            item.onSelect();
          }}
          className={cn(
            'flex w-full items-center gap-3 rounded-xl px-3 text-left text-sm font-medium outline-none focus:bg-slate-900/6 hover:bg-slate-900/6 dark:focus:bg-white/10 dark:hover:bg-white/10',
            large ? 'py-3' : 'py-2',
            item.tone === 'danger' ? 'text-rose-600 dark:text-rose-300' : 'text-slate-800 dark:text-slate-100',
          )}
        >
          <span className="opacity-80">{item.icon}</span>
          {item.label}
        </button>
      ))}
    </div>
  );
}
