import { Search } from 'lucide-react';
import { useCallback, useEffect, useState } from 'react';
import { toast } from 'sonner';
import { describeError, type AccountPatch, type AdminUser } from '../../api';
import { sessionSelectors } from '../../stores';
import { Avatar, Button, TextField } from '../../ui';
import { useAppState, useServices } from '../services';

export const USER_SEARCH_DEBOUNCE_MS = 250;

/** Accounts: search, make or remove administrators, disable or enable. */
export function UsersPanel() {
  const { api } = useServices();
  const me = useAppState(sessionSelectors.user);
  const [query, setQuery] = useState('');
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(
    (q: string, signal?: AbortSignal) =>
      api.admin.users(q, signal).then(
        (list) => {
          setUsers(list);
          setError(null);
        },
        (err: unknown) => {
          if (!signal?.aborted) setError(describeError(err));
        },
      ),
    [api],
  );

  useEffect(() => {
    const abort = new AbortController();
    const timer = setTimeout(() => void load(query, abort.signal), query ? USER_SEARCH_DEBOUNCE_MS : 0);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [query, load]);

  const change = async (user: AdminUser, patch: AccountPatch, done: string) => {
    setBusy(user.id);
    try {
      const updated = await api.admin.updateUser(user.id, patch);
      setUsers((list) => list?.map((u) => (u.id === updated.id ? updated : u)) ?? null);
      toast.success(done);
    } catch (err) {
      toast.error('Could not change the account', { description: describeError(err) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="flex min-h-0 flex-col gap-3">
      <TextField
        label="Search accounts"
        type="search"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        placeholder="Username or display name"
        trailing={<Search className="size-4 text-slate-400" aria-hidden />}
      />
      {error && (
        <p role="alert" className="text-sm text-rose-600 dark:text-rose-400">
          {error}
        </p>
      )}
      {users === null && !error && <p className="text-sm text-slate-500">Loading…</p>}
      {users?.length === 0 && <p className="text-sm text-slate-500">No account matches.</p>}
      <ul aria-label="Accounts" className="-mx-1 flex min-h-0 flex-col gap-1 overflow-y-auto px-1">
        {users?.map((u) => {
          const self = u.id === me?.id;
          const disabled = u.disabled_at !== null;
          return (
            <li
              key={u.id}
              data-testid={`admin-user-${u.username}`}
              className="flex items-center gap-3 rounded-2xl p-2 hover:bg-slate-900/5 dark:hover:bg-white/5"
            >
              <Avatar name={u.display_name} seed={u.id} size="sm" />
              <div className="min-w-0 flex-1">
                <p className="truncate text-sm font-medium">
                  {u.display_name}
                  {self && <span className="text-slate-500"> (you)</span>}
                </p>
                <p className="truncate text-xs text-slate-500 dark:text-slate-400">
                  @{u.username}
                  {u.is_admin && <span className="ml-2 rounded bg-sky-500/15 px-1.5 text-sky-700 dark:text-sky-300">Admin</span>}
                  {disabled && <span className="ml-2 rounded bg-rose-500/15 px-1.5 text-rose-700 dark:text-rose-300">Disabled</span>}
                </p>
              </div>
              <Button
                size="sm"
                variant="ghost"
                disabled={busy === u.id}
                aria-label={`${u.is_admin ? 'Remove admin' : 'Make admin'} ${u.username}`}
                onClick={() =>
                  void change(u, { is_admin: !u.is_admin }, u.is_admin ? `@${u.username} is no longer an admin` : `@${u.username} is now an admin`)
                }
              >
                {u.is_admin ? 'Remove admin' : 'Make admin'}
              </Button>
              <Button
                size="sm"
                variant={disabled ? 'secondary' : 'danger'}
                disabled={busy === u.id}
                aria-label={`${disabled ? 'Enable' : 'Disable'} ${u.username}`}
                onClick={() =>
                  void change(u, { disabled: !disabled }, disabled ? `@${u.username} can sign in again` : `@${u.username} is disabled and signed out`)
                }
              >
                {disabled ? 'Enable' : 'Disable'}
              </Button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
