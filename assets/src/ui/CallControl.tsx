import type { ReactNode } from 'react';
import { cn } from './cn';

/**
 * A round control of a call view (mute, camera, share, hang up): white when pressed,
 * rose for `danger`. `compact` shrinks it on narrow screens (a group call has more of
 * them in a row).
 */
export function CallControl({
  label,
  pressed,
  disabled,
  onClick,
  children,
  tone = 'default',
  compact = false,
}: {
  label: string;
  pressed?: boolean;
  disabled?: boolean;
  onClick(): void;
  children: ReactNode;
  tone?: 'default' | 'danger';
  compact?: boolean;
}) {
  return (
    <button
      type="button"
      aria-label={label}
      aria-pressed={pressed}
      title={label}
      disabled={disabled}
      onClick={onClick}
      className={cn(
        'grid place-items-center rounded-full backdrop-blur transition-[transform,background-color] duration-150 hover:scale-105 active:scale-95 disabled:opacity-40 motion-reduce:hover:scale-100 motion-reduce:active:scale-100',
        compact ? 'size-12 shrink-0 sm:size-14' : 'size-14',
        tone === 'danger'
          ? 'bg-rose-600 text-white shadow-lg shadow-rose-900/50 hover:bg-rose-500'
          : pressed
            ? 'bg-white text-slate-900 hover:bg-white/90'
            : 'bg-white/15 text-white hover:bg-white/25',
      )}
    >
      {children}
    </button>
  );
}
