import { ImageIcon, Search } from 'lucide-react';
import { useEffect, useId, useMemo, useState } from 'react';
import { describeError, type Conversation, type SearchHit, type SearchQuery } from '../../api';
import { conversationsSelectors, conversationTitle } from '../../stores';
import { Avatar, Button, cn, Spinner } from '../../ui';
import { SidePanel } from '../../ui/SidePanel';
import { formatListTime } from '../chat/format';
import { useAppState, useServices } from '../services';
import { snippetParts } from './snippet';

export const SEARCH_DEBOUNCE_MS = 300;
export const SEARCH_PAGE = 20;

interface Filters {
  q: string;
  here: boolean;
  sender: string;
  from: string;
  to: string;
  images: boolean;
}

/** The query for the filters: the dates are whole local days. */
export function searchQuery(f: Filters, conversationId: string): SearchQuery | null {
  const q = f.q.trim();
  if (!q) return null;
  const day = (d: string, end: boolean) => (d ? new Date(`${d}T${end ? '23:59:59.999' : '00:00:00'}`).toISOString() : undefined);
  return {
    q,
    conversation_id: f.here ? conversationId : undefined,
    sender_id: f.sender || undefined,
    after: day(f.from, false),
    before: day(f.to, true),
    has: f.images ? 'image' : undefined,
    limit: SEARCH_PAGE,
  };
}

/**
 * Search (GET /search), debounced: in this conversation or all, by sender, between dates,
 * with images only. The matches of each snippet are <mark>ed (from the server's markers,
 * never as HTML); "More results" follows next_cursor; a result opens its conversation at
 * the message.
 */
