import { MessagesSquare } from 'lucide-react';

/** The right pane while no conversation is open. */
export function EmptyConversation() {
  return (
    <div className="flex flex-1 flex-col items-center justify-center p-8 text-center">
      <div className="glass-subtle mb-6 grid size-20 place-items-center rounded-[1.75rem] shadow-sm">
        <MessagesSquare className="size-9 text-accent-500 dark:text-accent-300" strokeWidth={1.6} aria-hidden />
      </div>
      <h2 className="text-xl font-semibold tracking-tight text-slate-900 dark:text-white">Select a conversation</h2>
      <p className="mt-2 max-w-sm text-sm leading-relaxed text-slate-600 dark:text-slate-400">
        Choose a conversation from the list to read and reply. Messages arrive here in real time.
      </p>
    </div>
  );
}
