import { X } from 'lucide-react';
import { useState, type FormEvent } from 'react';
import { toast } from 'sonner';
import { describeError, type User } from '../../api';
import { Avatar, Button, Dialog, TextField } from '../../ui';
import { useServices } from '../services';
import { createGroup } from './actions';
import { PersonButton, SearchState } from './PersonButton';
import { useUserSearch } from './useUserSearch';

const NAME_MAX = 64;

/** "New group": a name and the people in it. */
export default function NewGroupDialog({ onClose }: { onClose(): void }) {
  const services = useServices();
  const [name, setName] = useState('');
  const [query, setQuery] = useState('');
  const [members, setMembers] = useState<User[]>([]);
  const [busy, setBusy] = useState(false);
  const [attempted, setAttempted] = useState(false);
  const { results, status, error } = useUserSearch(query);

  const nameError = attempted && !name.trim() ? 'Give the group a name.' : name.trim().length > NAME_MAX ? `At most ${NAME_MAX} characters.` : null;
  const membersError = attempted && members.length === 0 ? 'Add at least one person.' : null;
  const isMember = (u: User) => members.some((m) => m.id === u.id);
  const toggle = (u: User) => setMembers((ms) => (ms.some((m) => m.id === u.id) ? ms.filter((m) => m.id !== u.id) : [...ms, u]));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setAttempted(true);
    if (!name.trim() || name.trim().length > NAME_MAX || members.length === 0) return;
    setBusy(true);
    try {
      await createGroup(services, name, members.map((m) => m.id));
      onClose();
    } catch (err) {
      toast.error('Could not create the group', { description: describeError(err) });
      setBusy(false);
    }
  };

  return (
    <Dialog title="New group" description="Name it and pick who is in it." onClose={onClose}>
      <form onSubmit={submit} className="flex min-h-0 flex-col gap-4" noValidate>
        <TextField label="Group name" value={name} onChange={(e) => setName(e.target.value)} error={nameError} autoFocus maxLength={NAME_MAX * 2} />
        {members.length > 0 && (
          <ul role="list" aria-label="Members to add" className="flex flex-wrap gap-1.5">
            {members.map((m) => (
              <li key={m.id}>
                <button
                  type="button"
                  onClick={() => toggle(m)}
                  aria-label={`Remove ${m.display_name}`}
                  className="glass-subtle inline-flex items-center gap-1.5 rounded-full py-1 pl-1 pr-2 text-sm hover:bg-white/70 dark:hover:bg-white/10"
                >
                  <Avatar name={m.display_name} seed={m.id} size="sm" className="size-6 text-[10px] ring-0" />
                  {m.display_name}
                  <X className="size-3.5 opacity-60" aria-hidden />
                </button>
              </li>
            ))}
          </ul>
        )}
        <TextField
          label="Add people"
          type="search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          placeholder="Name or username"
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          error={membersError}
        />
        <div className="-mx-2 -mt-2 max-h-56 min-h-16 overflow-y-auto">
          <SearchState status={status} error={error} count={results.length} query={query} />
          {results.length > 0 && (
            <ul role="list" aria-label="People" className="flex flex-col gap-0.5">
              {results.map((u) => (
                <li key={u.id}>
                  <PersonButton
                    user={u}
                    selected={isMember(u)}
                    label={`${u.display_name} (@${u.username})`}
                    onClick={() => toggle(u)}
                  />
                </li>
              ))}
            </ul>
          )}
        </div>
        <div className="flex justify-end gap-2">
          <Button variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={busy}>
            Create group
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