export default function SearchPanel({ conversation: c, onClose }: { conversation: Conversation; onClose(): void }) {
  const { api, store, navigation } = useServices();
  const id = useId();
  const myId = useAppState((s) => s.session.user?.id ?? null);
  const users = useAppState(conversationsSelectors.users);
  const byId = useAppState((s) => s.conversations.byId);
  const [f, setF] = useState<Filters>({ q: '', here: true, sender: '', from: '', to: '', images: false });
  const [state, setState] = useState<{ query: SearchQuery; hits: SearchHit[]; next: string | null; loading: boolean; error: string | null } | null>(null);
  const query = useMemo(() => searchQuery(f, c.id), [f, c.id]);
  const key = JSON.stringify(query);

  useEffect(() => {
    if (!query) return setState(null);
    const ctl = new AbortController();
    const t = setTimeout(() => {
      setState({ query, hits: [], next: null, loading: true, error: null });
      api.changes.search(query, ctl.signal).then(
        (page) => setState({ query, hits: page.results, next: page.next_cursor, loading: false, error: null }),
        (err: unknown) => !ctl.signal.aborted && setState({ query, hits: [], next: null, loading: false, error: describeError(err) }),
      );
    }, SEARCH_DEBOUNCE_MS);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
    // The query is compared by value: a new object with the same filters asks nothing new.
  }, [key]);

  const more = () => {
    if (!state?.next || state.loading) return;
    const s0 = state;
    setState({ ...s0, loading: true });
    api.changes.search({ ...s0.query, cursor: s0.next! }).then(
      (page) => setState((s) => (s && s.query === s0.query ? { ...s, hits: [...s.hits, ...page.results], next: page.next_cursor, loading: false } : s)),
      (err: unknown) => setState((s) => (s ? { ...s, loading: false, error: describeError(err) } : s)),
    );
  };

  const open = (hit: SearchHit) => {
    const cid = hit.message.conversation_id;
    if (cid !== c.id) navigation.open(cid);
    store.getState().messagesJumpRequested(cid, hit.message.seq);
    if (window.matchMedia?.('(max-width: 639px)').matches) onClose();
  };

  const set = <K extends keyof Filters>(k: K, v: Filters[K]) => setF((x) => ({ ...x, [k]: v }));
  const field = 'h-9 rounded-xl border border-slate-300/70 bg-white/70 px-2.5 text-sm dark:border-white/10 dark:bg-slate-900/50';
  const nameOf = (uid: string) => (uid === myId ? 'You' : (users[uid]?.display_name ?? 'Former member'));

  return (
    <SidePanel title="Search messages" onClose={onClose}>
      <div className="flex flex-col gap-2.5 border-b border-slate-900/5 p-4 dark:border-white/8">
        <label htmlFor={`${id}-q`} className="sr-only">
          Search for
        </label>
        <div className="relative">
          <Search className="pointer-events-none absolute left-3 top-1/2 size-4 -translate-y-1/2 text-slate-400" aria-hidden />
          <input
            id={`${id}-q`}
            type="search"
            value={f.q}
            onChange={(e) => set('q', e.target.value)}
            placeholder="Search"
            enterKeyHint="search"
            className="h-10 w-full rounded-xl border border-slate-300/70 bg-white/80 pl-9 pr-3 text-[15px] focus:border-accent-500 focus:outline-none focus:ring-4 focus:ring-accent-500/15 dark:border-white/10 dark:bg-slate-900/60"
          />
        </div>
        <fieldset className="flex flex-wrap items-center gap-x-3 gap-y-2 text-sm">
          <legend className="sr-only">Filters</legend>
          <label className="inline-flex items-center gap-1.5">
            <input type="checkbox" checked={f.here} onChange={(e) => set('here', e.target.checked)} className="size-4 accent-[var(--color-accent-500)]" />
            This conversation
          </label>
          <label className="inline-flex items-center gap-1.5">
            <input type="checkbox" checked={f.images} onChange={(e) => set('images', e.target.checked)} className="size-4 accent-[var(--color-accent-500)]" />
            <ImageIcon className="size-4 text-slate-500" aria-hidden />
            Has image
          </label>
          <label className="inline-flex items-center gap-1.5">
            <span className="text-slate-600 dark:text-slate-300">From</span>
            <select value={f.sender} onChange={(e) => set('sender', e.target.value)} className={cn(field, 'max-w-40')}>
              <option value="">Anyone</option>
              {c.members.map((m) => (
                <option key={m.user.id} value={m.user.id}>
                  {m.user.id === myId ? 'You' : m.user.display_name}
                </option>
              ))}
            </select>
          </label>
          <span className="inline-flex flex-wrap items-center gap-1.5">
            <label className="inline-flex items-center gap-1.5">
              <span className="text-slate-600 dark:text-slate-300">After</span>
              <input type="date" value={f.from} max={f.to || undefined} onChange={(e) => set('from', e.target.value)} className={field} />
            </label>
            <label className="inline-flex items-center gap-1.5">
              <span className="text-slate-600 dark:text-slate-300">Before</span>
              <input type="date" value={f.to} min={f.from || undefined} onChange={(e) => set('to', e.target.value)} className={field} />
            </label>
          </span>
        </fieldset>
      </div>
      <div className="min-h-0 flex-1 overflow-y-auto p-2" aria-live="polite" aria-busy={state?.loading || undefined}>
        {!state ? (
          <p className="px-3 py-8 text-center text-sm text-slate-500 dark:text-slate-400">Type to search {f.here ? 'this conversation' : 'all your conversations'}.</p>
        ) : state.error ? (
          <p role="alert" className="px-3 py-6 text-center text-sm text-rose-600 dark:text-rose-300">
            {state.error}
          </p>
        ) : state.hits.length === 0 && !state.loading ? (
          <p className="px-3 py-8 text-center text-sm text-slate-500 dark:text-slate-400">No messages found.</p>
        ) : (
          <ul aria-label="Results" className="flex flex-col gap-1">
            {state.hits.map((hit) => {
              const m = hit.message;
              const where = byId[m.conversation_id];
              return (
                <li key={m.id}>
                  <button
                    type="button"
                    data-testid="search-result"
                    onClick={() => open(hit)}
                    className="flex w-full items-start gap-2.5 rounded-2xl px-2.5 py-2 text-left hover:bg-slate-900/5 focus-visible:bg-slate-900/5 dark:hover:bg-white/8"
                  >
                    <Avatar name={nameOf(m.sender_id)} seed={m.sender_id} size="sm" />
                    <span className="min-w-0 flex-1">
                      <span className="flex items-baseline gap-2 text-xs">
                        <span className="truncate font-semibold text-slate-900 dark:text-white">{nameOf(m.sender_id)}</span>
                        {!f.here && where && <span className="truncate text-slate-500 dark:text-slate-400">in {conversationTitle(where, myId)}</span>}
                        <time dateTime={m.created_at} className="ml-auto shrink-0 tabular-nums text-slate-500 dark:text-slate-400">
                          {formatListTime(m.created_at)}
                        </time>
                      </span>
                      <span className="mt-0.5 line-clamp-3 text-sm text-slate-700 dark:text-slate-200">
                        {snippetParts(hit.snippet).map((p, i) =>
                          p.mark ? (
                            <mark key={i} className="rounded bg-amber-300/70 px-0.5 text-inherit dark:bg-amber-400/40">
                              {p.text}
                            </mark>
                          ) : (
                            <span key={i}>{p.text}</span>
                          ),
                        )}
                      </span>
                    </span>
                  </button>
                </li>
              );
            })}
          </ul>
        )}
        {state?.loading && (
          <div className="grid place-items-center py-4 text-slate-500">
            <Spinner label="Searching" />
          </div>
        )}
        {state?.next && !state.loading && (
          <div className="grid place-items-center py-3">
            <Button variant="secondary" size="sm" onClick={more}>
              More results
            </Button>
          </div>
        )}
      </div>
    </SidePanel>
  );
}
