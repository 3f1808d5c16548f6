/** What frames the message list: the block above the first row, and the day separators. */
import type { Thread } from '../../stores';
import { Avatar, avatarName, Spinner } from '../../ui';

interface TopRowProps {
  thread: Thread;
  title: string;
  seed: string;
  isGroup: boolean;
  onRetry(): void;
}

/** "Today", "Yesterday", … between days. */
export function DaySeparator({ label }: { label: string }) {
  return (
    <div role="separator" aria-label={label} className="flex h-10 items-end justify-center pb-0.5">
      <span
        aria-hidden="true"
        className="glass-subtle rounded-full px-3 py-1 text-[11px] font-semibold text-slate-600 shadow-sm dark:text-slate-300"
      >
        {label}
      </span>
    </div>
  );
}

export function TopRow({ thread, title, seed, isGroup, onRetry }: TopRowProps) {
  if (thread.status === 'idle' || thread.status === 'loading') {
    return (
      <div className="flex h-full items-end justify-center pb-2 text-slate-500">
        <Spinner label="Loading messages" className="size-5" />
      </div>
    );
  }
  if (thread.status === 'error') {
    return (
      <div className="flex h-full items-end justify-center px-6 pb-3 text-center text-sm text-slate-600 dark:text-slate-400">
        Could not load the messages.&nbsp;
        <button type="button" onClick={onRetry} className="font-semibold text-accent-600 underline underline-offset-2 dark:text-accent-300">
          Try again
        </button>
      </div>
    );
  }
  if (thread.hasOlder) {
    return (
      <div className="flex h-full items-center justify-center text-slate-500">
        {thread.loadingOlder && <Spinner label="Loading older messages" />}
      </div>
    );
  }
  return (
    <div className="flex h-full flex-col items-center justify-end px-6 pb-2 text-center">
      <Avatar name={avatarName(title)} seed={seed} size="lg" className={isGroup ? 'rounded-3xl' : undefined} />
      <p className="mt-3 max-w-full truncate font-semibold text-slate-900 dark:text-white">{title}</p>
      <p className="mt-1 line-clamp-2 max-w-xs text-sm text-slate-500 dark:text-slate-400">
        {isGroup ? 'This is the beginning of the group.' : `This is the beginning of your conversation with ${title}.`}
      </p>
    </div>
  );
}
