import { Copy, Link2 } from 'lucide-react';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { toast } from 'sonner';
import { describeError, INVITE_NOTE_MAX, type CreatedInvite, type Invite } from '../../api';
import { Button, TextField } from '../../ui';
import { useServices } from '../services';
import { formatDate, inviteLink } from './format';

/** Lifetimes offered, in hours. */
export const INVITE_LIFETIMES: ReadonlyArray<{ hours: number; label: string }> = [
  { hours: 24, label: '1 day' },
  { hours: 168, label: '7 days' },
  { hours: 720, label: '30 days' },
];

const STATE_LABEL: Record<Invite['state'], string> = {
  active: 'Active',
  used: 'Used',
  revoked: 'Revoked',
  expired: 'Expired',
};

async function copy(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    toast.success('Invite link copied');
  } catch {
    toast.error('Could not copy', { description: 'Select the link and copy it yourself.' });
  }
}

/** Invites: create one (note, lifetime) and copy its link; see who used which; revoke. */
export function InvitesPanel({ origin = window.location.origin }: { origin?: string }) {
  const { api } = useServices();
  const [invites, setInvites] = useState<Invite[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const [hours, setHours] = useState(168);
  const [pending, setPending] = useState(false);
  const [created, setCreated] = useState<CreatedInvite | null>(null);

  const load = useCallback(
    () =>
      api.admin.invites().then(
        (list) => {
          setInvites(list);
          setError(null);
        },
        (err: unknown) => setError(describeError(err)),
      ),
    [api],
  );

  useEffect(() => {
    void load();
  }, [load]);

  const noteTooLong = [...note.trim()].length > INVITE_NOTE_MAX;

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (pending || noteTooLong) return;
    setPending(true);
    try {
      const trimmed = note.trim();
      const made = await api.admin.createInvite({ ...(trimmed ? { note: trimmed } : {}), expires_in_hours: hours });
      setCreated(made);
      setNote('');
      void load();
    } catch (err) {
      toast.error('Could not create the invite', { description: describeError(err) });
    } finally {
      setPending(false);
    }
  };

  const revoke = async (invite: Invite) => {
    try {
      await api.admin.revokeInvite(invite.id);
      toast.success('Invite revoked');
      void load();
    } catch (err) {
      toast.error('Could not revoke the invite', { description: describeError(err) });
    }
  };

  const link = created ? inviteLink(origin, created.path) : null;

  return (
    <div className="flex min-h-0 flex-col gap-4">
      <form onSubmit={create} noValidate className="flex flex-col gap-3">
        <TextField
          label="Note (optional)"
          value={note}
          onChange={(e) => setNote(e.target.value)}
          placeholder="Whom is it for?"
          error={noteTooLong ? `At most ${INVITE_NOTE_MAX} characters` : null}
        />
        <div className="flex items-end gap-3">
          <label className="flex flex-1 flex-col gap-1 text-sm font-medium">
            Valid for
            <select
              value={hours}
              onChange={(e) => setHours(Number(e.target.value))}
              className="h-10 rounded-xl border border-slate-900/10 bg-white/70 px-3 dark:border-white/10 dark:bg-slate-800/70"
            >
              {INVITE_LIFETIMES.map((l) => (
                <option key={l.hours} value={l.hours}>
                  {l.label}
                </option>
              ))}
            </select>
          </label>
          <Button type="submit" loading={pending} disabled={noteTooLong}>
            <Link2 className="size-4" aria-hidden /> Create invite link
          </Button>
        </div>
      </form>

      {link && (
        <div className="rounded-2xl bg-emerald-500/10 p-3" data-testid="new-invite">
          <p className="mb-2 text-sm">Share this link. It works once and is shown only now.</p>
          <div className="flex items-center gap-2">
            <input
              readOnly
              aria-label="Invite link"
              value={link}
              onFocus={(e) => e.currentTarget.select()}
              className="h-9 min-w-0 flex-1 rounded-lg bg-white/80 px-2 font-mono text-xs dark:bg-slate-800/80"
            />
            <Button size="sm" variant="secondary" onClick={() => void copy(link)} aria-label="Copy invite link">
              <Copy className="size-4" aria-hidden /> Copy
            </Button>
          </div>
        </div>
      )}

      {error && (
        <p role="alert" className="text-sm text-rose-600 dark:text-rose-400">
          {error}
        </p>
      )}
      {invites?.length === 0 && <p className="text-sm text-slate-500">No invites yet.</p>}
      <ul aria-label="Invites" className="-mx-1 flex min-h-0 flex-col gap-1 overflow-y-auto px-1">
        {invites?.map((i) => (
          <li key={i.id} data-testid="admin-invite" className="flex items-center gap-3 rounded-2xl p-2 hover:bg-slate-900/5 dark:hover:bg-white/5">
            <div className="min-w-0 flex-1 text-sm">
              <p className="truncate font-medium">{i.note ?? 'Invite'}</p>
              <p className="truncate text-xs text-slate-500 dark:text-slate-400">
                <span data-testid="invite-state">{STATE_LABEL[i.state]}</span>
                {i.used_by ? (
                  <span data-testid="invite-used-by"> by @{i.used_by.username}, {formatDate(i.used_at)}</span>
                ) : (
                  <span> · expires {formatDate(i.expires_at)}</span>
                )}
              </p>
            </div>
            {i.state === 'active' && (
              <Button size="sm" variant="ghost" onClick={() => void revoke(i)} aria-label={`Revoke invite ${i.note ?? i.id}`}>
                Revoke
              </Button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
