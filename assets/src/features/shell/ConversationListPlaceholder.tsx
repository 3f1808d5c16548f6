import { MessageSquareDashed } from 'lucide-react';

/**
 * Stands where the conversation list will go: a scrollable `<nav>` region between the
 * sidebar header and the user card.
 */
export function ConversationListPlaceholder() {
  return (
    <nav aria-labelledby="conversations-heading" className="flex min-h-0 flex-1 flex-col overflow-y-auto px-3">
      <h2
        id="conversations-heading"
        className="px-2 pb-2 text-xs font-semibold uppercase tracking-wider text-slate-500 dark:text-slate-400"
      >
        Conversations
      </h2>
      <ul className="flex flex-col gap-1" aria-hidden="true">
        {[0.9, 0.65, 0.4].map((opacity, i) => (
          <li key={i} className="flex items-center gap-3 rounded-2xl p-2" style={{ opacity }}>
            <span className="size-10 shrink-0 rounded-full bg-slate-900/6 dark:bg-white/6" />
            <span className="flex flex-1 flex-col gap-2">
              <span className="h-2.5 w-2/5 rounded-full bg-slate-900/8 dark:bg-white/8" />
              <span className="h-2 w-4/5 rounded-full bg-slate-900/5 dark:bg-white/5" />
            </span>
          </li>
        ))}
      </ul>
      <div className="mt-6 flex flex-col items-center px-6 text-center">
        <MessageSquareDashed className="mb-3 size-6 text-slate-400 dark:text-slate-500" aria-hidden />
        <p className="text-sm font-medium text-slate-700 dark:text-slate-200">No conversations yet</p>
        <p className="mt-1 text-xs leading-relaxed text-slate-500 dark:text-slate-400">
          Your conversations will appear here.
        </p>
      </div>
    </nav>
  );
}
