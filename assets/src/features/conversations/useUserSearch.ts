import { useEffect, useState } from 'react';
import { describeError, type User } from '../../api';
import { useAppState, useServices } from '../services';

export const SEARCH_DEBOUNCE_MS = 250;

export type SearchStatus = 'idle' | 'searching' | 'done' | 'error';

/** People matching a query (GET /users?query=), debounced; the signed-in user is left out. */
export function useUserSearch(query: string) {
  const { api } = useServices();
  const myId = useAppState((s) => s.session.user?.id);
  const [results, setResults] = useState<User[]>([]);
  const [status, setStatus] = useState<SearchStatus>('idle');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const q = query.trim();
    if (!q) {
      setResults([]);
      setStatus('idle');
      return;
    }
    setStatus('searching');
    const abort = new AbortController();
    const timer = setTimeout(() => {
      api.users.search(q, abort.signal).then(
        (users) => {
          setResults(users.filter((u) => u.id !== myId));
          setStatus('done');
          setError(null);
        },
        (err: unknown) => {
          if (abort.signal.aborted) return;
          setStatus('error');
          setError(describeError(err));
        },
      );
    }, SEARCH_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [query, myId, api]);

  return { results, status, error };
}
