import { MessageSquareDashed, Search } from 'lucide-react';
import { useDeferredValue, useMemo, useState } from 'react';
import { conversationsSelectors, matchesFilter } from '../../stores';
import { Button, Spinner } from '../../ui';
import { ConversationRow } from './ConversationRow';
import { useAppState } from '../services';

/** The sidebar's list: a filter box and the conversations, newest activity first. */
export function ConversationList({ onNewChat }: { onNewChat(): void }) {
  const myId = useAppState((s) => s.session.user?.id ?? null);
  const all = useAppState(conversationsSelectors.ordered);
  const status = useAppState(conversationsSelectors.status);
  const activeId = useAppState(conversationsSelectors.activeId);
  const [filter, setFilter] = useState('');
  const deferred = useDeferredValue(filter);
  const shown = useMemo(() => all.filter((c) => matchesFilter(c, myId, deferred)), [all, myId, deferred]);

  return (
    <nav aria-labelledby="conversations-heading" className="flex min-h-0 flex-1 flex-col">
      <div className="px-4 pb-3">
        <label className="relative block">
          <span className="sr-only">Filter conversations</span>
          <Search className="pointer-events-none absolute left-3 top-1/2 size-4 -translate-y-1/2 text-slate-400" aria-hidden />
          <input
            type="search"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            placeholder="Search"
            autoComplete="off"
            className="h-10 w-full rounded-xl border border-slate-300/70 bg-white/60 pl-9 pr-3 text-sm text-slate-900 placeholder:text-slate-400 focus:border-accent-500 focus:bg-white focus:outline-none focus:ring-4 focus:ring-accent-500/20 focus-visible:outline-none dark:border-white/10 dark:bg-slate-900/40 dark:text-slate-100 dark:placeholder:text-slate-500 dark:focus:bg-slate-900/70"
          />
        </label>
      </div>
      <h2
        id="conversations-heading"
        className="px-5 pb-1.5 text-xs font-semibold uppercase tracking-wider text-slate-500 dark:text-slate-400"
      >
        Conversations
      </h2>
      <div className="min-h-0 flex-1 overflow-y-auto px-2.5 pb-2">
        {shown.length > 0 ? (
          <ul role="list" className="flex flex-col gap-0.5">
            {shown.map((c) => (
              <li key={c.id}>
                <ConversationRow conversation={c} myId={myId} active={c.id === activeId} />
              </li>
            ))}
          </ul>
        ) : status === 'loading' || status === 'idle' ? (
          <div className="flex justify-center py-10 text-slate-500">
            <Spinner label="Loading conversations" className="size-5" />
          </div>
        ) : all.length > 0 ? (
          <p className="px-4 py-8 text-center text-sm text-slate-500 dark:text-slate-400">
            No conversations match “{deferred.trim()}”.
          </p>
        ) : (
          <div className="mt-6 flex flex-col items-center px-6 text-center">
            <MessageSquareDashed className="mb-3 size-6 text-slate-400 dark:text-slate-500" aria-hidden />
            <p className="text-sm font-medium text-slate-700 dark:text-slate-200">No conversations yet</p>
            <p className="mt-1 text-xs leading-relaxed text-slate-500 dark:text-slate-400">
              {status === 'error' ? 'Could not load your conversations.' : 'Start one with someone on this server.'}
            </p>
            <Button variant="secondary" size="sm" className="mt-4" onClick={onNewChat}>
              Start a chat
            </Button>
          </div>
        )}
      </div>
    </nav>
  );
}
