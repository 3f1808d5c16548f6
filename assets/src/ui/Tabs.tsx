import { useRef, type KeyboardEvent } from 'react';
import { cn } from './cn';

export interface TabItem<T extends string> {
  id: T;
  label: string;
}

interface SegmentedTabsProps<T extends string> {
  /** Names the tab list for screen readers. */
  label: string;
  /** Prefix for element ids; panels use `tabPanelId(idPrefix, id)`. */
  idPrefix: string;
  tabs: ReadonlyArray<TabItem<T>>;
  value: T;
  onChange(value: T): void;
  className?: string;
}

export const tabId = (prefix: string, id: string) => `${prefix}-tab-${id}`;
export const tabPanelId = (prefix: string, id: string) => `${prefix}-panel-${id}`;

/**
 * A segmented control with WAI-ARIA tab semantics: arrow keys, Home and End move and select;
 * only the selected tab is in the Tab order. The pill slides with a CSS transform.
 */
export function SegmentedTabs<T extends string>({
  label,
  idPrefix,
  tabs,
  value,
  onChange,
  className,
}: SegmentedTabsProps<T>) {
  const refs = useRef<Array<HTMLButtonElement | null>>([]);
  const index = Math.max(
    0,
    tabs.findIndex((t) => t.id === value),
  );

  const select = (i: number) => {
    const tab = tabs[(i + tabs.length) % tabs.length];
    if (!tab) return;
    onChange(tab.id);
    refs.current[(i + tabs.length) % tabs.length]?.focus();
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const moves: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
    const next = moves[e.key];
    if (next === undefined) return;
    e.preventDefault();
    select(next);
  };

  return (
    <div
      role="tablist"
      aria-label={label}
      onKeyDown={onKeyDown}
      className={cn(
        'relative grid rounded-2xl bg-slate-900/5 p-1 dark:bg-white/5',
        'ring-1 ring-inset ring-slate-900/5 dark:ring-white/5',
        className,
      )}
      style={{ gridTemplateColumns: `repeat(${tabs.length}, minmax(0, 1fr))` }}
    >
      <span
        aria-hidden="true"
        className="absolute inset-y-1 left-1 rounded-xl bg-white shadow-sm transition-transform duration-300 ease-[cubic-bezier(.22,1,.36,1)] motion-reduce:transition-none dark:bg-white/12"
        style={{ width: `calc((100% - 0.5rem) / ${tabs.length})`, transform: `translateX(${index * 100}%)` }}
      />
      {tabs.map((tab, i) => {
        const selected = tab.id === value;
        return (
          <button
            key={tab.id}
            ref={(el) => {
              refs.current[i] = el;
            }}
            id={tabId(idPrefix, tab.id)}
            type="button"
            role="tab"
            aria-selected={selected}
            aria-controls={tabPanelId(idPrefix, tab.id)}
            tabIndex={selected ? 0 : -1}
            onClick={() => onChange(tab.id)}
            className={cn(
              'relative z-10 h-9 rounded-xl px-3 text-sm font-medium transition-colors',
              selected
                ? 'text-slate-900 dark:text-white'
                : 'text-slate-500 hover:text-slate-800 dark:text-slate-400 dark:hover:text-slate-200',
            )}
          >
            {tab.label}
          </button>
        );
      })}
    </div>
  );
}
